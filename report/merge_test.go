// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package report

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// approx compares floats up to rounding: the hand-computed figures are exact
// decimal sums, and float64 arithmetic may differ from them in the last bits.
var approx = cmpopts.EquateApprox(0, 1e-12)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func intPtr(v int) *int { return &v }

// nodeReport returns a completed single-node report of job "42" with the
// given hostname, grid and energies. Emissions are facility kWh × intensity.
func nodeReport(host, region string, intensity, pue, itKWh float64) Report {
	facility := itKWh * pue
	return Report{
		SchemaVersion:          SchemaVersion,
		Tool:                   Tool{Name: "carbon-agent", Version: "1.0.0"},
		JobID:                  "42",
		Hostname:               host,
		Status:                 StatusCompleted,
		Complete:               true,
		ExitCode:               intPtr(0),
		StartTime:              t0,
		EndTime:                t0.Add(time.Hour),
		DurationSeconds:        3600,
		TrackingMode:           "machine",
		Region:                 Region{Code: region, Name: region, Source: "table", Year: 2023},
		CarbonIntensityGPerKWh: intensity,
		IntensitySource:        "table",
		PUE:                    pue,
		PUESource:              "override",
		ITEnergyKWh:            itKWh,
		MachineEnergyKWh:       itKWh,
		FacilityEnergyKWh:      facility,
		EmissionsKg:            facility * intensity / 1000,
		MeasuredEnergyKWh:      itKWh,
		GPUScope:               "all",
		Components:             []Component{},
		Warnings:               []string{},
	}
}

// figures are the numeric fields of a merged report that tests compare.
type figures struct {
	ITKWh, MachineKWh, FacilityKWh, MeasuredKWh, EstimatedKWh float64
	EmissionsKg, IntensityGPerKWh, PUE                        float64
}

func figuresOf(r Report) figures {
	return figures{
		ITKWh: r.ITEnergyKWh, MachineKWh: r.MachineEnergyKWh, FacilityKWh: r.FacilityEnergyKWh,
		MeasuredKWh: r.MeasuredEnergyKWh, EstimatedKWh: r.EstimatedEnergyKWh,
		EmissionsKg: r.EmissionsKg, IntensityGPerKWh: r.CarbonIntensityGPerKWh, PUE: r.PUE,
	}
}

func mustMerge(t *testing.T, reports []Report) Report {
	t.Helper()
	got, err := Merge(reports)
	if err != nil {
		t.Fatalf("Merge: got error %v, want nil", err)
	}
	return got
}

func TestMergeEnergySums(t *testing.T) {
	a := nodeReport("node-a", "FR", 50, 1.2, 2.0)
	a.MachineEnergyKWh = 2.5
	a.MeasuredEnergyKWh = 1.8
	a.EstimatedEnergyKWh = 0.2
	b := nodeReport("node-b", "FR", 50, 1.2, 1.0)
	b.MachineEnergyKWh = 1.5

	got := mustMerge(t, []Report{a, b})

	// IT 2.0 + 1.0 kWh, facility 2.4 + 1.2 kWh, emissions 3.6 kWh × 50 g/kWh = 180 g.
	want := figures{
		ITKWh: 3.0, MachineKWh: 4.0, FacilityKWh: 3.6, MeasuredKWh: 2.8, EstimatedKWh: 0.2,
		EmissionsKg: 0.18, IntensityGPerKWh: 50, PUE: 1.2,
	}
	if diff := cmp.Diff(want, figuresOf(got), approx); diff != "" {
		t.Errorf("figures mismatch (-want +got):\n%s", diff)
	}
	wantRegion := Region{Code: "FR", Name: "FR", Source: "table", Year: 2023}
	if diff := cmp.Diff(wantRegion, got.Region); diff != "" {
		t.Errorf("region mismatch (-want +got):\n%s", diff)
	}
	if len(got.Warnings) != 0 {
		t.Errorf("warnings: got %q, want none for one grid and PUE", got.Warnings)
	}
}

func TestMergeMixedGrid(t *testing.T) {
	// node-a: 10 kWh IT × PUE 1.0 = 10 kWh facility × 56 g/kWh = 560 g.
	// node-b: 10 kWh IT × PUE 1.5 = 15 kWh facility × 380 g/kWh = 5700 g.
	// Summed energy at the first node's grid would give 25 × 56 g = 1.4 kg.
	a := nodeReport("node-a", "FR", 56, 1.0, 10)
	b := nodeReport("node-b", "US-CA", 380, 1.5, 10)

	got := mustMerge(t, []Report{a, b})

	want := figures{
		ITKWh: 20, MachineKWh: 20, FacilityKWh: 25, MeasuredKWh: 20,
		EmissionsKg:      6.26,
		IntensityGPerKWh: 250.4, // 6260 g / 25 kWh
		PUE:              1.25,  // 25 kWh facility / 20 kWh IT
	}
	if diff := cmp.Diff(want, figuresOf(got), approx); diff != "" {
		t.Errorf("figures mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Region{Code: Mixed, Name: "FR, US-CA"}, got.Region); diff != "" {
		t.Errorf("region mismatch (-want +got):\n%s", diff)
	}
	wantWarnings := []string{
		"carbon intensity differs between nodes (node-a 56 g/kWh, node-b 380 g/kWh), so emissions are " +
			"computed per node and summed, and carbon_intensity_g_per_kwh is the job's emissions per facility kWh",
		"PUE differs between nodes (node-a 1, node-b 1.5), so facility energy is summed per node " +
			"and pue is the job's facility energy per IT energy",
	}
	if diff := cmp.Diff(wantWarnings, got.Warnings); diff != "" {
		t.Errorf("warnings mismatch (-want +got):\n%s", diff)
	}
}

func TestMergeMixedGridWithoutEnergy(t *testing.T) {
	a := nodeReport("node-a", "FR", 56, 1.0, 0)
	b := nodeReport("node-b", "US-CA", 380, 1.5, 0)

	got := mustMerge(t, []Report{a, b})

	// With no energy to weight by, intensity is (56 + 380) / 2 and PUE stays
	// the first node's.
	want := figures{IntensityGPerKWh: 218, PUE: 1}
	if diff := cmp.Diff(want, figuresOf(got), approx); diff != "" {
		t.Errorf("figures mismatch (-want +got):\n%s", diff)
	}
}

func TestMergeRecomputesEmissions(t *testing.T) {
	a := nodeReport("node-a", "FR", 56, 1.0, 10)
	a.EmissionsKg = 9.99
	b := nodeReport("node-b", "FR", 56, 1.0, 5)

	got := mustMerge(t, []Report{a, b})

	if diff := cmp.Diff(0.84, got.EmissionsKg, approx); diff != "" {
		t.Errorf("emissions_kg, 15 kWh × 56 g/kWh (-want +got):\n%s", diff)
	}
	wantWarnings := []string{"node-a: emissions_kg 9.99 differs from facility energy × carbon intensity " +
		"(0.56 kg); the merged report uses the recomputed value"}
	if diff := cmp.Diff(wantWarnings, got.Warnings); diff != "" {
		t.Errorf("warnings mismatch (-want +got):\n%s", diff)
	}
}

func TestMergeTimeSpan(t *testing.T) {
	a := nodeReport("node-a", "FR", 50, 1, 1)
	b := nodeReport("node-b", "FR", 50, 1, 1)
	b.StartTime = t0.Add(-30 * time.Second)
	b.EndTime = t0.Add(time.Hour + 45*time.Second)
	c := nodeReport("node-c", "FR", 50, 1, 1)
	c.StartTime = time.Time{}
	c.EndTime = t0.Add(time.Minute)

	got := mustMerge(t, []Report{a, b, c})

	if want := t0.Add(-30 * time.Second); !got.StartTime.Equal(want) {
		t.Errorf("start_time: got %v, want %v (earliest non-zero start)", got.StartTime, want)
	}
	if want := t0.Add(time.Hour + 45*time.Second); !got.EndTime.Equal(want) {
		t.Errorf("end_time: got %v, want %v (latest end)", got.EndTime, want)
	}
	if want := 3675.0; got.DurationSeconds != want {
		t.Errorf("duration_seconds: got %v, want %v (30 s + 3600 s + 45 s)", got.DurationSeconds, want)
	}
}

func TestMergeOutcome(t *testing.T) {
	type node struct {
		status   Status
		complete bool
		exitCode *int
		signal   string
	}
	type outcome struct {
		Status      Status
		Complete    bool
		ExitCode    *int
		ChildSignal string
	}
	tests := []struct {
		name  string
		nodes []node
		want  outcome
	}{
		{
			name:  "all completed",
			nodes: []node{{StatusCompleted, true, intPtr(0), ""}, {StatusCompleted, true, intPtr(0), ""}},
			want:  outcome{StatusCompleted, true, intPtr(0), ""},
		},
		{
			name: "one terminated",
			nodes: []node{
				{StatusCompleted, true, intPtr(0), ""},
				{StatusTerminated, true, intPtr(143), "SIGTERM"},
			},
			want: outcome{StatusTerminated, true, intPtr(143), "SIGTERM"},
		},
		{
			name: "first non-zero exit code",
			nodes: []node{
				{StatusCompleted, true, intPtr(0), ""},
				{StatusCompleted, true, intPtr(1), ""},
				{StatusCompleted, true, intPtr(2), ""},
			},
			want: outcome{StatusCompleted, true, intPtr(1), ""},
		},
		{
			name:  "checkpoint is incomplete",
			nodes: []node{{StatusIncomplete, false, nil, ""}, {StatusCompleted, true, intPtr(0), ""}},
			want:  outcome{StatusIncomplete, false, intPtr(0), ""},
		},
		{
			name:  "agent jobs have no exit code",
			nodes: []node{{StatusEnded, true, nil, ""}, {StatusEnded, true, nil, ""}},
			want:  outcome{StatusEnded, true, nil, ""},
		},
		{
			name: "child killed outranks terminated",
			nodes: []node{
				{StatusTerminated, true, intPtr(143), ""},
				{StatusChildKilled, true, intPtr(137), "SIGKILL"},
			},
			want: outcome{StatusChildKilled, true, intPtr(143), ""},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var reports []Report
			for i, n := range tc.nodes {
				r := nodeReport(string(rune('a'+i)), "FR", 50, 1, 1)
				r.Status, r.Complete, r.ExitCode, r.ChildSignal = n.status, n.complete, n.exitCode, n.signal
				reports = append(reports, r)
			}

			got := mustMerge(t, reports)

			gotOutcome := outcome{got.Status, got.Complete, got.ExitCode, got.ChildSignal}
			if diff := cmp.Diff(tc.want, gotOutcome); diff != "" {
				t.Errorf("outcome mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeComponentsAndWarnings(t *testing.T) {
	a := nodeReport("node-a", "FR", 50, 1, 1)
	a.Components = []Component{{Kind: "gpu", Name: "H100", Method: "energy_counter", EnergyJoules: 100}}
	a.Warnings = []string{"rapl unreadable", "rapl unreadable"}
	a.CPUDomains = []string{"package-0", "dram"}
	a.DataSources = []DataSource{{What: "grid intensity", Value: "50 g/kWh", Source: "Ember", Year: 2023}}
	b := nodeReport("node-b", "FR", 50, 1, 1)
	b.Components = []Component{
		{Kind: "gpu", Name: "H100", Method: "energy_counter", EnergyJoules: 200},
		{Kind: "cpu", Name: "package-0", Method: "tdp_estimate", EnergyJoules: 50},
	}
	b.Warnings = []string{"rapl unreadable"}
	b.CPUDomains = []string{"package-0", "package-1"}
	b.DataSources = a.DataSources

	got := mustMerge(t, []Report{a, b})

	wantComponents := []Component{
		{Kind: "gpu", Name: "H100", Method: "energy_counter", EnergyJoules: 100, Host: "node-a"},
		{Kind: "gpu", Name: "H100", Method: "energy_counter", EnergyJoules: 200, Host: "node-b"},
		{Kind: "cpu", Name: "package-0", Method: "tdp_estimate", EnergyJoules: 50, Host: "node-b"},
	}
	tests := []struct {
		name      string
		want, got any
	}{
		{"components", wantComponents, got.Components},
		{"warnings", []string{"node-a: rapl unreadable", "node-b: rapl unreadable"}, got.Warnings},
		{"hostnames", []string{"node-a", "node-b"}, got.Hostnames},
		{"hostname", "", got.Hostname},
		{"cpu domains", []string{"package-0", "dram", "package-1"}, got.CPUDomains},
		{"data sources", a.DataSources, got.DataSources},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Errorf("%s mismatch (-want +got):\n%s", tc.name, diff)
			}
		})
	}
}

// TestMergeMultiNode_CR31 merges one report per node of a two-node job, by
// job id. Each node has 4 GPUs at 300 W for 10 s, 12000 J per node.
func TestMergeMultiNode_CR31(t *testing.T) {
	var reports []Report
	for _, host := range []string{"gpu-001", "gpu-002"} {
		r := nodeReport(host, "FR", 50, 1, 12000.0/3.6e6)
		for i := range 4 {
			r.Components = append(r.Components, Component{
				Kind: "gpu", Index: i, Method: "energy_counter", EnergyJoules: 3000, MeanPowerWatts: 300,
			})
		}
		reports = append(reports, r)
	}

	got := mustMerge(t, reports)

	var gpuJoules float64
	for _, c := range got.Components {
		gpuJoules += c.EnergyJoules
	}
	if gpuJoules != 24000 || len(got.Components) != 8 {
		t.Errorf("gpu energy: got %v J over %d components, want 24000 J over 8 (2 nodes × 4 GPUs × 300 W × 10 s)",
			gpuJoules, len(got.Components))
	}
	if diff := cmp.Diff(24000/3.6e6, got.ITEnergyKWh, approx); diff != "" {
		t.Errorf("it_energy_kwh mismatch (-want +got):\n%s", diff)
	}
	if got.JobID != "42" {
		t.Errorf("job_id: got %q, want %q", got.JobID, "42")
	}
}

func TestMergeOfMergedReport(t *testing.T) {
	ab := mustMerge(t, []Report{nodeReport("node-a", "FR", 50, 1, 1), nodeReport("node-b", "FR", 50, 1, 2)})
	ab.Components = []Component{{Kind: "gpu", Method: "energy_counter", Host: "node-a"}}
	c := nodeReport("node-c", "FR", 50, 1, 4)
	c.Components = []Component{{Kind: "gpu", Method: "energy_counter"}}

	got := mustMerge(t, []Report{ab, c})

	if diff := cmp.Diff([]string{"node-a", "node-b", "node-c"}, got.Hostnames); diff != "" {
		t.Errorf("hostnames mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(7.0, got.ITEnergyKWh, approx); diff != "" {
		t.Errorf("it_energy_kwh, 1 + 2 + 4 kWh (-want +got):\n%s", diff)
	}
	wantHosts := []string{"node-a", "node-c"}
	var gotHosts []string
	for _, comp := range got.Components {
		gotHosts = append(gotHosts, comp.Host)
	}
	if diff := cmp.Diff(wantHosts, gotHosts); diff != "" {
		t.Errorf("component hosts mismatch, a merged input keeps its hosts (-want +got):\n%s", diff)
	}
}

func TestMergeJobIDOptions(t *testing.T) {
	a := nodeReport("node-a", "FR", 50, 1, 1)
	b := nodeReport("node-b", "FR", 50, 1, 1)
	b.JobID = "43"

	tests := []struct {
		name      string
		opts      MergeOptions
		wantJobID string
	}{
		{"force keeps the first id", MergeOptions{Force: true}, "42"},
		{"job id replaces both", MergeOptions{JobID: "run-7"}, "run-7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MergeWithOptions([]Report{a, b}, tc.opts)
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}

			if got.JobID != tc.wantJobID {
				t.Errorf("job_id: got %q, want %q", got.JobID, tc.wantJobID)
			}
			wantWarnings := []string{`merged the reports of jobs 42, 43 under job id "` + tc.wantJobID + `"`}
			if diff := cmp.Diff(wantWarnings, got.Warnings); diff != "" {
				t.Errorf("warnings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeOverlappingHostWarns(t *testing.T) {
	a := nodeReport("node-a", "FR", 50, 1, 1)
	b := nodeReport("node-a", "FR", 50, 1, 1)
	b.StartTime = t0.Add(30 * time.Minute)
	b.EndTime = t0.Add(2 * time.Hour)

	_, err := Merge([]Report{a, b})
	if !errors.Is(err, ErrDuplicateHost) {
		t.Fatalf("without force: got error %v, want %v", err, ErrDuplicateHost)
	}

	got, err := MergeWithOptions([]Report{a, b}, MergeOptions{Force: true})
	if err != nil {
		t.Fatalf("with force: got error %v, want nil", err)
	}

	wantWarnings := []string{
		`report 0 and report 1 measured host "node-a" over overlapping times; ` +
			"in machine tracking mode that host's energy is counted twice",
		`report 0 and report 1 both contain host "node-a"; merged because of --force, ` +
			"so its energy is counted twice",
	}
	if diff := cmp.Diff(wantWarnings, got.Warnings); diff != "" {
		t.Errorf("warnings mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"node-a"}, got.Hostnames); diff != "" {
		t.Errorf("hostnames mismatch (-want +got):\n%s", diff)
	}
}

func TestMergeErrors(t *testing.T) {
	base := func() Report { return nodeReport("node-a", "FR", 50, 1, 1) }
	other := func(edit func(*Report)) Report {
		r := nodeReport("node-b", "FR", 50, 1, 1)
		edit(&r)
		return r
	}

	tests := []struct {
		name      string
		reports   []Report
		wantErr   error
		wantIndex int
		wantMsg   string
	}{
		{
			name:      "job ids differ",
			reports:   []Report{base(), other(func(r *Report) { r.JobID = "43" })},
			wantErr:   ErrJobIDMismatch,
			wantIndex: 1,
			wantMsg:   `b.json (job "43"): job ids differ (a.json has job "42")`,
		},
		{
			name:      "newer schema version",
			reports:   []Report{base(), other(func(r *Report) { r.SchemaVersion = 2 })},
			wantErr:   ErrSchemaVersionUnsupported,
			wantIndex: 1,
			wantMsg:   `b.json (job "42"): unsupported schema version 2 (want 1)`,
		},
		{
			name:      "empty report second",
			reports:   []Report{base(), {}},
			wantErr:   ErrSchemaVersionUnsupported,
			wantIndex: 1,
			wantMsg:   `b.json (job ""): unsupported schema version: schema_version is missing (want 1)`,
		},
		{
			name:      "missing job id",
			reports:   []Report{base(), other(func(r *Report) { r.JobID = "" })},
			wantErr:   ErrInvalidReport,
			wantIndex: 1,
			wantMsg:   `b.json (job ""): invalid report: job_id is missing`,
		},
		{
			name:      "negative energy",
			reports:   []Report{other(func(r *Report) { r.FacilityEnergyKWh = -3 }), base()},
			wantErr:   ErrInvalidReport,
			wantIndex: 0,
			wantMsg: `a.json (job "42"): invalid report: facility_energy_kwh is -3, ` +
				"want a finite number not below 0",
		},
		{
			name:      "negative emissions",
			reports:   []Report{base(), other(func(r *Report) { r.EmissionsKg = -0.5 })},
			wantErr:   ErrInvalidReport,
			wantIndex: 1,
			wantMsg: `b.json (job "42"): invalid report: emissions_kg is -0.5, ` +
				"want a finite number not below 0",
		},
		{
			name: "negative component energy",
			reports: []Report{base(), other(func(r *Report) {
				r.Components = []Component{{Kind: "gpu", EnergyJoules: -1}}
			})},
			wantErr:   ErrInvalidReport,
			wantIndex: 1,
			wantMsg: `b.json (job "42"): invalid report: components[0].energy_joules is -1, ` +
				"want a finite number not below 0",
		},
		{
			name:      "infinite energy",
			reports:   []Report{base(), other(func(r *Report) { r.ITEnergyKWh = math.Inf(1) })},
			wantErr:   ErrInvalidReport,
			wantIndex: 1,
			wantMsg: `b.json (job "42"): invalid report: it_energy_kwh is +Inf, ` +
				"want a finite number not below 0",
		},
		{
			name: "unsupported schema version",
			reports: []Report{
				other(func(r *Report) { r.SchemaVersion = 0 }),
				other(func(r *Report) { r.SchemaVersion = 0; r.Hostname = "node-c" }),
			},
			wantErr:   ErrSchemaVersionUnsupported,
			wantIndex: 0,
			wantMsg:   `a.json (job "42"): unsupported schema version: schema_version is missing (want 1)`,
		},
		{
			name:      "same report twice",
			reports:   []Report{base(), base()},
			wantErr:   ErrDuplicateReport,
			wantIndex: 1,
			wantMsg:   `b.json (job "42"): duplicate report: same host "node-a", job and times as a.json`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MergeWithOptions(tc.reports, MergeOptions{Names: []string{"a.json", "b.json"}})

			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("got error %v, want %v", err, tc.wantErr)
			}
			var mergeErr *MergeError
			if !errors.As(err, &mergeErr) {
				t.Fatalf("got error type %T, want *MergeError", err)
			}
			if mergeErr.Index != tc.wantIndex {
				t.Errorf("index: got %d, want %d", mergeErr.Index, tc.wantIndex)
			}
			if err.Error() != tc.wantMsg {
				t.Errorf("message:\n got %s\nwant %s", err, tc.wantMsg)
			}
		})
	}
}

func TestMergeNoReports(t *testing.T) {
	_, err := Merge(nil)

	if !errors.Is(err, ErrNoReports) {
		t.Errorf("got error %v, want %v", err, ErrNoReports)
	}
}

func TestMergeDefaultNames(t *testing.T) {
	b := nodeReport("node-b", "FR", 50, 1, 1)
	b.JobID = "43"

	_, err := Merge([]Report{nodeReport("node-a", "FR", 50, 1, 1), b})

	want := `report 1 (job "43"): job ids differ (report 0 has job "42")`
	if err == nil || err.Error() != want {
		t.Errorf("got error %v, want %s", err, want)
	}
}

func TestMergeMergedWithOwnInput(t *testing.T) {
	a := nodeReport("node-a", "FR", 50, 1, 1)
	a.Components = []Component{{Kind: "gpu", Index: 0, Name: "H100", Method: "energy_counter"}}
	b := nodeReport("node-b", "FR", 50, 1, 2)
	ab := mustMerge(t, []Report{a, b})
	names := []string{"job.json", "a.json"}

	_, err := MergeWithOptions([]Report{ab, a}, MergeOptions{Names: names})

	if !errors.Is(err, ErrDuplicateHost) {
		t.Fatalf("got error %v, want %v", err, ErrDuplicateHost)
	}
	want := `a.json (job "42"): host in more than one report: host "node-a" is also in job.json, ` +
		"so its energy would be counted twice"
	if err.Error() != want {
		t.Errorf("message:\n got %s\nwant %s", err, want)
	}

	got, err := MergeWithOptions([]Report{ab, a}, MergeOptions{Names: names, Force: true})
	if err != nil {
		t.Fatalf("with force: got error %v, want nil", err)
	}
	wantWarning := `job.json and a.json both contain host "node-a"; merged because of --force, ` +
		"so its energy is counted twice"
	if !slices.Contains(got.Warnings, wantWarning) {
		t.Errorf("warnings: got %q, want them to contain %q", got.Warnings, wantWarning)
	}
}

func TestMergeSharedComponent(t *testing.T) {
	// A report whose hostname was lost still lists its components by host.
	ab := mustMerge(t, []Report{nodeReport("node-a", "FR", 50, 1, 1), nodeReport("node-b", "FR", 50, 1, 1)})
	ab.Hostnames = nil
	ab.Components = []Component{{Kind: "gpu", Index: 1, Host: "node-c", Method: "energy_counter"}}
	c := nodeReport("node-c", "FR", 50, 1, 1)
	c.Components = []Component{{Kind: "gpu", Index: 1, Method: "energy_counter"}}

	_, err := MergeWithOptions([]Report{ab, c}, MergeOptions{Names: []string{"job.json", "c.json"}})

	if !errors.Is(err, ErrDuplicateHost) {
		t.Fatalf("got error %v, want %v", err, ErrDuplicateHost)
	}
	want := `c.json (job "42"): host in more than one report: component gpu 1 "" of host "node-c" ` +
		"is also in job.json, so its energy would be counted twice"
	if err.Error() != want {
		t.Errorf("message:\n got %s\nwant %s", err, want)
	}
}
