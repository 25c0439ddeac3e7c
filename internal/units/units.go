// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Package units holds the physical quantities carbonrun computes with and the
// conversions between them. Raw hardware readings (RAPL microjoules, NVML
// milliwatts and millijoules) become these types exactly once, at the sampler
// boundary; kWh appears only in reports and estimates.
package units

import "time"

// JoulesPerKWh is the number of joules in one kilowatt-hour (3.6e6).
const JoulesPerKWh = 3.6e6

// Conversion factors from the units that hardware interfaces report.
const (
	joulesPerMicrojoule = 1e-6
	joulesPerMillijoule = 1e-3
	wattsPerMilliwatt   = 1e-3
	gramsPerKilogram    = 1e3
)

// Joules is an amount of energy in joules.
type Joules float64

// Watts is a power in watts (joules per second).
type Watts float64

// KWh is an amount of energy in kilowatt-hours.
type KWh float64

// GramsPerKWh is a grid carbon intensity in grams of CO2-equivalent per kWh.
type GramsPerKWh float64

// GramsCO2e is a mass of CO2-equivalent emissions in grams.
type GramsCO2e float64

// Microjoules converts a RAPL energy_uj counter difference to joules.
func Microjoules(uj uint64) Joules { return Joules(float64(uj) * joulesPerMicrojoule) }

// Millijoules converts an NVML total-energy counter difference to joules.
func Millijoules(mj uint64) Joules { return Joules(float64(mj) * joulesPerMillijoule) }

// Milliwatts converts an NVML power reading to watts.
func Milliwatts(mw uint32) Watts { return Watts(float64(mw) * wattsPerMilliwatt) }

// KWh converts joules to kilowatt-hours.
func (j Joules) KWh() KWh { return KWh(float64(j) / JoulesPerKWh) }

// Per returns the mean power that delivers j over d; zero when d is not positive.
func (j Joules) Per(d time.Duration) Watts {
	if d <= 0 {
		return 0
	}
	return Watts(float64(j) / d.Seconds())
}

// Joules converts kilowatt-hours to joules.
func (k KWh) Joules() Joules { return Joules(float64(k) * JoulesPerKWh) }

// Over returns the energy that power w delivers over d.
func (w Watts) Over(d time.Duration) Joules { return Joules(float64(w) * d.Seconds()) }

// Emissions returns the CO2e caused by energy e drawn from a grid of intensity g.
func (g GramsPerKWh) Emissions(e KWh) GramsCO2e { return GramsCO2e(float64(g) * float64(e)) }

// Kilograms returns the mass in kilograms.
func (g GramsCO2e) Kilograms() float64 { return float64(g) / gramsPerKilogram }

// Trapezoid returns the energy of a power that changes linearly from p0 to p1
// over d, the trapezoid rule for integrating power samples.
func Trapezoid(p0, p1 Watts, d time.Duration) Joules {
	return Joules((float64(p0) + float64(p1)) / 2 * d.Seconds())
}
