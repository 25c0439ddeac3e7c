// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/carbonrun/carbonrun/estimator"
)

// jsonOutput is the JSON document: the estimate's fields, plus the ranked
// comparisons or recommendations when asked for.
type jsonOutput struct {
	estimator.Estimate
	Comparisons     []estimator.Comparison `json:"comparisons,omitempty"`
	Recommendations []estimator.Comparison `json:"recommendations,omitempty"`
}

func write(w io.Writer, format string, e estimator.Estimate, title string,
	comps []estimator.Comparison) error {
	switch format {
	case "json":
		out := jsonOutput{Estimate: e}
		if title == "recommendations" {
			out.Recommendations = comps
		} else {
			out.Comparisons = comps
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "csv":
		return writeCSV(w, e, comps)
	}
	return writeText(w, e, title, comps)
}

func writeText(w io.Writer, e estimator.Estimate, title string, comps []estimator.Comparison) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "Analytical estimate (method %s)\n\n", e.Method)
	fmt.Fprintln(tw, "\testimate\tlow\thigh\t")
	if e.FLOPs > 0 {
		fmt.Fprintf(tw, "training FLOPs\t%.3g\t\t\t\n", e.FLOPs)
	}
	rows := []struct {
		name           string
		mid, low, high float64
	}{
		{"accelerator-hours", e.AcceleratorHours, e.Low.AcceleratorHours, e.High.AcceleratorHours},
		{"IT energy (kWh)", float64(e.ITEnergyKWh), float64(e.Low.ITEnergyKWh),
			float64(e.High.ITEnergyKWh)},
		{"facility energy (kWh)", float64(e.FacilityEnergyKWh), float64(e.Low.FacilityEnergyKWh),
			float64(e.High.FacilityEnergyKWh)},
		{"emissions (kg CO2e)", e.EmissionsKg, e.Low.EmissionsKg, e.High.EmissionsKg},
	}
	for i, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", r.name, number(r.mid), number(r.low),
			number(r.high))
		if i == 0 && e.WallClockHours == nil {
			fmt.Fprintln(tw, "wall-clock hours\tunknown (give --count)\t\t\t")
		} else if i == 0 {
			fmt.Fprintf(tw, "wall-clock hours\t%s\t%s\t%s\t\n", hours(e.WallClockHours),
				hours(e.Low.WallClockHours), hours(e.High.WallClockHours))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if e.PowerNote != "" {
		fmt.Fprintf(w, "power fraction: %s\n", e.PowerNote)
	}
	embodied := e.EmbodiedNote
	if e.EmbodiedEmissionsKg != nil {
		embodied = fmt.Sprintf("%s kg (%s)", number(*e.EmbodiedEmissionsKg), e.EmbodiedNote)
	}
	fmt.Fprintf(w, "embodied emissions: %s\n", embodied)
	if e.FLOPsFormula != "" && e.FLOPsFormula != "given" {
		fmt.Fprintf(w, "FLOPs formula: %s\n", e.FLOPsFormula)
	}

	fmt.Fprintln(w, "\nAssumptions:")
	for _, a := range e.Assumptions {
		fmt.Fprintf(w, "  %s = %s  [%s]\n", a.Name, a.Value, a.Source)
	}
	for _, msg := range e.Warnings {
		fmt.Fprintf(w, "warning: %s\n", msg)
	}
	if title != "" {
		return writeComparisons(w, title, comps)
	}
	return nil
}

func writeComparisons(w io.Writer, title string, comps []estimator.Comparison) error {
	fmt.Fprintf(w, "\n%s%s, ranked by emissions saved:\n",
		strings.ToUpper(title[:1]), title[1:])
	if len(comps) == 0 {
		fmt.Fprintln(w, "  none saves emissions")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "rank\tchange\temissions kg\tsaved kg\tsaved %\twall-clock h\taccelerator-h\t")
	for i, c := range comps {
		wall := "unknown"
		if c.WallClockDeltaHours != nil {
			wall = signed(*c.WallClockDeltaHours)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%.1f%%\t%s\t%s\t\n", i+1, c.Label,
			number(c.Estimate.EmissionsKg), number(c.SavedKg), c.SavedPercent,
			wall, signed(c.AcceleratorHoursDelta))
	}
	return tw.Flush()
}

// hours formats wall-clock hours, which are unknown without a count.
func hours(v *float64) string {
	if v == nil {
		return "unknown"
	}
	return number(*v)
}

// largeNumber is the magnitude from which number switches to exponent
// notation, because longer digit strings are hard to read.
const largeNumber = 1e15

// number formats v with thousands separators from 1,000 to largeNumber, four
// significant digits without an exponent below 1,000 (down to 1e-4), and
// four significant digits with an exponent above largeNumber.
func number(v float64) string {
	if v == 0 {
		return "0"
	}
	if math.Abs(v) >= largeNumber {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	if v >= 1000 || v <= -1000 {
		s := strconv.FormatFloat(v, 'f', 0, 64)
		neg := strings.HasPrefix(s, "-")
		s = strings.TrimPrefix(s, "-")
		for i := len(s) - 3; i > 0; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		if neg {
			s = "-" + s
		}
		return s
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func signed(v float64) string {
	s := number(v)
	if v > 0 {
		s = "+" + s
	}
	return s
}

var csvHeader = []string{
	"scenario", "method", "flops", "accelerator_hours", "accelerator_hours_low",
	"accelerator_hours_high", "wall_clock_hours", "it_energy_kwh", "facility_energy_kwh",
	"facility_energy_kwh_low", "facility_energy_kwh_high", "emissions_kg", "emissions_kg_low",
	"emissions_kg_high", "embodied_emissions_kg", "saved_kg", "saved_percent",
}

func writeCSV(w io.Writer, e estimator.Estimate, comps []estimator.Comparison) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	if err := cw.Write(csvRow("baseline", e, 0, 0)); err != nil {
		return err
	}
	for _, c := range comps {
		if err := cw.Write(csvRow(c.Label, c.Estimate, c.SavedKg, c.SavedPercent)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvRow(label string, e estimator.Estimate, savedKg, savedPercent float64) []string {
	embodied := ""
	if e.EmbodiedEmissionsKg != nil {
		embodied = g(*e.EmbodiedEmissionsKg)
	}
	return []string{
		label, string(e.Method), g(e.FLOPs), g(e.AcceleratorHours), g(e.Low.AcceleratorHours),
		g(e.High.AcceleratorHours), optional(e.WallClockHours), g(float64(e.ITEnergyKWh)),
		g(float64(e.FacilityEnergyKWh)), g(float64(e.Low.FacilityEnergyKWh)),
		g(float64(e.High.FacilityEnergyKWh)), g(e.EmissionsKg), g(e.Low.EmissionsKg),
		g(e.High.EmissionsKg), embodied, g(savedKg), g(savedPercent),
	}
}

func g(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// optional formats v, or returns an empty cell when it is unknown.
func optional(v *float64) string {
	if v == nil {
		return ""
	}
	return g(*v)
}
