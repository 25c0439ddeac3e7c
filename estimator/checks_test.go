// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package estimator

import (
	"errors"
	"strings"
	"testing"
)

func TestEstimateRejectsLargePowerFraction(t *testing.T) {
	_, err := Plan{Accelerator: h100, AcceleratorHours: 10, PowerFraction: 5}.Estimate(site300)
	checkErrContains(t, err, "power fraction")

	if _, err := (Plan{Accelerator: h100, AcceleratorHours: 10,
		PowerFraction: MaxPowerFraction}).Estimate(site300); err != nil {
		t.Errorf("power fraction %v: error = %v, want nil", MaxPowerFraction, err)
	}
}

func TestEstimateRejectsOverflow(t *testing.T) {
	_, err := Plan{Accelerator: h100, ParamsTotal: 1e300, Tokens: 1e300}.Estimate(site300)
	if !errors.Is(err, ErrNotFinite) {
		t.Errorf("error = %v, want ErrNotFinite", err)
	}
}

func TestWallClockUnknownWithoutCount(t *testing.T) {
	e, err := Plan{Accelerator: h100, AcceleratorHours: 100}.Estimate(site300)
	if err != nil {
		t.Fatal(err)
	}
	if e.WallClockHours != nil {
		t.Errorf("wall clock hours = %v, want nil without a count", *e.WallClockHours)
	}
}

func TestAssumptionValuesKeepPrecision(t *testing.T) {
	site := Site{Intensity: 1.5, IntensitySource: "override", PUE: 1.125, PUESource: "override"}
	e, err := Plan{Accelerator: h100, AcceleratorHours: 100}.Estimate(site)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"carbon_intensity_g_per_kwh": "1.5", "pue": "1.125",
		"power_fraction": "0.9 (range 0.59-1.18)"}
	for _, a := range e.Assumptions {
		if w, ok := want[a.Name]; ok && a.Value != w {
			t.Errorf("assumption %s = %q, want %q", a.Name, a.Value, w)
		}
	}
	if !strings.Contains(e.PowerNote, "host's share") {
		t.Errorf("power note = %q, want it to say the fraction includes the host's share",
			e.PowerNote)
	}
}

func TestCleanestCountsPUE(t *testing.T) {
	// 100 g/kWh x PUE 1.5 = 150 g per IT kWh beats 120 x 1.4 = 168.
	sites := []Site{{Region: "b", Intensity: 120, PUE: 1.4}, {Region: "a", Intensity: 100, PUE: 1.5}}
	best, ok := cleanest(sites)
	if !ok || best.Region != "a" {
		t.Errorf("cleanest = %q (ok %v), want %q", best.Region, ok, "a")
	}
	sites[1].PUE = 2
	if best, _ := cleanest(sites); best.Region != "b" {
		t.Errorf("cleanest with PUE 2 = %q, want %q", best.Region, "b")
	}
}

func TestDescribeSources(t *testing.T) {
	got := describeSources("STAS00 + LIGHTNING (flops); METERPRETER + HAWKVELT (tdp); GPUBLOG (year)")
	for _, want := range []string{"stas00/ml-engineering", "PyTorch Lightning", "gpu.blog",
		"METERPRETER", "internal/hardware/data/PROVENANCE.md"} {
		if !strings.Contains(got, want) {
			t.Errorf("describeSources = %q, want it to contain %q", got, want)
		}
	}
	if strings.Contains(got, "STAS00") || strings.Contains(got, "GPUBLOG") {
		t.Errorf("describeSources = %q, want described keys replaced", got)
	}
}
