// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package estimator

import (
	"errors"
	"strings"
	"testing"

	"github.com/carbonrun/carbonrun/sampler"
)

// h100 carries the catalog figures of the NVIDIA H100 SXM.
var h100 = Accelerator{
	Name: "NVIDIA H100 SXM", Class: ClassGPU, TDP: 700,
	PeakTFLOPS: map[Precision]float64{FP32: 67, TF32: 494.5, BF16: 989, FP16: 989, FP8: 1979},
	Source:     "test catalog",
}

var site300 = Site{Intensity: 300, IntensitySource: "override", PUE: 1, PUESource: "override"}

func TestPowerWattsForADay(t *testing.T) {
	// 30 W for 24 h at 300 g/kWh and PUE 1: 0.72 kWh and 0.216 kg.
	e, err := Plan{PowerWatts: 30, WallClockHours: 24}.Estimate(site300)
	if err != nil {
		t.Fatal(err)
	}
	checkNear(t, "IT energy kWh", float64(e.ITEnergyKWh), 0.72, 1e-12)
	checkNear(t, "facility energy kWh", float64(e.FacilityEnergyKWh), 0.72, 1e-12)
	checkNear(t, "emissions kg", e.EmissionsKg, 0.216, 1e-12)
	checkNear(t, "low emissions kg", e.Low.EmissionsKg, 0.216, 1e-12)
	checkNear(t, "high emissions kg", e.High.EmissionsKg, 0.216, 1e-12)
	checkWallClock(t, e, 24)
	if e.Method != sampler.MethodAnalytical {
		t.Errorf("method = %q, want %q", e.Method, sampler.MethodAnalytical)
	}
}

func TestSixND(t *testing.T) {
	flops, formula := Plan{ParamsTotal: 7e9, Tokens: 2e12}.flops()
	checkNear(t, "FLOPs", flops, 8.4e22, 1e-12)
	if !strings.HasPrefix(formula, "6 x params") {
		t.Errorf("formula = %q, want it to start with %q", formula, "6 x params")
	}

	moe, formula := Plan{ParamsTotal: 46.7e9, ParamsActive: 12.9e9, Tokens: 1e12}.flops()
	checkNear(t, "MoE FLOPs", moe, 6*12.9e9*1e12, 1e-12)
	if !strings.HasPrefix(formula, "6 x active params") {
		t.Errorf("formula = %q, want it to start with %q", formula, "6 x active params")
	}
}

func TestHoursFromFLOPs(t *testing.T) {
	// 8.4e22 FLOPs on 1000 accelerators at 989 TFLOP/s bf16 and 40% MFU:
	// 8.4e22 / (989e12 x 0.4 x 3600) = 58,982 accelerator-hours, 59 h wall.
	plan := Plan{Accelerator: h100, Count: 1000, Precision: BF16, FLOPs: 8.4e22, MFU: 0.4}
	e, err := plan.Estimate(site300)
	if err != nil {
		t.Fatal(err)
	}
	checkNear(t, "accelerator hours", e.AcceleratorHours, 58982, 1e-4)
	checkWallClock(t, e, 58.982)
	checkNear(t, "low accelerator hours (given MFU has no spread)", e.Low.AcceleratorHours,
		58982, 1e-4)

	// IT energy = hours x TDP x default power fraction.
	wantKWh := 58982 * 700 * DefaultPowerFraction.Value / 1000
	checkNear(t, "IT energy kWh", float64(e.ITEnergyKWh), wantKWh, 1e-4)
	checkNear(t, "low IT energy kWh", float64(e.Low.ITEnergyKWh),
		58982*700*DefaultPowerFraction.Low/1000, 1e-4)
	checkNear(t, "high IT energy kWh", float64(e.High.ITEnergyKWh),
		58982*700*DefaultPowerFraction.High/1000, 1e-4)
}

func TestDefaultMFURange(t *testing.T) {
	plan := Plan{Accelerator: h100, Count: 8, FLOPs: 1e21}
	e, err := plan.Estimate(site300)
	if err != nil {
		t.Fatal(err)
	}
	perHour := 989e12 * 3600
	checkNear(t, "hours", e.AcceleratorHours, 1e21/(perHour*DefaultMFUGPU.Value), 1e-9)
	checkNear(t, "low hours", e.Low.AcceleratorHours, 1e21/(perHour*DefaultMFUGPU.High), 1e-9)
	checkNear(t, "high hours", e.High.AcceleratorHours, 1e21/(perHour*DefaultMFUGPU.Low), 1e-9)
	if !(e.Low.EmissionsKg < e.EmissionsKg && e.EmissionsKg < e.High.EmissionsKg) {
		t.Errorf("emissions low/mid/high = %v/%v/%v, want strictly increasing",
			e.Low.EmissionsKg, e.EmissionsKg, e.High.EmissionsKg)
	}
}

func TestFacilityEnergyAndEmissions(t *testing.T) {
	site := Site{Intensity: 400, PUE: 1.5}
	e, err := Plan{Accelerator: h100, AcceleratorHours: 1000, PowerFraction: 0.5}.Estimate(site)
	if err != nil {
		t.Fatal(err)
	}
	// 1000 h x 350 W = 350 kWh IT, 525 kWh facility, 210 kg at 400 g/kWh.
	checkNear(t, "IT kWh", float64(e.ITEnergyKWh), 350, 1e-12)
	checkNear(t, "facility kWh", float64(e.FacilityEnergyKWh), 525, 1e-12)
	checkNear(t, "emissions kg", e.EmissionsKg, 210, 1e-12)
}

func TestEmbodied(t *testing.T) {
	e, err := Plan{Accelerator: h100, AcceleratorHours: 1000}.Estimate(site300)
	if err != nil {
		t.Fatal(err)
	}
	if e.EmbodiedEmissionsKg != nil {
		t.Errorf("embodied = %v, want nil for a catalog entry without a figure",
			*e.EmbodiedEmissionsKg)
	}
	if !strings.Contains(e.EmbodiedNote, "unknown") || !strings.Contains(e.EmbodiedNote, "5-year") {
		t.Errorf("embodied note = %q, want it to say unknown and name the 5-year life",
			e.EmbodiedNote)
	}

	withFigure := h100
	withFigure.EmbodiedKgCO2e = 150
	e, err = Plan{Accelerator: withFigure, AcceleratorHours: 8766}.Estimate(site300)
	if err != nil {
		t.Fatal(err)
	}
	if e.EmbodiedEmissionsKg == nil {
		t.Fatal("embodied = nil, want 30 kg (one year of a five-year life of 150 kg)")
	}
	checkNear(t, "embodied kg", *e.EmbodiedEmissionsKg, 30, 1e-9)
}

func TestPowerCap(t *testing.T) {
	plan := Plan{Accelerator: h100, Count: 1, AcceleratorHours: 100, PowerFraction: 0.9}
	base, err := plan.Estimate(site300)
	if err != nil {
		t.Fatal(err)
	}
	plan.PowerCap = 0.72
	capped, err := plan.Estimate(site300)
	if err != nil {
		t.Fatal(err)
	}
	// Cap 0.72 under a 0.9 draw: hours x (0.9/0.72)^(1/3), energy x (0.72/0.9)^(2/3).
	checkNear(t, "capped hours", capped.AcceleratorHours, 100*1.0772173450159417, 1e-9)
	checkNear(t, "energy ratio", float64(capped.ITEnergyKWh/base.ITEnergyKWh),
		0.8617738760127533, 1e-9)

	plan.PowerCap = 0.95
	above, err := plan.Estimate(site300)
	if err != nil {
		t.Fatal(err)
	}
	checkNear(t, "energy with a cap above the draw", float64(above.ITEnergyKWh),
		float64(base.ITEnergyKWh), 1e-12)
}

func TestEstimateRejects(t *testing.T) {
	tests := []struct {
		name    string
		plan    Plan
		site    Site
		wantErr string
	}{
		{"negative tokens", Plan{ParamsTotal: 1e9, Tokens: -1, Accelerator: h100}, site300, "tokens"},
		{"negative count", Plan{Count: -2, Accelerator: h100, AcceleratorHours: 1}, site300,
			"accelerator count"},
		{"pue below one", Plan{PowerWatts: 10, WallClockHours: 1},
			Site{Intensity: 1, PUE: 0.9}, "PUE"},
		{"mfu above one", Plan{Accelerator: h100, FLOPs: 1, MFU: 1.5}, site300, "MFU"},
		{"active above total", Plan{ParamsTotal: 1e9, ParamsActive: 2e9, Tokens: 1,
			Accelerator: h100}, site300, "active parameters"},
		{"no fp8 peak", Plan{Accelerator: Accelerator{Name: "old", TDP: 300,
			PeakTFLOPS: map[Precision]float64{FP16: 100}}, FLOPs: 1e20, Precision: FP8},
			site300, "no fp8 peak"},
		{"no tdp", Plan{Accelerator: Accelerator{Name: "tpu", PeakTFLOPS: map[Precision]float64{
			BF16: 100}}, FLOPs: 1e20}, site300, "no TDP"},
		{"flops without hardware", Plan{FLOPs: 1e20}, site300, "accelerator is needed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.plan.Estimate(tc.site)
			checkErrContains(t, err, tc.wantErr)
		})
	}

	_, err := Plan{Accelerator: h100}.Estimate(site300)
	if !errors.Is(err, ErrNotEnoughInputs) {
		t.Errorf("empty plan error = %v, want ErrNotEnoughInputs", err)
	}
}
