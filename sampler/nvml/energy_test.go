// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package nvml

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/carbonrun/carbonrun/internal/units"
)

func TestMeterCounter(t *testing.T) {
	tests := []struct {
		name   string
		values []uint64
		want   units.Joules
	}{
		{name: "steady", values: []uint64{1000, 5000, 9000}, want: 8},
		// After a driver reload the counter restarts at zero.
		{name: "reset", values: []uint64{1000, 5000, 200, 700}, want: 4.7},
		{name: "repeated value", values: []uint64{1000, 1000}, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m meter
			start := time.Unix(0, 0)
			for i, v := range tc.values {
				m.addCounter(start.Add(time.Duration(i)*time.Second), v)
			}
			assert.InDelta(t, float64(tc.want), float64(m.counterEnergy()), 1e-12)
		})
	}
}

func TestMeterTrapezoid(t *testing.T) {
	var m meter
	start := time.Unix(0, 0)

	m.addPower(start, 100)
	m.addPower(start.Add(2*time.Second), 300)
	m.addPower(start.Add(time.Second), 500) // earlier than the previous sample
	m.addPower(start.Add(3*time.Second), 500)

	// 2 s from 100 W to 300 W, then 1 s from 500 W to 500 W.
	assert.InDelta(t, 900, float64(m.integrated), 1e-9)
}
