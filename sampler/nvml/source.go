// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux && cgo

package nvml

import (
	"fmt"
	"os"
	"sync"
	"time"

	gonvml "github.com/NVIDIA/go-nvml/pkg/nvml"
	"go.uber.org/zap"

	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/sampler"
)

var _ sampler.Source = (*Source)(nil)

// Source is a sampler.Source over the NVIDIA GPUs that the run uses. Read
// and Close are driven by one goroutine, but ProcessShares may run on another.
type Source struct {
	lib        Library
	log        *zap.Logger
	warn       *sampler.Warnings
	scope      string
	note       string
	boards     []board
	components []sampler.Component
	closed     bool

	sharesMu sync.Mutex
	lastSeen map[int]uint64 // per board position: newest utilization sample, in µs
}

// board is one measured GPU, or the selected MIG instances of one GPU.
type board struct {
	dev       Device
	index     int
	uuid      string
	name      string
	method    sampler.Method
	readPower bool    // GetPowerUsage is supported
	share     float64 // fraction of the board energy attributed, 1 unless MIG
	detail    string
	meter     meter
	power     units.Watts // latest board power
	lost      bool        // set after a failed energy read, which ends reading the board
	// powerErr is a failed power read of a counter board in the last round,
	// reported once as a warning; the board is still read.
	powerErr error
}

// Open loads NVML and selects the GPUs to measure from the environment. It
// returns an *UnavailableError, which matches sampler.ErrUnavailable, when
// NVML or every GPU is missing. When GPUs exist but none is selected, such as
// with CUDA_VISIBLE_DEVICES=-1, it returns a Source without components whose
// Scope is ScopeNone and whose Note gives the reason.
func Open(opts Options) (*Source, error) {
	log := opts.Log
	if log == nil {
		log = zap.NewNop()
	}
	log = log.With(zap.String("component", "nvml"))
	warn := opts.Warn
	if warn == nil {
		warn = sampler.NewWarnings(log)
	}
	env := opts.Env
	if env == nil {
		env = os.LookupEnv
	}

	lib := opts.Lib
	if lib == nil {
		var err error
		if lib, err = defaultLibrary(); err != nil {
			return nil, err
		}
	}
	if err := initLibrary(lib); err != nil {
		return nil, err
	}

	s, err := open(lib, env, log, warn)
	if err != nil {
		// The open error explains the failure, so a shutdown error is dropped.
		_ = lib.Shutdown()
		return nil, err
	}
	return s, nil
}

func open(lib Library, env func(string) (string, bool), log *zap.Logger,
	warn *sampler.Warnings,
) (*Source, error) {
	gpus, handles, err := enumerate(lib, wantsMIG(env), warn)
	if err != nil {
		return nil, err
	}

	res := selectDevices(gpus, env)
	for _, w := range res.warnings {
		warn.Add(w)
	}

	s := &Source{
		lib:      lib,
		log:      log,
		warn:     warn,
		scope:    res.scope,
		note:     res.note,
		lastSeen: make(map[int]uint64),
	}
	for _, sel := range res.sel {
		if b, ok := s.newBoard(handles[sel.gpu], gpus[sel.gpu], sel); ok {
			s.boards = append(s.boards, b)
		}
	}
	if len(s.boards) == 0 && s.scope != ScopeNone {
		s.scope, s.note = ScopeNone, "no selected GPU reports energy or power"
	}

	s.components = make([]sampler.Component, 0, len(s.boards))
	for i := range s.boards {
		c := s.boards[i].component()
		s.components = append(s.components, c)
		log.Info("measuring GPU", zap.Int("gpu_index", c.Index), zap.String("gpu_uuid", c.UUID),
			zap.String("gpu_name", c.Name), zap.String("method", string(c.Method)),
			zap.String("detail", c.Detail))
	}
	log.Info("nvml source opened", zap.Int("gpus_found", len(gpus)),
		zap.Int("gpus_measured", len(s.boards)), zap.String("gpu_scope", s.scope),
		zap.String("note", s.note))
	return s, nil
}

// enumerate lists every GPU that NVML reports, with its MIG instances when
// withMIG is set. A GPU whose handle cannot be read stays in the list, so
// that positions match NVML indices, with a nil handle.
func enumerate(lib Library, withMIG bool, warn *sampler.Warnings) ([]gpuRecord, []Device, error) {
	count, ret := lib.DeviceGetCount()
	if ret != gonvml.SUCCESS {
		return nil, nil, &UnavailableError{Reason: "NVML device count failed", Err: returnError(ret)}
	}
	if count == 0 {
		return nil, nil, &UnavailableError{Reason: "no NVIDIA GPU found"}
	}

	gpus := make([]gpuRecord, count)
	handles := make([]Device, count)
	for i := range count {
		gpus[i].index = i
		handle, ret := lib.DeviceGetHandleByIndex(i)
		if ret != gonvml.SUCCESS {
			warn.Add(fmt.Sprintf("GPU %d cannot be opened and is not measured", i),
				zap.Error(deviceError(i, "handle", ret)))
			continue
		}

		handles[i] = handle
		if gpus[i].uuid, ret = handle.GetUUID(); ret != gonvml.SUCCESS {
			gpus[i].uuid = ""
		}
		if gpus[i].name, ret = handle.GetName(); ret != gonvml.SUCCESS {
			gpus[i].name = ""
		}
		if withMIG {
			gpus[i].migs, gpus[i].totalSlices = listMIG(handle)
		}
	}
	return gpus, handles, nil
}

// newBoard probes which readings a selected GPU supports and returns false
// when it supports neither the energy counter nor power.
func (s *Source) newBoard(dev Device, g gpuRecord, sel selection) (board, bool) {
	if dev == nil {
		return board{}, false
	}

	b := board{dev: dev, index: g.index, uuid: g.uuid, name: g.name, share: 1}
	_, energyRet := dev.GetTotalEnergyConsumption()
	_, powerRet := dev.GetPowerUsage()
	b.readPower = powerRet == gonvml.SUCCESS
	switch {
	case energyRet == gonvml.SUCCESS:
		b.method = sampler.MethodEnergyCounter
		b.detail = "NVML total energy counter"
	case b.readPower:
		// Before Volta, and on many vGPUs, NVML has no energy counter.
		b.method = sampler.MethodPowerIntegration
		b.detail = "NVML power samples, trapezoid rule"
	default:
		s.warn.Add(fmt.Sprintf("GPU %d (%s) reports neither total energy nor power, "+
			"so it is not measured", g.index, g.uuid),
			zap.NamedError("energy_error", deviceError(g.index, "total energy", energyRet)),
			zap.NamedError("power_error", deviceError(g.index, "power", powerRet)))
		return board{}, false
	}

	if !sel.whole {
		b.share, b.detail = sliceShare(sel, g.index, g.totalSlices)
	}
	return b, true
}

// component describes the board for sampler.Source.Components.
func (b *board) component() sampler.Component {
	return sampler.Component{
		Kind:   sampler.KindGPU,
		Name:   b.name,
		Index:  b.index,
		UUID:   b.uuid,
		Method: b.method,
		Detail: b.detail,
	}
}

// Components lists the measured GPUs in the order CUDA numbers them.
func (s *Source) Components() []sampler.Component { return s.components }

// Scope returns which GPUs the source measures: ScopeAll,
// ScopeVisibleDevices, ScopeLocalRank or ScopeNone.
func (s *Source) Scope() string { return s.scope }

// Note returns why the source measures fewer GPUs than the machine has, or
// none. It is empty for ScopeAll.
func (s *Source) Note() string { return s.note }

// Devices lists the measured GPUs.
func (s *Source) Devices() []DeviceInfo {
	devices := make([]DeviceInfo, len(s.boards))
	for i, b := range s.boards {
		devices[i] = DeviceInfo{Index: b.index, UUID: b.uuid, Name: b.name}
	}
	return devices
}

// Read reads every GPU at time now. A GPU whose read fails, for example
// with ERROR_GPU_IS_LOST after it fell off the bus, keeps the energy measured
// so far, reports zero power and is not read again. The source records one
// warning naming it. Read returns an error only when dst has the wrong length.
func (s *Source) Read(now time.Time, dst []sampler.Reading) error {
	if len(dst) != len(s.boards) {
		return fmt.Errorf("nvml read: %d readings for %d GPUs", len(dst), len(s.boards))
	}

	for i := range s.boards {
		b := &s.boards[i]
		if !b.lost {
			if err := b.read(now); err != nil {
				s.lose(b, err)
			}
			if b.powerErr != nil {
				s.warn.Add(fmt.Sprintf("GPU %d (%s) power reading failed, so its power is the "+
					"interval mean from the energy counter: %v", b.index, b.uuid, b.powerErr),
					zap.Int("gpu_index", b.index), zap.String("gpu_uuid", b.uuid), zap.Error(b.powerErr))
				b.powerErr = nil
			}
		}
		dst[i] = b.reading()
	}
	return nil
}

func (b *board) read(now time.Time) error {
	if b.method == sampler.MethodPowerIntegration {
		milliwatts, ret := b.dev.GetPowerUsage()
		if ret != gonvml.SUCCESS {
			return deviceError(b.index, "power", ret)
		}
		b.power = units.Milliwatts(milliwatts)
		b.meter.addPower(now, b.power)
		return nil
	}

	millijoules, ret := b.dev.GetTotalEnergyConsumption()
	if ret != gonvml.SUCCESS {
		return deviceError(b.index, "total energy", ret)
	}
	b.meter.addCounter(now, millijoules)
	b.power = b.meter.intervalPower
	if b.readPower {
		// The power reading only fills the live power figure; the energy
		// comes from the counter, so a failed power read costs that figure
		// for this round (the interval mean replaces it), not the board.
		milliwatts, ret := b.dev.GetPowerUsage()
		if ret == gonvml.SUCCESS {
			b.power = units.Milliwatts(milliwatts)
		} else {
			b.powerErr = deviceError(b.index, "power", ret)
		}
	}
	return nil
}

// reading returns the board's share of its energy and power.
func (b *board) reading() sampler.Reading {
	energy := b.meter.integrated
	if b.method == sampler.MethodEnergyCounter {
		energy = b.meter.counterEnergy()
	}
	return sampler.Reading{
		Energy: energy * units.Joules(b.share),
		Power:  b.power * units.Watts(b.share),
	}
}

func (s *Source) lose(b *board, err error) {
	b.lost = true
	b.power = 0
	s.warn.Add(fmt.Sprintf("GPU %d (%s) failed a read, so its energy so far is kept "+
		"and it is no longer read: %v", b.index, b.uuid, err),
		zap.Int("gpu_index", b.index), zap.String("gpu_uuid", b.uuid), zap.Error(err))
}

// Close shuts NVML down. Calling it again does nothing.
func (s *Source) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if ret := s.lib.Shutdown(); ret != gonvml.SUCCESS {
		return fmt.Errorf("nvml shutdown: %w", returnError(ret))
	}
	return nil
}
