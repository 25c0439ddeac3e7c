// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package sampler

import (
	"time"

	"go.uber.org/zap"

	"github.com/carbonrun/carbonrun/internal/units"
)

// Share is the fraction of the machine's CPU time that the tracked processes
// used since the previous call, for --tracking-mode process. It scales the
// CPU, DRAM and RAM components; GPUs are the run's whole.
type Share interface {
	// CPUShare returns a fraction in [0, 1] for the interval ending at now.
	CPUShare(now time.Time) (float64, error)
}

// Total is the running energy of one component.
type Total struct {
	Component
	// Energy is the energy attributed to the run: the machine energy, or
	// its CPU-time share in process mode.
	Energy units.Joules
	// MachineEnergy is the energy of the whole component, before attribution.
	MachineEnergy units.Joules
	// Delta is the attributed energy of the last round.
	Delta units.Joules
	// Power is the attributed power of the last round.
	Power units.Watts
	// MaxPower is the highest attributed power of any round.
	MaxPower units.Watts
}

// Sampler reads its sources once per round and keeps a Total per component.
// It is not safe for concurrent use; one goroutine drives it.
type Sampler struct {
	sources  []Source
	offsets  []int
	readings []Reading
	previous []units.Joules
	totals   []Total
	share    Share
	warn     *Warnings
	started  bool
	start    time.Time
	last     time.Time
	// longest is the maximum round duration so far, the nominal interval in practice.
	longest time.Duration
}

// New returns a Sampler over sources. share may be nil for machine mode.
func New(sources []Source, share Share, warn *Warnings) *Sampler {
	s := &Sampler{sources: sources, share: share, warn: warn}
	for _, src := range sources {
		s.offsets = append(s.offsets, len(s.totals))
		for _, c := range src.Components() {
			s.totals = append(s.totals, Total{Component: c})
		}
	}
	s.readings = make([]Reading, len(s.totals))
	s.previous = make([]units.Joules, len(s.totals))
	return s
}

// Sample runs one round at time now and returns the totals. The first call
// only records the baseline. The returned slice is owned by the Sampler and
// changes on the next call.
func (s *Sampler) Sample(now time.Time) []Total {
	s.readAll(now)

	if !s.started {
		s.started, s.start, s.last = true, now, now
		for i := range s.totals {
			s.previous[i] = s.readings[i].Energy
		}
		return s.totals
	}

	fraction := s.cpuShare(now)
	// A round much shorter than the others, such as the last one when the
	// command exits just after a tick, divides a counter's coarse steps by
	// a tiny time: its power is noise, so it does not set MaxPower.
	round := now.Sub(s.last)
	s.longest = max(s.longest, round)
	countsForMax := round*2 >= s.longest
	for i := range s.totals {
		t := &s.totals[i]
		delta := s.readings[i].Energy - s.previous[i]
		if delta < 0 {
			// Sources promise monotonic energy; guard the report anyway.
			delta = 0
		}
		s.previous[i] = s.readings[i].Energy

		// GPUs belong to the run whole; the host's CPU and memory are
		// shared with other processes, so they follow the CPU-time share.
		share := 1.0
		if t.Kind != KindGPU {
			share = fraction
		}
		t.MachineEnergy += delta
		t.Delta = delta * units.Joules(share)
		t.Energy += t.Delta
		t.Power = s.readings[i].Power * units.Watts(share)
		if countsForMax {
			t.MaxPower = max(t.MaxPower, t.Power)
		}
	}
	s.last = now
	return s.totals
}

// Totals returns the totals of the last round without reading again.
func (s *Sampler) Totals() []Total { return s.totals }

// Elapsed returns the time between the baseline round and the last round.
func (s *Sampler) Elapsed() time.Duration { return s.last.Sub(s.start) }

// Close closes every source.
func (s *Sampler) Close() error {
	var first error
	for _, src := range s.sources {
		if err := src.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (s *Sampler) readAll(now time.Time) {
	for i, src := range s.sources {
		n := len(src.Components())
		dst := s.readings[s.offsets[i] : s.offsets[i]+n]
		if err := src.Read(now, dst); err != nil && s.warn != nil {
			s.warn.Add("energy source read failed, keeping previous readings", zap.Error(err))
		}
	}
}

func (s *Sampler) cpuShare(now time.Time) float64 {
	if s.share == nil {
		return 1
	}
	f, err := s.share.CPUShare(now)
	if err != nil {
		if s.warn != nil {
			s.warn.Add("process CPU share unreadable, attributing the whole machine",
				zap.Error(err))
		}
		return 1
	}
	// Per-thread and per-process CPU times can be counted twice by a careless
	// reader; clamping keeps the attributed power within the machine's.
	return min(max(f, 0), 1)
}
