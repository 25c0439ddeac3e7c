// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package estimator

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/carbonrun/carbonrun/internal/hardware"
	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/sampler"
)

// Precision is the number format of the training matrix multiplications,
// the same set the hardware catalog lists peaks for.
type Precision = hardware.Precision

// Precisions with catalog peaks.
const (
	FP32 = hardware.FP32
	TF32 = hardware.TF32
	BF16 = hardware.BF16
	FP16 = hardware.FP16
	FP8  = hardware.FP8
)

// Precisions lists the known precisions from widest to narrowest.
var Precisions = hardware.Precisions

// ParsePrecision returns the Precision named s, case-insensitively.
func ParsePrecision(s string) (Precision, error) {
	for _, p := range Precisions {
		if strings.EqualFold(s, string(p)) {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown precision %q: use one of fp32, tf32, bf16, fp16, fp8", s)
}

// Class groups accelerators whose utilisation evidence is pooled.
type Class string

// Accelerator classes.
const (
	ClassGPU Class = "gpu" // GPUs and other non-TPU accelerators
	ClassTPU Class = "tpu"
)

// Accelerator holds the catalog figures the model needs for one device.
type Accelerator struct {
	Name  string
	Class Class
	// TDP is the board power limit in watts; zero when the catalog has none.
	TDP units.Watts
	// PeakTFLOPS is the dense peak per precision in TFLOP/s.
	PeakTFLOPS map[Precision]float64
	// EmbodiedKgCO2e is the manufacturing footprint of one device in kg;
	// zero when unknown.
	EmbodiedKgCO2e float64
	Source         string
}

// DefaultPrecision returns the precision used when none is given: bf16 where
// the accelerator has a bf16 peak, else fp16, else fp32.
func (a Accelerator) DefaultPrecision() (Precision, bool) {
	for _, p := range []Precision{BF16, FP16, FP32} {
		if a.PeakTFLOPS[p] > 0 {
			return p, true
		}
	}
	return "", false
}

// Site is where the energy is drawn: grid intensity and PUE with sources.
type Site struct {
	Region          string
	Intensity       units.GramsPerKWh
	IntensitySource string
	PUE             float64
	PUESource       string
}

// Plan describes a training job. Zero means "not given" for every field; the
// model fills what it can from the other fields and the defaults.
type Plan struct {
	Accelerator Accelerator
	// Count is the number of accelerators used at the same time.
	Count     int
	Precision Precision

	FLOPs        float64
	ParamsTotal  float64
	ParamsActive float64 // active parameters per token, for MoE models
	Tokens       float64

	AcceleratorHours float64
	WallClockHours   float64
	// PowerWatts is a known mean power per accelerator; it replaces TDP x
	// power fraction and needs no accelerator.
	PowerWatts units.Watts

	MFU           float64
	PowerFraction float64
	// PowerCap is a power limit as a fraction of TDP, in (0, 1].
	PowerCap          float64
	HardwareLifeYears float64
}

// Figures are the quantities an estimate reports, at one end of the range.
type Figures struct {
	AcceleratorHours float64 `json:"accelerator_hours"`
	// WallClockHours is nil when the accelerator count is unknown.
	WallClockHours    *float64  `json:"wall_clock_hours"`
	ITEnergyKWh       units.KWh `json:"it_energy_kwh"`
	FacilityEnergyKWh units.KWh `json:"facility_energy_kwh"`
	EmissionsKg       float64   `json:"emissions_kg"`
}

// Assumption is one input or default an estimate used, with its source.
type Assumption struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Source string `json:"source"`
}

// Estimate is the result of the analytical model.
type Estimate struct {
	Method sampler.Method `json:"method"`
	// FLOPs is the training compute; zero when the estimate did not need it.
	FLOPs        float64 `json:"flops"`
	FLOPsFormula string  `json:"flops_formula"`
	Figures
	// EmbodiedEmissionsKg is the accelerators' manufacturing footprint
	// spread over their life; nil when the catalog has no figure.
	EmbodiedEmissionsKg *float64 `json:"embodied_emissions_kg"`
	EmbodiedNote        string   `json:"embodied_note"`
	// PowerNote says what the power fraction of TDP covers; empty when the
	// power was given in watts.
	PowerNote   string       `json:"power_note,omitempty"`
	Low         Figures      `json:"low"`
	High        Figures      `json:"high"`
	Assumptions []Assumption `json:"assumptions"`
	Warnings    []string     `json:"warnings,omitempty"`
}

// Estimate runs the model on plan p at site s. It returns an error when the
// inputs are invalid or do not determine the accelerator-hours and power.
func (p Plan) Estimate(s Site) (Estimate, error) {
	if err := p.validate(s); err != nil {
		return Estimate{}, err
	}
	e := Estimate{Method: sampler.MethodAnalytical}
	e.FLOPs, e.FLOPsFormula = p.flops()

	hours, err := p.hours(e.FLOPs, &e)
	if err != nil {
		return Estimate{}, err
	}
	power, err := p.power(&e)
	if err != nil {
		return Estimate{}, err
	}

	mid := p.figures(hours.mid, power.mid, power.fraction, s)
	low := p.figures(hours.low, power.low, power.fractionLow, s)
	high := p.figures(hours.high, power.high, power.fractionHigh, s)
	e.Figures, e.Low, e.High = mid, low, high
	p.addPowerCap(&e, power)

	p.embodied(&e)
	e.add("pue", formatValue(s.PUE), s.PUESource)
	e.add("carbon_intensity_g_per_kwh", formatValue(float64(s.Intensity)), siteSource(s))
	if err := e.checkFinite(); err != nil {
		return Estimate{}, err
	}
	return e, nil
}

// formatValue prints an assumption's value with up to six significant
// digits, so a table value such as 1.5 g/kWh is not rounded to 2.
func formatValue(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// checkFinite rejects an estimate whose figures overflowed, which happens
// only when the inputs are far outside any real training run.
func (e Estimate) checkFinite() error {
	figures := []struct {
		name  string
		value float64
	}{
		{"FLOPs", e.FLOPs},
		{"accelerator-hours", e.High.AcceleratorHours},
		{"IT energy", float64(e.High.ITEnergyKWh)},
		{"facility energy", float64(e.High.FacilityEnergyKWh)},
		{"emissions", e.High.EmissionsKg},
	}
	for _, f := range figures {
		if math.IsInf(f.value, 0) || math.IsNaN(f.value) {
			return fmt.Errorf("%w: %s is %v", ErrNotFinite, f.name, f.value)
		}
	}
	if e.EmbodiedEmissionsKg != nil && math.IsInf(*e.EmbodiedEmissionsKg, 0) {
		return fmt.Errorf("%w: embodied emissions are %v", ErrNotFinite, *e.EmbodiedEmissionsKg)
	}
	return nil
}

func siteSource(s Site) string {
	// "unknown" is the site code when no region was given.
	if s.Region == "" || s.Region == "unknown" {
		return s.IntensitySource
	}
	return s.Region + ": " + s.IntensitySource
}

func (e *Estimate) add(name, value, source string) {
	e.Assumptions = append(e.Assumptions, Assumption{Name: name, Value: value, Source: source})
}

func (p Plan) validate(s Site) error {
	checks := []struct {
		name  string
		value float64
	}{
		{"accelerator count", float64(p.Count)},
		{"FLOPs", p.FLOPs},
		{"total parameters", p.ParamsTotal},
		{"active parameters", p.ParamsActive},
		{"tokens", p.Tokens},
		{"accelerator-hours", p.AcceleratorHours},
		{"wall-clock hours", p.WallClockHours},
		{"power", float64(p.PowerWatts)},
		{"MFU", p.MFU},
		{"power fraction", p.PowerFraction},
		{"power cap", p.PowerCap},
		{"hardware life", p.HardwareLifeYears},
		{"carbon intensity", float64(s.Intensity)},
	}
	for _, c := range checks {
		if c.value < 0 || math.IsNaN(c.value) || math.IsInf(c.value, 0) {
			return fmt.Errorf("invalid %s %v: must be a positive number", c.name, c.value)
		}
	}
	if p.MFU > 1 {
		return fmt.Errorf("invalid MFU %v: must be in (0, 1]", p.MFU)
	}
	if p.PowerFraction > MaxPowerFraction {
		return fmt.Errorf("invalid power fraction %v: must be in (0, %g]", p.PowerFraction,
			MaxPowerFraction)
	}
	if p.PowerCap > 1 {
		return fmt.Errorf("invalid power cap %v: must be a fraction of TDP in (0, 1]", p.PowerCap)
	}
	if p.ParamsTotal > 0 && p.ParamsActive > p.ParamsTotal {
		return fmt.Errorf("invalid active parameters %g: more than the %g total parameters",
			p.ParamsActive, p.ParamsTotal)
	}
	if s.PUE < 1 {
		return fmt.Errorf("invalid PUE %v: must be at least 1", s.PUE)
	}
	return nil
}

// flops returns the training compute and how it was obtained.
func (p Plan) flops() (float64, string) {
	if p.FLOPs > 0 {
		return p.FLOPs, "given"
	}
	params, label := p.ParamsActive, "active params"
	if params == 0 {
		params, label = p.ParamsTotal, "params"
	}
	if params == 0 || p.Tokens == 0 {
		return 0, ""
	}
	f := FLOPsPerParamToken * params * p.Tokens
	return f, fmt.Sprintf("6 x %s (%.3g) x tokens (%.3g) = %.3g", label, params, p.Tokens, f)
}

// MFUDefault returns the default utilisation for the accelerator's class.
func (a Accelerator) MFUDefault() Ranged {
	if a.Class == ClassTPU {
		return DefaultMFUTPU
	}
	return DefaultMFUGPU
}

// PeakFLOPS returns the peak FLOP/s at precision prec, or the default
// precision when prec is empty.
func (a Accelerator) PeakFLOPS(prec Precision) (float64, Precision, error) {
	if prec == "" {
		def, ok := a.DefaultPrecision()
		if !ok {
			return 0, "", fmt.Errorf("accelerator %q has no peak FLOP/s in the catalog", a.Name)
		}
		prec = def
	}
	tflops := a.PeakTFLOPS[prec]
	if tflops <= 0 {
		return 0, "", fmt.Errorf("accelerator %q has no %s peak in the catalog: use one of %s",
			a.Name, prec, strings.Join(a.precisions(), ", "))
	}
	return tflops * flopsPerTFLOP, prec, nil
}

func (a Accelerator) precisions() []string {
	var list []string
	for _, p := range Precisions {
		if a.PeakTFLOPS[p] > 0 {
			list = append(list, string(p))
		}
	}
	sort.Strings(list)
	return list
}
