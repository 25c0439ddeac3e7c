// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package sampler

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/carbonrun/carbonrun/internal/units"
)

// scriptedSource returns a fixed sequence of cumulative energies, one entry
// per Read, for each of its components.
type scriptedSource struct {
	comps  []Component
	energy [][]units.Joules // per read, per component
	reads  int
	err    error
	// powerPerRead, when set, gives the power of each read instead of the
	// energy step, which assumes 1 s rounds.
	powerPerRead []units.Watts
}

func (s *scriptedSource) Components() []Component { return s.comps }

func (s *scriptedSource) Read(now time.Time, dst []Reading) error {
	if s.err != nil {
		return s.err
	}
	row := s.energy[min(s.reads, len(s.energy)-1)]
	for i := range dst {
		prev := dst[i].Energy
		dst[i].Energy = row[i]
		dst[i].Power = units.Watts(row[i] - prev) // 1 s rounds in these tests
		if s.powerPerRead != nil {
			dst[i].Power = s.powerPerRead[min(s.reads, len(s.powerPerRead)-1)]
		}
	}
	s.reads++
	return nil
}

func (s *scriptedSource) Close() error { return nil }

type fixedShare float64

func (f fixedShare) CPUShare(time.Time) (float64, error) { return float64(f), nil }

func TestSamplerTotals(t *testing.T) {
	gpu := &scriptedSource{
		comps:  []Component{{Kind: KindGPU, Name: "gpu0", Method: MethodEnergyCounter}},
		energy: [][]units.Joules{{1000}, {1300}, {1600}},
	}
	cpu := &scriptedSource{
		comps:  []Component{{Kind: KindCPU, Name: "package-0", Method: MethodEnergyCounter}},
		energy: [][]units.Joules{{0}, {50}, {150}},
	}
	s := New([]Source{gpu, cpu}, nil, NewWarnings(nil))
	t0 := time.Unix(0, 0)
	for i := 0; i < 3; i++ {
		s.Sample(t0.Add(time.Duration(i) * time.Second))
	}
	totals := s.Totals()
	if got := totals[0].Energy; got != 600 {
		t.Errorf("gpu energy = %v J, want 600 (counter difference, baseline excluded)", got)
	}
	if got := totals[1].Energy; got != 150 {
		t.Errorf("cpu energy = %v J, want 150", got)
	}
	if got := totals[1].MaxPower; got != 100 {
		t.Errorf("cpu max power = %v W, want 100", got)
	}
	if got := s.Elapsed(); got != 2*time.Second {
		t.Errorf("elapsed = %v, want 2s", got)
	}
}

func TestSamplerProcessShareClamped_CR32(t *testing.T) {
	// 52 W machine power; a share reader that double counts threads can
	// return more than 1, which must not attribute more than the machine.
	tests := []struct {
		name  string
		share float64
		want  units.Joules
	}{
		{"half", 0.5, 26},
		{"over one", 1.7, 52},
		{"negative", -0.2, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cpu := &scriptedSource{
				comps:  []Component{{Kind: KindCPU, Name: "package-0"}},
				energy: [][]units.Joules{{0}, {52}},
			}
			gpu := &scriptedSource{
				comps:  []Component{{Kind: KindGPU, Name: "gpu0"}},
				energy: [][]units.Joules{{0}, {300}},
			}
			s := New([]Source{cpu, gpu}, fixedShare(tc.share), nil)
			s.Sample(time.Unix(0, 0))
			totals := s.Sample(time.Unix(1, 0))
			if got := totals[0].Energy; math.Abs(float64(got-tc.want)) > 1e-9 {
				t.Errorf("attributed cpu energy = %v J, want %v", got, tc.want)
			}
			if got := totals[0].MachineEnergy; got != 52 {
				t.Errorf("machine cpu energy = %v J, want 52", got)
			}
			if got := totals[0].Power; got > 52 {
				t.Errorf("attributed cpu power = %v W, want <= 52", got)
			}
			if got := totals[1].Energy; got != 300 {
				t.Errorf("gpu energy = %v J, want 300 (share applies to CPU only)", got)
			}
		})
	}
}

func TestSamplerReadErrorKeepsEnergy(t *testing.T) {
	src := &scriptedSource{
		comps:  []Component{{Kind: KindCPU, Name: "package-0"}},
		energy: [][]units.Joules{{0}, {10}},
	}
	warn := NewWarnings(nil)
	s := New([]Source{src}, nil, warn)
	s.Sample(time.Unix(0, 0))
	s.Sample(time.Unix(1, 0))
	src.err = errors.New("device lost")
	totals := s.Sample(time.Unix(2, 0))
	if got := totals[0].Energy; got != 10 {
		t.Errorf("energy after failed read = %v J, want 10", got)
	}
	if got := len(warn.List()); got != 1 {
		t.Errorf("warnings = %d, want 1", got)
	}
}

func TestWarningsDeduplicate(t *testing.T) {
	w := NewWarnings(nil)
	for i := 0; i < 100; i++ {
		w.Add("rapl zone intel-rapl:0:2 unreadable")
	}
	if got := len(w.List()); got != 1 {
		t.Errorf("warnings = %d, want 1", got)
	}
}

func BenchmarkSamplerRound(b *testing.B) {
	comps := make([]Component, 12)
	row := make([]units.Joules, 12)
	src := &scriptedSource{comps: comps, energy: [][]units.Joules{row}}
	s := New([]Source{src}, nil, nil)
	now := time.Unix(0, 0)
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		s.Sample(now)
	}
}

func TestShortLastRoundDoesNotSetMaxPower(t *testing.T) {
	// 50 W for two 1 s rounds, then a 1 ms round whose counter step reads
	// as 300 W.
	src := &scriptedSource{
		comps:  []Component{{Kind: KindCPU, Name: "package-0"}},
		energy: [][]units.Joules{{0}, {50}, {100}, {100.3}},
	}
	src.powerPerRead = []units.Watts{0, 50, 50, 300}
	s := New([]Source{src}, nil, nil)
	t0 := time.Unix(0, 0)
	s.Sample(t0)
	s.Sample(t0.Add(time.Second))
	s.Sample(t0.Add(2 * time.Second))
	totals := s.Sample(t0.Add(2*time.Second + time.Millisecond))
	if got := totals[0].MaxPower; got != 50 {
		t.Errorf("max power = %v W, want 50 (the 1 ms round is left out)", got)
	}
	if got := totals[0].Energy; math.Abs(float64(got)-100.3) > 1e-9 {
		t.Errorf("energy = %v J, want 100.3 (the short round still counts)", got)
	}
}
