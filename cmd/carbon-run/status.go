// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/carbonrun/carbonrun/internal/grid"
	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/report"
	"github.com/carbonrun/carbonrun/sampler"
)

// statusLine is the one-line live status on a terminal's stderr. It is
// rewritten in place with a carriage return and never ends in a newline, so
// the command's own output simply writes over it.
type statusLine struct {
	w       io.Writer
	enabled bool
	buf     []byte
	shown   bool
}

func newStatusLine(w io.Writer, enabled bool) *statusLine {
	return &statusLine{w: w, enabled: enabled}
}

// update shows elapsed time, power, energy and emissions so far.
func (s *statusLine) update(elapsed time.Duration, totals []sampler.Total, site grid.Site) {
	if !s.enabled {
		return
	}
	var power units.Watts
	var energy units.Joules
	for i := range totals {
		power += totals[i].Power
		energy += totals[i].Energy
	}
	facility := units.KWh(float64(energy.KWh()) * site.PUE)
	grams := site.Intensity.Emissions(facility)

	b := append(s.buf[:0], "\r\x1b[K[carbon-run] "...)
	b = append(b, elapsed.Round(time.Second).String()...)
	b = append(b, "  "...)
	b = strconv.AppendFloat(b, float64(power), 'f', 0, 64)
	b = append(b, " W  "...)
	b = strconv.AppendFloat(b, float64(energy.KWh()), 'f', 5, 64)
	b = append(b, " kWh  "...)
	b = strconv.AppendFloat(b, float64(grams), 'f', 1, 64)
	b = append(b, " gCO2e"...)
	s.buf = b
	_, _ = s.w.Write(b)
	s.shown = true
}

// clear erases the status line before the summary is printed.
func (s *statusLine) clear() {
	if s.shown {
		_, _ = io.WriteString(s.w, "\r\x1b[K")
		s.shown = false
	}
}

// printSummary writes the short end-of-run summary.
func printSummary(w io.Writer, r *report.Report, dir string) {
	fmt.Fprintf(w, "\ncarbon-run: %s finished (%s) after %s\n", r.JobID, r.Status,
		time.Duration(r.DurationSeconds*float64(time.Second)).Round(time.Millisecond))
	for _, c := range r.Components {
		fmt.Fprintf(w, "  %-4s %-32s %12.4g kWh  %8.1f W mean  %s\n",
			c.Kind, truncate(c.Name, 32), c.EnergyKWh, c.MeanPowerWatts, c.Method)
	}
	fmt.Fprintf(w, "  IT energy %.4g kWh (measured %.4g, estimated %.4g), PUE %.2f, facility %.4g kWh\n",
		r.ITEnergyKWh, r.MeasuredEnergyKWh, r.EstimatedEnergyKWh, r.PUE, r.FacilityEnergyKWh)
	fmt.Fprintf(w, "  emissions %.4g kg CO2e at %.1f gCO2e/kWh (%s, %s)\n",
		r.EmissionsKg, r.CarbonIntensityGPerKWh, r.Region.Code, r.IntensitySource)
	fmt.Fprintf(w, "  report: %s\n", dir)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "~"
}
