// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package nvml

import (
	"time"

	"github.com/carbonrun/carbonrun/internal/units"
)

// meter turns one GPU's readings into cumulative energy since its first
// reading. It is fed either total-energy counter values or power samples.
type meter struct {
	started bool
	last    time.Time

	// Counter state, in the counter's own millijoules so that the total
	// stays exact. It becomes joules only in counterEnergy.
	lastMillijoules  uint64
	totalMillijoules uint64
	intervalPower    units.Watts // mean power of the last counter interval

	// Power-integration state.
	lastPower  units.Watts
	integrated units.Joules
}

// addCounter records a total-energy counter value read at now. The counter
// counts millijoules since the driver loaded, so it goes backwards only when
// the driver reloads: the new value is then the energy since the reload, and
// the energy between the previous read and the reload is lost. The total
// never decreases.
func (m *meter) addCounter(now time.Time, millijoules uint64) {
	if !m.started {
		m.started, m.last, m.lastMillijoules = true, now, millijoules
		return
	}

	delta := millijoules
	if millijoules >= m.lastMillijoules {
		delta = millijoules - m.lastMillijoules
	}
	m.totalMillijoules += delta
	m.lastMillijoules = millijoules
	m.intervalPower = units.Millijoules(delta).Per(now.Sub(m.last))
	m.last = now
}

// addPower records a power sample taken at now and integrates it with the
// previous sample by the trapezoid rule. A sample that is not later than the
// previous one adds no energy.
func (m *meter) addPower(now time.Time, power units.Watts) {
	if !m.started {
		m.started, m.last, m.lastPower = true, now, power
		return
	}

	previous := m.lastPower
	m.lastPower = power
	elapsed := now.Sub(m.last)
	if elapsed <= 0 {
		return
	}
	m.integrated += units.Trapezoid(previous, power, elapsed)
	m.last = now
}

// counterEnergy returns the energy counted since the first counter reading.
func (m *meter) counterEnergy() units.Joules {
	return units.Millijoules(m.totalMillijoules)
}
