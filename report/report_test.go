// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package report

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carbonrun/carbonrun/internal/grid"
	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/sampler"
)

func testRun(status Status) Run {
	start := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	code := 0
	return Run{
		Tool: Tool{Name: "carbon-run", Version: "test"}, JobID: "job-1", Hostname: "node1",
		Command: []string{"python", "train.py"}, Status: status, ExitCode: &code,
		Start: start, End: start.Add(24 * time.Hour), TrackingMode: "machine", GPUScope: "all",
	}
}

func testSite(intensity units.GramsPerKWh, pue float64) grid.Site {
	return grid.Site{
		Region:    grid.Region{Code: "FR", Name: "France", Source: "test table", Year: 2023},
		Intensity: intensity, IntensitySource: "table", PUE: pue, PUESource: "test",
	}
}

func TestBuildThirtyWattsForADay(t *testing.T) {
	// 30 W for 24 h is 0.72 kWh; at PUE 1.0 and 300 g/kWh that is 0.216 kg.
	totals := []sampler.Total{{
		Component: sampler.Component{Kind: sampler.KindGPU, Name: "gpu0", Method: sampler.MethodEnergyCounter},
		Energy:    units.Watts(30).Over(24 * time.Hour), MaxPower: 30,
	}}
	totals[0].MachineEnergy = totals[0].Energy
	r := Build(testRun(StatusCompleted), totals, 24*time.Hour, testSite(300, 1.0))

	checks := []struct {
		name      string
		got, want float64
	}{
		{"it_energy_kwh", r.ITEnergyKWh, 0.72},
		{"facility_energy_kwh", r.FacilityEnergyKWh, 0.72},
		{"emissions_kg", r.EmissionsKg, 0.216},
		{"measured_energy_kwh", r.MeasuredEnergyKWh, 0.72},
		{"estimated_energy_kwh", r.EstimatedEnergyKWh, 0},
		{"mean_power_watts", r.Components[0].MeanPowerWatts, 30},
		{"duration_seconds", r.DurationSeconds, 86400},
	}
	for _, c := range checks {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !r.Complete {
		t.Errorf("complete = false, want true for a completed run")
	}
}

func TestBuildAppliesPUE(t *testing.T) {
	totals := []sampler.Total{
		{Component: sampler.Component{Kind: sampler.KindCPU, Method: sampler.MethodTDPEstimate},
			Energy: units.KWh(1).Joules()},
		{Component: sampler.Component{Kind: sampler.KindGPU, Method: sampler.MethodEnergyCounter},
			Energy: units.KWh(3).Joules()},
	}
	r := Build(testRun(StatusIncomplete), totals, time.Hour, testSite(100, 1.5))
	if math.Abs(r.FacilityEnergyKWh-6) > 1e-9 {
		t.Errorf("facility = %v kWh, want 6", r.FacilityEnergyKWh)
	}
	if math.Abs(r.EmissionsKg-0.6) > 1e-9 {
		t.Errorf("emissions = %v kg, want 0.6", r.EmissionsKg)
	}
	if math.Abs(r.EstimatedEnergyKWh-1) > 1e-9 || math.Abs(r.MeasuredEnergyKWh-3) > 1e-9 {
		t.Errorf("measured/estimated = %v/%v kWh, want 3/1", r.MeasuredEnergyKWh, r.EstimatedEnergyKWh)
	}
	if r.Complete {
		t.Errorf("complete = true, want false for a checkpoint")
	}
}

func TestWriteReportFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "job-1")
	totals := []sampler.Total{{
		Component: sampler.Component{Kind: sampler.KindCPU, Name: "package-0", Method: sampler.MethodEnergyCounter},
		Energy:    50, Delta: 50, Power: 50, MaxPower: 50,
	}}
	samples, err := NewSamples(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := samples.Add(time.Second, totals); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, SamplesFile)); !os.IsNotExist(err) {
		t.Errorf("samples.csv exists before Finish: %v", err)
	}
	if err := samples.Finish(); err != nil {
		t.Fatal(err)
	}
	r := Build(testRun(StatusCompleted), totals, time.Second, testSite(300, 1))
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatalf("report.json is not valid JSON: %v", err)
	}
	for _, key := range []string{"schema_version", "job_id", "command", "exit_code", "start_time",
		"end_time", "duration_seconds", "complete", "tracking_mode", "region",
		"carbon_intensity_g_per_kwh", "pue", "it_energy_kwh", "facility_energy_kwh",
		"emissions_kg", "components", "warnings"} {
		if _, ok := fields[key]; !ok {
			t.Errorf("report.json lacks %q", key)
		}
	}

	f, err := os.Open(filepath.Join(dir, SamplesFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("samples.csv is not valid CSV: %v", err)
	}
	if len(rows) != 2 || rows[1][5] != "50.000" {
		t.Errorf("samples.csv rows = %v, want a header and one row with power 50.000", rows)
	}

	md, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Components", "energy_counter", "## Compute statement",
		"co2_eq_emissions:", "geographical_location: \"France (FR)\""} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func TestModelCardEmissionsInGrams(t *testing.T) {
	r := &Report{EmissionsKg: 0.216, Tool: Tool{Name: "carbon-run", Version: "1"}}
	if got := r.ModelCardYAML(); !strings.Contains(got, "emissions: 216  # grams of CO2e\n") {
		t.Errorf("model card block = %q, want emissions: 216 (grams)", got)
	}
}

func BenchmarkSamplesAdd(b *testing.B) {
	s, err := NewSamples(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	totals := make([]sampler.Total, 10)
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Add(time.Second, totals)
	}
}

func TestOverrideIntensityNotCreditedToTable(t *testing.T) {
	site := testSite(250, 1.3)
	site.IntensitySource = "override"
	r := Build(testRun(StatusCompleted), nil, time.Second, site)
	if got := r.Statement(); !strings.Contains(got, "250 gCO2e/kWh for France (FR) (given with --carbon-intensity)") {
		t.Errorf("statement = %q, want the intensity credited to --carbon-intensity", got)
	}
	for _, d := range r.DataSources {
		if d.What == "grid carbon intensity" && d.Source == "test table" {
			t.Errorf("data source %+v credits the table for a user-given intensity", d)
		}
	}
}
