// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package units

import (
	"math"
	"testing"
	"time"
)

func TestThirtyWattsForADay(t *testing.T) {
	// 30 W for 24 h at 300 g/kWh: 0.72 kWh and 0.216 kg. Multiplying watts by
	// seconds without converting to kWh gives 259200 "kWh" and 77760 kg.
	energy := Watts(30).Over(24 * time.Hour)
	if got, want := float64(energy.KWh()), 0.72; math.Abs(got-want) > 1e-12 {
		t.Fatalf("energy = %v kWh, want %v", got, want)
	}
	kg := GramsPerKWh(300).Emissions(energy.KWh()).Kilograms()
	if math.Abs(kg-0.216) > 1e-12 {
		t.Fatalf("emissions = %v kg, want 0.216", kg)
	}
}

func TestHardwareUnitConversions(t *testing.T) {
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"rapl microjoules", float64(Microjoules(1328850)), 1.32885},
		{"nvml millijoules", float64(Millijoules(3600000)), 3600},
		{"nvml milliwatts", float64(Milliwatts(250000)), 250},
		{"kwh of 3600 J", float64(Joules(3600).KWh()), 0.001},
		{"mean power of 50 J in 1 s", float64(Joules(50).Per(time.Second)), 50},
		{"trapezoid 100 W to 300 W over 2 s", float64(Trapezoid(100, 300, 2*time.Second)), 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if math.Abs(tc.got-tc.want) > 1e-9*math.Max(1, math.Abs(tc.want)) {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
}

func TestPerZeroDuration(t *testing.T) {
	if got := Joules(10).Per(0); got != 0 {
		t.Errorf("Joules(10).Per(0) = %v, want 0", got)
	}
}
