// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package estimator

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseRuns(t *testing.T) {
	input := "id,hardware,accelerator_count,training_days,tokens,reported_energy_mwh,extra\n" +
		"a,NVIDIA H100,8,2,1e12,999,x\n" +
		"b,NVIDIA H100,-1,,,,\n" +
		"c,,,,,,\n"
	rows, unknown, err := ParseRuns(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"extra"}, unknown); diff != "" {
		t.Errorf("unknown columns (-want +got):\n%s", diff)
	}
	want := []RunRow{
		{Line: 2, ID: "a", Hardware: "NVIDIA H100", AcceleratorCount: 8, TrainingDays: 2,
			Tokens: 1e12},
		{Line: 3, ID: "b", Hardware: "NVIDIA H100"},
		{Line: 4, ID: "c"},
	}
	if diff := cmp.Diff(want, rows, cmpopts.IgnoreFields(RunRow{}, "Err")); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if rows[0].Err != nil {
		t.Errorf("row a error = %v, want nil", rows[0].Err)
	}
	checkErrContains(t, rows[1].Err, "accelerator_count")
}

func TestParseRunsNeedsID(t *testing.T) {
	_, _, err := ParseRuns(strings.NewReader("hardware,tokens\nx,1\n"))
	checkErrContains(t, err, "no id column")
}

func TestEstimateRunsKeepsGoing(t *testing.T) {
	rows := []RunRow{
		{ID: "ok", Hardware: "NVIDIA H100 SXM", ReportedAcceleratorHours: 1000, PUE: 1.2,
			CarbonIntensity: 100},
		{ID: "nohw", ReportedAcceleratorHours: 1000},
		{ID: "unknown", Hardware: "Acme X9", ReportedAcceleratorHours: 1000},
		{ID: "noinputs", Hardware: "NVIDIA H100 SXM"},
	}
	resolve := func(name string) (Accelerator, error) {
		if name == h100.Name {
			return h100, nil
		}
		return Accelerator{}, fmt.Errorf("hardware %q not found", name)
	}
	results := EstimateRuns(rows, resolve, site300)
	if len(results) != 4 {
		t.Fatalf("got %d results, want 4", len(results))
	}
	if results[0].Err != nil {
		t.Fatalf("row ok error = %v, want nil", results[0].Err)
	}
	// 1000 h x 700 W x 0.9 x PUE 1.2 = 756 kWh; x 100 g/kWh = 75.6 kg.
	want := 1000 * 700 * DefaultPowerFraction.Value * 1.2 / 1000
	checkNear(t, "facility kWh", float64(results[0].Estimate.FacilityEnergyKWh), want, 1e-9)
	checkNear(t, "emissions kg", results[0].Estimate.EmissionsKg, want*0.1, 1e-9)
	checkErrContains(t, results[1].Err, "no hardware")
	checkErrContains(t, results[2].Err, "not found")
	checkErrContains(t, results[3].Err, "not enough inputs")
}

func TestCompareRanksBySaving(t *testing.T) {
	base := Scenario{Label: "baseline", Plan: Plan{Accelerator: h100, Count: 100,
		ParamsTotal: 7e9, Tokens: 1e12}, Site: site300}
	var alts []Scenario
	for _, c := range []string{"precision=fp8", "tokens=2e12", "mfu=0.5", "power-cap=0.8"} {
		change, err := ParseChange(c)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := base.Plan.With(change)
		if err != nil {
			t.Fatalf("applying %s: %v", c, err)
		}
		alts = append(alts, Scenario{Label: c, Plan: plan, Site: site300})
	}
	baseEst, comps, err := Compare(base, alts)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, c := range comps {
		labels = append(labels, c.Label)
	}
	want := []string{"mfu=0.5", "precision=fp8", "power-cap=0.8", "tokens=2e12"}
	if diff := cmp.Diff(want, labels); diff != "" {
		t.Errorf("ranking (-want +got):\n%s", diff)
	}
	// fp8 has 1979/989 times the bf16 peak, so hours and emissions scale by 989/1979.
	for _, c := range comps {
		if c.Label == "precision=fp8" {
			checkNear(t, "fp8 saved percent", c.SavedPercent, 100*(1-989.0/1979), 1e-9)
			if c.WallClockDeltaHours == nil || baseEst.WallClockHours == nil {
				t.Fatalf("fp8 wall delta = nil, want a value for a plan with a count")
			}
			checkNear(t, "fp8 wall delta", *c.WallClockDeltaHours,
				-*baseEst.WallClockHours*(1-989.0/1979), 1e-9)
		}
		if c.Label == "tokens=2e12" {
			checkNear(t, "doubled tokens saved percent", c.SavedPercent, -100, 1e-9)
		}
	}
}

func TestChangeOnGivenHours(t *testing.T) {
	plan := Plan{Accelerator: h100, Count: 10, AcceleratorHours: 1000}
	fp8, err := plan.With(Change{"precision", "fp8"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := fp8.Estimate(site300)
	if err != nil {
		t.Fatal(err)
	}
	checkNear(t, "fp8 hours from 1000 bf16 hours", e.AcceleratorHours, 1000*989.0/1979, 1e-9)

	_, err = Plan{PowerWatts: 30, WallClockHours: 1}.With(Change{"precision", "fp8"})
	checkErrContains(t, err, "needs an accelerator")
	_, err = ParseChange("colour=red")
	checkErrContains(t, err, "unknown key")
}
