// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Package machine opens the energy sources of one host in order of
// directness: NVML for GPUs; RAPL for CPU packages and DRAM, else CPU
// utilisation x TDP; and installed memory x power per GB where no DRAM zone
// is measured. carbon-run and carbon-agent both start from here, so a job
// and a node are measured the same way.
package machine

import (
	"errors"
	"fmt"
	"slices"

	"go.uber.org/zap"

	"github.com/carbonrun/carbonrun/internal/hardware"
	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/report"
	"github.com/carbonrun/carbonrun/sampler"
	"github.com/carbonrun/carbonrun/sampler/cpu"
	"github.com/carbonrun/carbonrun/sampler/nvml"
	"github.com/carbonrun/carbonrun/sampler/rapl"
)

// Options configures Open: where to read and how to report.
type Options struct {
	SysfsRoot  string
	ProcfsRoot string
	// CPUTDP is the machine's CPU power at full load from --cpu-tdp; zero
	// means the hardware catalog, then the default per core.
	CPUTDP units.Watts
	// Env looks up CUDA_VISIBLE_DEVICES and LOCAL_RANK; nil uses the
	// process environment.
	Env  func(string) (string, bool)
	Log  *zap.Logger
	Warn *sampler.Warnings
	// NVML replaces the system's NVML library, for tests.
	NVML nvml.Library
	// RAPLOpenFile replaces os.Open for powercap files, for tests that
	// inject permission errors.
	RAPLOpenFile func(path string) (rapl.File, error)
}

// Machine is the set of opened sources and the report fields that describe them.
type Machine struct {
	Sources []sampler.Source
	// GPU is the NVML source, nil when no GPU is measured.
	GPU *nvml.Source
	// RAPL is the powercap source, nil when CPU energy is estimated.
	RAPL           *rapl.Source
	GPUScope       string
	GPUNote        string
	CPUDomains     []string
	IgnoredDomains []string
	// DataSources gives the provenance of every estimate's constants.
	DataSources []report.DataSource
}

// Open opens every source the host offers. It does not fail: a missing
// GPU, library or counter is logged and replaced by the next method down,
// and the report names the method each component used.
func Open(opts Options) *Machine {
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	if opts.Warn == nil {
		opts.Warn = sampler.NewWarnings(opts.Log)
	}
	m := &Machine{}
	m.openGPUs(opts)
	m.openCPU(opts)
	m.openMemory(opts)
	return m
}

// Close closes every source.
func (m *Machine) Close() error {
	var errs []error
	for _, s := range m.Sources {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

func (m *Machine) openGPUs(opts Options) {
	src, err := nvml.Open(nvml.Options{Lib: opts.NVML, Env: opts.Env, Log: opts.Log, Warn: opts.Warn})
	if err != nil {
		m.GPUScope = nvml.ScopeNone
		m.GPUNote = err.Error()
		opts.Log.Info("no GPU measured", zap.String("reason", err.Error()))
		return
	}
	m.GPU = src
	m.GPUScope, m.GPUNote = src.Scope(), src.Note()
	m.Sources = append(m.Sources, src)
	for _, d := range src.Devices() {
		opts.Log.Info("measuring GPU", zap.Int("gpu", d.Index), zap.String("gpu_uuid", d.UUID),
			zap.String("name", d.Name))
	}
}

func (m *Machine) openCPU(opts Options) {
	src, err := rapl.Open(rapl.Options{SysfsRoot: opts.SysfsRoot, Log: opts.Log, Warn: opts.Warn,
		OpenFile: opts.RAPLOpenFile})
	if err == nil {
		m.RAPL = src
		m.Sources = append(m.Sources, src)
		m.CPUDomains, m.IgnoredDomains = src.Domains(), src.Ignored()
		opts.Log.Info("measuring CPU with RAPL", zap.Strings("domains", m.CPUDomains))
		return
	}
	// The RAPL source has already warned about the unreadable file and its
	// remedy; this warning says what the report uses instead.
	tdp, method, detail, row := cpuTDP(opts)
	opts.Warn.Add(fmt.Sprintf("CPU energy is estimated as utilisation x TDP (%s) because no RAPL "+
		"counter could be read: %v", detail, err))
	est, err := cpu.NewTDPSource(cpu.TDPOptions{ProcfsRoot: opts.ProcfsRoot, TDP: tdp,
		Method: method, Detail: detail})
	if err != nil {
		opts.Warn.Add(fmt.Sprintf("CPU energy is not counted: %v", err))
		return
	}
	m.Sources = append(m.Sources, est)
	m.DataSources = append(m.DataSources, row)
}

func (m *Machine) openMemory(opts Options) {
	if slices.Contains(m.CPUDomains, "psys") {
		return // psys covers the whole platform, memory included
	}
	for _, s := range m.Sources {
		for _, c := range s.Components() {
			if c.Kind == sampler.KindDRAM {
				return // measured by RAPL; an estimate would count it twice
			}
		}
	}
	perGB, source := hardware.MemoryWattsPerGB()
	src, err := cpu.NewMemorySource(cpu.MemoryOptions{WattsPerGB: perGB, Source: source,
		ProcfsRoot: opts.ProcfsRoot})
	if err != nil {
		opts.Warn.Add(fmt.Sprintf("memory energy is not counted: %v", err))
		return
	}
	m.Sources = append(m.Sources, src)
	m.DataSources = append(m.DataSources, report.DataSource{What: "memory power",
		Value: fmt.Sprintf("%.4g W/GB", perGB), Source: source})
}

// ProcessShare returns the CPU share of the process tree rooted at pid, for
// --tracking-mode process.
func ProcessShare(procfsRoot string, pid int) (sampler.Share, error) {
	return cpu.NewProcessShare(cpu.ShareOptions{ProcfsRoot: procfsRoot, PID: pid})
}
