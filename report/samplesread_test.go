// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package report

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/sampler"
)

// writeSamples writes rounds of totals through Samples and returns the
// path of the finished samples.csv.
func writeSamples(t *testing.T, rounds [][]sampler.Total, interval time.Duration) string {
	t.Helper()
	dir := t.TempDir()
	samples, err := NewSamples(dir)
	if err != nil {
		t.Fatalf("NewSamples: %v", err)
	}
	for i, totals := range rounds {
		if err := samples.Add(time.Duration(i+1)*interval, totals); err != nil {
			t.Fatalf("Add round %d: %v", i, err)
		}
	}
	if err := samples.Finish(); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	return filepath.Join(dir, SamplesFile)
}

func gpuTotal(index int, powerWatts, energyJoules float64) sampler.Total {
	return sampler.Total{
		Component: sampler.Component{
			Kind: sampler.KindGPU, Name: `NVIDIA "H100", 80GB`, Index: index,
			Method: sampler.MethodEnergyCounter,
		},
		Power: units.Watts(powerWatts), Energy: units.Joules(energyJoules),
	}
}

func TestReadSamplesRoundTrip(t *testing.T) {
	cpu := func(power, energy float64) sampler.Total {
		return sampler.Total{
			Component: sampler.Component{Kind: sampler.KindCPU, Name: "package-0", Method: sampler.MethodTDPEstimate},
			Power:     units.Watts(power), Energy: units.Joules(energy),
		}
	}
	rounds := [][]sampler.Total{
		{gpuTotal(1, 300, 300), cpu(50.5, 50.5)},
		{gpuTotal(1, 310, 610), cpu(60, 110.5)},
		{gpuTotal(1, 320.25, 930.25), cpu(40, 150.5)},
	}
	path := writeSamples(t, rounds, time.Second)

	got, err := ReadSamples(path)

	if err != nil {
		t.Fatalf("ReadSamples: %v", err)
	}
	want := []Series{
		{Kind: "gpu", Name: `NVIDIA "H100", 80GB`, Index: 1, Method: "energy_counter", Points: []Point{
			{1, 300, 300}, {2, 310, 610}, {3, 320.25, 930.25},
		}},
		{Kind: "cpu", Name: "package-0", Index: 0, Method: "tdp_estimate", Points: []Point{
			{1, 50.5, 50.5}, {2, 60, 110.5}, {3, 40, 150.5},
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("series mismatch (-want +got):\n%s", diff)
	}
}

func TestReadSamplesHeaderOnly(t *testing.T) {
	path := writeSamples(t, nil, time.Second)

	got, err := ReadSamples(path)

	if err != nil {
		t.Fatalf("ReadSamples: %v", err)
	}
	if len(got) != 0 {
		t.Errorf("got %d series, want none", len(got))
	}
}

func TestReadSamplesLongRun(t *testing.T) {
	// A day at 10 s intervals: 8,640 rounds of a power that swings between
	// 100 and 400 W.
	const rounds = 8640
	var energy float64
	all := make([][]sampler.Total, rounds)
	for i := range all {
		power := 250 + 150*math.Sin(float64(i)/37)
		energy += power * 10
		all[i] = []sampler.Total{gpuTotal(0, power, energy)}
	}
	path := writeSamples(t, all, 10*time.Second)

	series, err := ReadSamples(path)

	if err != nil {
		t.Fatalf("ReadSamples: %v", err)
	}
	if len(series) != 1 {
		t.Fatalf("got %d series, want 1", len(series))
	}
	points := series[0].Points
	if len(points) > MaxPlotPoints {
		t.Errorf("got %d points, want at most %d", len(points), MaxPlotPoints)
	}
	if first := points[0].ElapsedSeconds; first != 10 {
		t.Errorf("first point at %g s, want 10 s", first)
	}
	if last := points[len(points)-1].ElapsedSeconds; last != rounds*10 {
		t.Errorf("last point at %g s, want %d s", last, rounds*10)
	}
	// The rows round power to 3 decimals, so compare with the file's own
	// cumulative energy rather than the exact sum.
	want := points[len(points)-1].CumulativeJoules - points[0].CumulativeJoules
	if got := stepEnergy(points); math.Abs(got-want) > 0.01*want {
		t.Errorf("plotted energy %g J, want %g J within 1%%", got, want)
	}
}

func TestReadSamplesInvalid(t *testing.T) {
	const header = "elapsed_seconds,kind,name,index,method,power_watts,interval_energy_joules," +
		"cumulative_energy_joules\n"
	const row = "1.000,gpu,H100,0,energy_counter,300.000,300.000000,300.000000\n"
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"empty file", "", "missing header line: the file is empty"},
		{"wrong header", "time,power\n1,2\n", `line 1: header "time,power" is not a samples.csv header`},
		{"too few fields", header + row + "2.000,gpu,H100\n", "record on line 3: wrong number of fields"},
		{"power not a number", header + row + "2.000,gpu,H100,0,energy_counter,lots,1,2\n",
			`line 3: invalid power_watts "lots": invalid syntax`},
		{"index not a number", header + "1.000,gpu,H100,x,energy_counter,1,1,1\n",
			`line 2: invalid index "x": invalid syntax`},
		{"negative elapsed", header + "-1.000,gpu,H100,0,energy_counter,1,1,1\n",
			`line 2: invalid elapsed_seconds "-1.000": want a finite number of at least 0`},
		{"NaN energy", header + "1.000,gpu,H100,0,energy_counter,1,1,NaN\n",
			`line 2: invalid cumulative_energy_joules "NaN"`},
		{"missing kind", header + "1.000,,H100,0,energy_counter,1,1,1\n", "line 2: missing kind"},
		{"missing method", header + "1.000,gpu,H100,0,,1,1,1\n", "line 2: missing method"},
		{"time goes back", header + row + "0.500,gpu,H100,0,energy_counter,1,1,301\n",
			`line 3: gpu 0 "H100": elapsed_seconds 0.5 is earlier than the previous row's 1`},
		{"bare quote", header + "1.000,gpu,H\"100,0,energy_counter,1,1,1\n", "line 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), SamplesFile)
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatalf("writing samples: %v", err)
			}

			_, err := ReadSamples(path)

			if err == nil {
				t.Fatalf("ReadSamples: got no error, want one containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n got %q\nwant it to contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "reading samples "+path+": ") {
				t.Errorf("error %q does not start with the file name", err)
			}
		})
	}
}

func TestReadSamplesMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), SamplesFile)

	_, err := ReadSamples(path)

	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error: got %v, want one that wraps fs.ErrNotExist", err)
	}
}

// stepEnergy integrates power held over the interval before each point,
// which is how samples.csv defines a row's power, from the first point on.
func stepEnergy(points []Point) float64 {
	var joules float64
	for i := 1; i < len(points); i++ {
		joules += points[i].PowerWatts * (points[i].ElapsedSeconds - points[i-1].ElapsedSeconds)
	}
	return joules
}

// trapezoidEnergy integrates power along straight lines between points, as
// the chart draws it.
func trapezoidEnergy(points []Point) float64 {
	var joules float64
	for i := 1; i < len(points); i++ {
		dt := points[i].ElapsedSeconds - points[i-1].ElapsedSeconds
		joules += (points[i].PowerWatts + points[i-1].PowerWatts) / 2 * dt
	}
	return joules
}

// spikyPoints returns n points at irregular intervals whose power swings
// and spikes, with cumulative energy to match.
func spikyPoints(n int) []Point {
	points := make([]Point, n)
	var elapsed, energy float64
	for i := range points {
		dt := 1 + 0.5*float64(i%3)
		power := 200 + 100*math.Sin(float64(i)/50)
		if i%97 == 0 {
			power += 300
		}
		elapsed += dt
		energy += power * dt
		points[i] = Point{ElapsedSeconds: elapsed, PowerWatts: power, CumulativeJoules: energy}
	}
	return points
}

func TestDownsample(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		maxPoints int
	}{
		{"just over the limit", 1001, 1000},
		{"ten times the limit", 10000, 1000},
		{"odd count", 12345, 1000},
		{"tiny limit", 500, 5},
		{"limit below three", 50, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			points := spikyPoints(tc.n)

			got := Downsample(points, tc.maxPoints)

			if limit := max(tc.maxPoints, 3); len(got) > limit {
				t.Errorf("got %d points, want at most %d", len(got), limit)
			}
			if got[0] != points[0] {
				t.Errorf("first point: got %+v, want %+v", got[0], points[0])
			}
			if last := points[len(points)-1]; got[len(got)-1] != last {
				t.Errorf("last point: got %+v, want %+v", got[len(got)-1], last)
			}
			want := stepEnergy(points)
			if e := stepEnergy(got); math.Abs(e-want) > 1e-9*want {
				t.Errorf("step energy: got %g J, want %g J", e, want)
			}
			// Straight lines between a few hundred points or more also keep
			// the energy; between a handful they do not.
			if e := trapezoidEnergy(got); tc.maxPoints >= 100 && math.Abs(e-want) > 0.01*want {
				t.Errorf("line energy: got %g J, want %g J within 1%%", e, want)
			}
			for i := 1; i < len(got); i++ {
				if got[i].ElapsedSeconds < got[i-1].ElapsedSeconds {
					t.Fatalf("point %d at %g s is before point %d at %g s",
						i, got[i].ElapsedSeconds, i-1, got[i-1].ElapsedSeconds)
				}
			}
		})
	}
}

func TestDownsampleShortSeriesUnchanged(t *testing.T) {
	points := spikyPoints(1000)

	got := Downsample(points, 1000)

	if diff := cmp.Diff(points, got); diff != "" {
		t.Errorf("points changed (-want +got):\n%s", diff)
	}
}

func TestDownsampleSharedTimestamps(t *testing.T) {
	// Rows that share one timestamp span no time, so their bucket power is
	// the plain mean rather than a division by zero.
	points := make([]Point, 2000)
	for i := range points {
		points[i] = Point{ElapsedSeconds: 5, PowerWatts: float64(i % 2 * 100)}
	}

	got := Downsample(points, 100)

	for i, p := range got {
		if math.IsNaN(p.PowerWatts) || math.IsInf(p.PowerWatts, 0) {
			t.Fatalf("point %d: power %g, want a finite number", i, p.PowerWatts)
		}
	}
	if mid := got[len(got)/2].PowerWatts; mid != 50 {
		t.Errorf("middle point power: got %g W, want the mean 50 W", mid)
	}
}
