// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package cpu

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/shirou/gopsutil/v4/mem"

	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/sampler"
)

// bytesPerGB is the gigabyte of memory sizes: modules and MemTotal are
// counted in powers of two, so a "64 GB" machine has 64 x 2^30 bytes.
const bytesPerGB = 1 << 30

// MemoryOptions configures a MemorySource.
type MemoryOptions struct {
	// WattsPerGB is the power drawn by one gigabyte (2^30 bytes) of memory.
	WattsPerGB float64
	// Source names where WattsPerGB comes from, for the component's Detail.
	Source string
	// ProcfsRoot is the procfs mount point, /proc when empty. Only Linux
	// reads it.
	ProcfsRoot string
}

// MemorySource estimates memory power as installed memory times a power per
// gigabyte. It has one component of kind sampler.KindRAM, named "ram", and its
// power is constant. A MemorySource is not safe for concurrent use.
type MemorySource struct {
	component sampler.Component
	power     units.Watts

	started bool
	last    time.Time
	energy  units.Joules
}

var _ sampler.Source = (*MemorySource)(nil)

// NewMemorySource reads the installed memory (MemTotal in
// <ProcfsRoot>/meminfo on Linux, the kernel's figure elsewhere) and returns a
// MemorySource.
func NewMemorySource(opts MemoryOptions) (*MemorySource, error) {
	if !(opts.WattsPerGB > 0) {
		return nil, fmt.Errorf("memory power %v W/GB is invalid: pass a positive power per gigabyte",
			opts.WattsPerGB)
	}

	vm, err := mem.VirtualMemoryWithContext(procfsContext(procfsOrDefault(opts.ProcfsRoot)))
	if err != nil {
		return nil, fmt.Errorf("reading installed memory: %w: %w", err, sampler.ErrUnavailable)
	}
	if vm.Total == 0 {
		return nil, fmt.Errorf("reading installed memory: total is 0 bytes: %w", sampler.ErrUnavailable)
	}

	gigabytes := float64(vm.Total) / bytesPerGB
	s := &MemorySource{
		component: sampler.Component{
			Kind:   sampler.KindRAM,
			Name:   "ram",
			Method: sampler.MethodMemoryEstimate,
			Detail: memoryDetail(opts.WattsPerGB, gigabytes, opts.Source),
		},
		power: units.Watts(opts.WattsPerGB * gigabytes),
	}
	return s, nil
}

func memoryDetail(wattsPerGB, gigabytes float64, source string) string {
	detail := strconv.FormatFloat(wattsPerGB, 'g', -1, 64) + " W/GB x " +
		strconv.FormatFloat(gigabytes, 'f', 1, 64) + " GB installed memory"
	if source != "" {
		detail += " (" + source + ")"
	}
	return detail
}

// Components returns the single "ram" component.
func (s *MemorySource) Components() []sampler.Component {
	return []sampler.Component{s.component}
}

// Power returns the constant estimated memory power.
func (s *MemorySource) Power() units.Watts { return s.power }

// Read integrates the constant power up to now. The first call starts the
// clock with zero energy, and a now earlier than the previous one adds nothing.
func (s *MemorySource) Read(now time.Time, dst []sampler.Reading) error {
	if len(dst) < 1 {
		return errors.New("reading memory source: reading buffer is empty, want 1 slot")
	}

	switch {
	case !s.started:
		s.started, s.last = true, now
	case now.After(s.last):
		s.energy += s.power.Over(now.Sub(s.last))
		s.last = now
	}

	dst[0] = sampler.Reading{Energy: s.energy, Power: s.power}
	return nil
}

// Close returns nil because the source holds no open files.
func (s *MemorySource) Close() error { return nil }
