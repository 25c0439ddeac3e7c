// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package sampler

import (
	"errors"
	"time"

	"github.com/carbonrun/carbonrun/internal/units"
)

// ErrUnavailable reports that a source has nothing to read on this machine:
// no powercap tree, no NVML library, no GPU, or no permission. Callers fall
// back to an estimate and record that in the report, so it is not a failure
// of the run.
var ErrUnavailable = errors.New("energy source unavailable")

// ErrNotSupported reports that a device does not support a reading, such as a
// GPU without the NVML total-energy counter.
var ErrNotSupported = errors.New("reading not supported by device")

// Kind is the hardware class of a component.
type Kind string

// Component kinds, as they appear in reports.
const (
	KindGPU  Kind = "gpu"
	KindCPU  Kind = "cpu"
	KindDRAM Kind = "dram" // measured by a RAPL dram zone
	KindRAM  Kind = "ram"  // estimated from installed memory
)

// Method names how a component's energy was obtained.
type Method string

// Methods from most to least direct.
const (
	// MethodEnergyCounter is the difference of a hardware energy counter:
	// RAPL energy_uj or NVML total energy consumption.
	MethodEnergyCounter Method = "energy_counter"
	// MethodPowerIntegration integrates power samples with the trapezoid
	// rule on the monotonic clock.
	MethodPowerIntegration Method = "power_integration"
	// MethodTDPEstimate is CPU utilisation times a TDP from the hardware
	// catalog or from --cpu-tdp.
	MethodTDPEstimate Method = "tdp_estimate"
	// MethodTDPDefault is CPU utilisation times a documented default TDP per
	// core, used when the CPU model is not in the catalog.
	MethodTDPDefault Method = "tdp_default"
	// MethodMemoryEstimate is installed memory times a power per gigabyte.
	MethodMemoryEstimate Method = "memory_estimate"
	// MethodAnalytical is the estimator's FLOPs and TDP model.
	MethodAnalytical Method = "analytical_model"
)

// Measured reports whether m comes from a hardware reading rather than a model.
func (m Method) Measured() bool {
	return m == MethodEnergyCounter || m == MethodPowerIntegration
}

// Component describes one part of the machine whose energy is tracked.
type Component struct {
	Kind   Kind
	Name   string // device or zone name, such as "NVIDIA H100 80GB HBM3" or "package-0"
	Index  int    // device index for GPUs, package number for CPU zones
	UUID   string // GPU UUID; empty for other kinds
	Method Method
	// Detail names where the figure comes from in a few words: the counter
	// file, the TDP and its source, or a MIG slice share.
	Detail string
}

// Reading is the state of one component after a read.
type Reading struct {
	// Energy is the cumulative energy since the source was opened. It never
	// decreases: sources absorb counter wraparound and resets.
	Energy units.Joules
	// Power is the latest power: an instantaneous sample, or the mean over
	// the last interval for counter-only sources.
	Power units.Watts
}

// Source reads one family of hardware.
type Source interface {
	// Components lists what Read fills, in order. The list is fixed once the
	// source is opened.
	Components() []Component
	// Read brings every component up to time now, which must carry a
	// monotonic clock reading, and stores the result in dst, whose length is
	// len(Components()). A component that cannot be read keeps its previous
	// reading; the source records a warning instead of failing the round.
	Read(now time.Time, dst []Reading) error
	// Close releases the source's handles.
	Close() error
}
