// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package cpu

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/sampler"
)

// fakeTimes returns busy and total CPU time that a test sets between reads.
type fakeTimes struct {
	busy, total time.Duration
	err         error
	calls       int
}

func (f *fakeTimes) read() (time.Duration, time.Duration, error) {
	f.calls++
	return f.busy, f.total, f.err
}

// advance adds busy and idle time spread over cpus CPUs for elapsed wall time.
func (f *fakeTimes) advance(elapsed time.Duration, cpus int, utilisation float64) {
	total := elapsed * time.Duration(cpus)
	f.total += total
	f.busy += time.Duration(float64(total) * utilisation)
}

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func newTestTDPSource(t *testing.T, tdp units.Watts, times *fakeTimes) *TDPSource {
	t.Helper()
	src, err := NewTDPSource(TDPOptions{
		TDP:    tdp,
		Method: sampler.MethodTDPEstimate,
		Detail: "from --cpu-tdp",
		Times:  times.read,
	})
	mustNoError(t, "NewTDPSource", err)
	return src
}

func TestTDPSourceIntegratesUtilisation(t *testing.T) {
	tests := []struct {
		name        string
		tdp         units.Watts
		utilisation []float64 // one per 10 s interval
		wantJoules  units.Joules
		wantWatts   units.Watts
	}{
		{name: "idle", tdp: 100, utilisation: []float64{0, 0}, wantJoules: 0, wantWatts: 0},
		{name: "full", tdp: 100, utilisation: []float64{1, 1}, wantJoules: 2000, wantWatts: 100},
		{name: "varying", tdp: 200, utilisation: []float64{0.25, 0.75}, wantJoules: 2000, wantWatts: 150},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			times := &fakeTimes{busy: time.Hour, total: 8 * time.Hour}
			src := newTestTDPSource(t, tc.tdp, times)
			dst := make([]sampler.Reading, 1)

			now := epoch
			mustNoError(t, "first read", src.Read(now, dst))
			if dst[0].Energy != 0 {
				t.Errorf("energy after the first read = %v J, want 0", dst[0].Energy)
			}
			for _, u := range tc.utilisation {
				times.advance(10*time.Second, 8, u)
				now = now.Add(10 * time.Second)
				mustNoError(t, "read", src.Read(now, dst))
			}

			checkNear(t, "energy (J)", float64(dst[0].Energy), float64(tc.wantJoules), 1e-6)
			checkNear(t, "power (W)", float64(dst[0].Power), float64(tc.wantWatts), 1e-9)
		})
	}
}

func TestTDPSourceComponent(t *testing.T) {
	src := newTestTDPSource(t, 65, &fakeTimes{})

	want := []sampler.Component{{
		Kind:   sampler.KindCPU,
		Name:   "cpu",
		Method: sampler.MethodTDPEstimate,
		Detail: "CPU utilisation x 65 W TDP (from --cpu-tdp)",
	}}
	if diff := cmp.Diff(want, src.Components()); diff != "" {
		t.Errorf("components mismatch (-want +got):\n%s", diff)
	}
	if err := src.Close(); err != nil {
		t.Errorf("Close() = %v, want nil", err)
	}
}

func TestTDPSourceRejectsInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		opts TDPOptions
	}{
		{name: "zero tdp", opts: TDPOptions{Method: sampler.MethodTDPEstimate}},
		{name: "negative tdp", opts: TDPOptions{TDP: -5, Method: sampler.MethodTDPEstimate}},
		{name: "no method", opts: TDPOptions{TDP: 65}},
		{name: "measured method", opts: TDPOptions{TDP: 65, Method: sampler.MethodEnergyCounter}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Times = (&fakeTimes{}).read
			if _, err := NewTDPSource(tc.opts); err == nil {
				t.Errorf("NewTDPSource(%+v) returned no error, want one", tc.opts)
			}
		})
	}
}

func TestTDPSourceReadErrorKeepsEnergy(t *testing.T) {
	times := &fakeTimes{}
	src := newTestTDPSource(t, 100, times)
	dst := make([]sampler.Reading, 1)
	mustNoError(t, "first read", src.Read(epoch, dst))

	times.advance(10*time.Second, 4, 0.5)
	mustNoError(t, "second read", src.Read(epoch.Add(10*time.Second), dst))
	checkNear(t, "energy after 10 s (J)", float64(dst[0].Energy), 500, 1e-6)

	// The counters cannot be read for one round, so the reading stays.
	times.advance(10*time.Second, 4, 0.5)
	times.err = errors.New("permission denied")
	if err := src.Read(epoch.Add(20*time.Second), dst); err == nil {
		t.Errorf("Read with a failing counter reader returned no error, want one")
	}
	checkNear(t, "energy after a failed read (J)", float64(dst[0].Energy), 500, 1e-6)

	// The next good read covers the missed interval too.
	times.err = nil
	times.advance(10*time.Second, 4, 0.5)
	mustNoError(t, "read after recovery", src.Read(epoch.Add(30*time.Second), dst))
	checkNear(t, "energy after 30 s (J)", float64(dst[0].Energy), 1500, 1e-6)
}

func TestTDPSourceEnergyNeverDecreases(t *testing.T) {
	times := &fakeTimes{busy: 50 * time.Second, total: 100 * time.Second}
	src := newTestTDPSource(t, 100, times)
	dst := make([]sampler.Reading, 1)
	mustNoError(t, "first read", src.Read(epoch, dst))

	steps := []struct {
		name         string
		elapsed      time.Duration
		busy, total  time.Duration // added to the counters
		wantJoules   units.Joules
		wantPowerMax units.Watts
	}{
		{name: "half busy", elapsed: 10 * time.Second, busy: 20 * time.Second,
			total: 40 * time.Second, wantJoules: 500, wantPowerMax: 50},
		{name: "no tick elapsed", elapsed: 5 * time.Millisecond,
			wantJoules: 500, wantPowerMax: 50},
		// The read without a tick kept its baseline, so this interval
		// is 10.005 s long: 100 W x 10.005 s.
		{name: "busy above total", elapsed: 10 * time.Second, busy: 80 * time.Second,
			total: 40 * time.Second, wantJoules: 1500.5, wantPowerMax: 100},
		// Bridged with the previous 100 W for 10 s.
		{name: "cpu went offline", elapsed: 10 * time.Second, busy: -30 * time.Second,
			total: -60 * time.Second, wantJoules: 2500.5, wantPowerMax: 100},
		{name: "clock went back", elapsed: -time.Second, busy: time.Second,
			total: 2 * time.Second, wantJoules: 2500.5, wantPowerMax: 100},
	}
	now := epoch
	for _, step := range steps {
		now = now.Add(step.elapsed)
		times.busy += step.busy
		times.total += step.total
		before := dst[0].Energy
		mustNoError(t, step.name, src.Read(now, dst))

		if dst[0].Energy < before {
			t.Errorf("%s: energy went from %v J down to %v J", step.name, before, dst[0].Energy)
		}
		checkNear(t, step.name+": energy (J)", float64(dst[0].Energy), float64(step.wantJoules), 1e-6)
		if dst[0].Power > step.wantPowerMax {
			t.Errorf("%s: power = %v W, want at most %v W", step.name, dst[0].Power, step.wantPowerMax)
		}
	}
}

func TestTDPSourceRejectsEmptyBuffer(t *testing.T) {
	src := newTestTDPSource(t, 65, &fakeTimes{})
	if err := src.Read(epoch, nil); err == nil {
		t.Errorf("Read into an empty buffer returned no error, want one")
	}
}

// TestTDPReadDoesNotSleep_CR22 reads the source 1000 times: with a fake
// reader, a read that waits to measure utilisation (as a blocking
// cpu.Percent(interval) call does) would take minutes instead of
// microseconds and hit the test timeout.
func TestTDPReadDoesNotSleep_CR22(t *testing.T) {
	times := &fakeTimes{}
	src := newTestTDPSource(t, 100, times)
	dst := make([]sampler.Reading, 1)

	now := epoch
	for range 1000 {
		times.advance(time.Second, 4, 0.25)
		now = now.Add(time.Second)
		mustNoError(t, "read", src.Read(now, dst))
	}

	// One counter read per Read, plus one when the source opens.
	if times.calls != 1001 {
		t.Errorf("counter reads = %d, want 1001", times.calls)
	}
	// The first Read starts the clock, so 999 intervals of 1 s at 25 W.
	checkNear(t, "energy (J)", float64(dst[0].Energy), 999*25, 1e-6)
}

func BenchmarkTDPRead(b *testing.B) {
	b.ReportAllocs()
	times := &fakeTimes{}
	opts := TDPOptions{TDP: 100, Method: sampler.MethodTDPEstimate, Times: times.read}
	src, err := NewTDPSource(opts)
	mustNoError(b, "NewTDPSource", err)
	dst := make([]sampler.Reading, 1)
	now := epoch

	for b.Loop() {
		times.advance(time.Second, 8, 0.5)
		now = now.Add(time.Second)
		if err := src.Read(now, dst); err != nil {
			b.Fatal(err)
		}
	}
}
