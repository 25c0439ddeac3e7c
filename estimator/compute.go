// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package estimator

import (
	"errors"
	"fmt"
	"math"

	"github.com/carbonrun/carbonrun/internal/units"
)

const wattsPerKilowatt = 1000.0

// ErrNotEnoughInputs reports a plan that determines no accelerator-hours.
var ErrNotEnoughInputs = errors.New("not enough inputs: give FLOPs, parameters and tokens, " +
	"accelerator-hours, or wall-clock hours")

// ErrNotFinite reports an estimate whose figures overflow float64 because
// the inputs are too large (or a utilisation too small) for any real run.
var ErrNotFinite = errors.New("estimate is not a finite number")

// spread is a quantity at the central value and at the low and high ends.
type spread struct{ mid, low, high float64 }

// powerSpread is the mean power per accelerator and the power fraction of
// TDP that produced it; the fraction is zero when the power was given.
type powerSpread struct {
	mid, low, high                      units.Watts
	fraction, fractionLow, fractionHigh float64
}

func (p Plan) hours(flops float64, e *Estimate) (spread, error) {
	switch {
	case p.AcceleratorHours > 0:
		e.add("accelerator_hours", fmt.Sprintf("%.6g", p.AcceleratorHours), "given")
		return spread{p.AcceleratorHours, p.AcceleratorHours, p.AcceleratorHours}, nil

	case p.WallClockHours > 0:
		count := p.Count
		if count == 0 {
			count = 1
			e.add("accelerator_count", "1", "assumed: no count given")
		}
		h := float64(count) * p.WallClockHours
		e.add("wall_clock_hours", fmt.Sprintf("%.6g", p.WallClockHours), "given")
		return spread{h, h, h}, nil

	case flops > 0:
		return p.hoursFromFLOPs(flops, e)
	}
	return spread{}, ErrNotEnoughInputs
}

func (p Plan) hoursFromFLOPs(flops float64, e *Estimate) (spread, error) {
	if p.Accelerator.Name == "" {
		return spread{}, errors.New("an accelerator is needed to turn FLOPs into hours")
	}
	peak, prec, err := p.Accelerator.PeakFLOPS(p.Precision)
	if err != nil {
		return spread{}, err
	}
	mfu := p.Accelerator.MFUDefault()
	if p.MFU > 0 {
		mfu = Ranged{Value: p.MFU, Low: p.MFU, High: p.MFU, Source: "given"}
	}
	e.add("flops", fmt.Sprintf("%.4g", flops), e.FLOPsFormula)
	e.add("precision", string(prec), precisionSource(p.Precision))
	e.add("peak_tflops", fmt.Sprintf("%.4g", peak/flopsPerTFLOP),
		p.Accelerator.Name+" dense "+string(prec)+" peak: "+p.Accelerator.Source)
	e.add("mfu", rangedValue(mfu), mfu.Source)

	// Higher utilisation means fewer hours, so the low end uses the high MFU.
	perHour := peak * secondsPerHour
	return spread{
		mid:  flops / (perHour * mfu.Value),
		low:  flops / (perHour * mfu.High),
		high: flops / (perHour * mfu.Low),
	}, nil
}

// rangedValue prints a value with its range, or the value alone when it
// was given and has no spread.
func rangedValue(r Ranged) string {
	if r.Low == r.Value && r.High == r.Value {
		return formatValue(r.Value)
	}
	return fmt.Sprintf("%s (range %s-%s)", formatValue(r.Value), formatValue(r.Low),
		formatValue(r.High))
}

func precisionSource(given Precision) string {
	if given != "" {
		return "given"
	}
	return "default: bf16 where the catalog has a bf16 peak, else fp16, else fp32"
}

func (p Plan) power(e *Estimate) (powerSpread, error) {
	tdp := p.Accelerator.TDP
	if p.PowerWatts > 0 {
		e.add("power_watts", fmt.Sprintf("%.4g", float64(p.PowerWatts)), "given, per accelerator")
		ps := powerSpread{mid: p.PowerWatts, low: p.PowerWatts, high: p.PowerWatts}
		if tdp > 0 {
			f := float64(p.PowerWatts / tdp)
			ps.fraction, ps.fractionLow, ps.fractionHigh = f, f, f
		}
		return ps, nil
	}
	if p.Accelerator.Name == "" {
		return powerSpread{}, errors.New("no power: give an accelerator or a mean power per device")
	}
	if tdp <= 0 {
		return powerSpread{}, fmt.Errorf("accelerator %q has no TDP in the catalog: "+
			"give its mean power per device instead", p.Accelerator.Name)
	}
	pf := DefaultPowerFraction
	e.PowerNote = "mean power per accelerator over its TDP, including the host's share " +
		"(CPU, memory) as the published runs measured it, which is why its range exceeds 1"
	if p.PowerFraction > 0 {
		pf = Ranged{Value: p.PowerFraction, Low: p.PowerFraction, High: p.PowerFraction,
			Source: "given"}
		e.PowerNote = "mean power per accelerator over its TDP, as given; include the host's " +
			"share (CPU, memory) in it to count the host"
	}
	e.add("tdp_watts", formatValue(float64(tdp)), p.Accelerator.Name+": "+p.Accelerator.Source)
	e.add("power_fraction", rangedValue(pf), pf.Source)
	return powerSpread{
		mid: tdp * units.Watts(pf.Value), low: tdp * units.Watts(pf.Low),
		high:     tdp * units.Watts(pf.High),
		fraction: pf.Value, fractionLow: pf.Low, fractionHigh: pf.High,
	}, nil
}

// figures computes one end of the range. A power cap below the mean draw
// lowers the power to the cap and stretches the hours by the cap model.
func (p Plan) figures(accelHours float64, power units.Watts, fraction float64, s Site) Figures {
	if p.PowerCap > 0 && fraction > p.PowerCap {
		accelHours *= math.Pow(fraction/p.PowerCap, powerCapExponent)
		power = p.Accelerator.TDP * units.Watts(p.PowerCap)
	}
	it := units.KWh(accelHours * float64(power) / wattsPerKilowatt)
	facility := units.KWh(float64(it) * s.PUE)
	f := Figures{
		AcceleratorHours:  accelHours,
		ITEnergyKWh:       it,
		FacilityEnergyKWh: facility,
		EmissionsKg:       s.Intensity.Emissions(facility).Kilograms(),
	}
	switch {
	case p.Count > 0:
		wall := accelHours / float64(p.Count)
		f.WallClockHours = &wall
	case p.WallClockHours > 0:
		// hours() assumed one accelerator for the given wall-clock hours.
		wall := accelHours
		f.WallClockHours = &wall
	}
	return f
}

func (p Plan) addPowerCap(e *Estimate, power powerSpread) {
	if p.Count > 0 {
		e.add("accelerator_count", fmt.Sprintf("%d", p.Count), "given")
	} else if p.WallClockHours == 0 {
		e.Warnings = append(e.Warnings, "wall-clock hours unknown: give the accelerator count")
	}
	if p.PowerCap == 0 {
		return
	}
	source := "power capped at this fraction of TDP; when the cap is below the mean draw, " +
		"power falls to the cap and throughput by the cube root of the power ratio " +
		"(assumed model: dynamic power ~ clock^3)"
	if power.fraction == 0 {
		source = "ignored: no TDP to apply the cap to"
	} else if power.fraction <= p.PowerCap {
		source = "no effect: the cap is above the mean draw"
	}
	e.add("power_cap", fmt.Sprintf("%.2f", p.PowerCap), source)
}

func (p Plan) embodied(e *Estimate) {
	life := p.HardwareLifeYears
	if life == 0 {
		life = DefaultHardwareLifeYears
	}
	e.add("hardware_life_years", fmt.Sprintf("%g", life),
		"assumed service life for spreading embodied emissions")
	name := p.Accelerator.Name
	if name == "" || p.Accelerator.EmbodiedKgCO2e <= 0 {
		if name == "" {
			name = "the device"
		}
		e.EmbodiedNote = fmt.Sprintf("unknown: the hardware catalog has no embodied "+
			"(manufacturing) figure for %s; it would be spread over a %g-year life", name, life)
		return
	}
	kg := p.Accelerator.EmbodiedKgCO2e * e.AcceleratorHours / (life * hoursPerYear)
	e.EmbodiedEmissionsKg = &kg
	e.EmbodiedNote = fmt.Sprintf("%.0f kg CO2e per device spread over a %g-year life",
		p.Accelerator.EmbodiedKgCO2e, life)
}
