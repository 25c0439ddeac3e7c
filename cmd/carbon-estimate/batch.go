// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/carbonrun/carbonrun/estimator"
	"github.com/carbonrun/carbonrun/internal/grid"
)

const kWhPerMWh = 1000.0
const kgPerTonne = 1000.0

// batchRow is one output row of --runs: facility energy in MWh and
// operational emissions in tonnes CO2e, with their ranges.
type batchRow struct {
	ID            string  `json:"id"`
	EnergyMWh     float64 `json:"energy_mwh"`
	EnergyMWhLow  float64 `json:"energy_mwh_low"`
	EnergyMWhHigh float64 `json:"energy_mwh_high"`
	TCO2e         float64 `json:"tco2e"`
	TCO2eLow      float64 `json:"tco2e_low"`
	TCO2eHigh     float64 `json:"tco2e_high"`
	Error         string  `json:"error,omitempty"`
}

// runBatch estimates every row of the --runs file. The site flags fill in
// the PUE and intensity of rows that leave them empty. Rows that fail are
// reported in the error column. The exit code is 0 when at least one row
// was estimated, and 1 when every row failed.
func runBatch(o options, stdout, stderr io.Writer) int {
	f, err := os.Open(o.runsFile)
	if err != nil {
		return report(stderr, usageError{fmt.Errorf("reading --runs: %w", err)})
	}
	defer f.Close()
	rows, unknown, err := estimator.ParseRuns(f)
	if err != nil {
		return report(stderr, usageError{fmt.Errorf("reading --runs %s: %w", o.runsFile, err)})
	}
	if len(rows) == 0 {
		return report(stderr, usageError{fmt.Errorf("--runs %s has no rows: add one line per "+
			"run below the header", o.runsFile)})
	}
	site, _, err := resolveSite(o.region, o.carbonIntensity, o.pue)
	if err != nil {
		return report(stderr, err)
	}
	for _, msg := range batchWarnings(rows, unknown, site) {
		fmt.Fprintf(stderr, "carbon-estimate: warning: --runs %s: %s\n", o.runsFile, msg)
	}

	resolve := func(name string) (estimator.Accelerator, error) {
		acc, err := lookupAccelerator(name)
		if err != nil {
			return acc, fmt.Errorf("unknown hardware %q", name)
		}
		return acc, nil
	}
	var out []batchRow
	estimated := 0
	for _, res := range estimator.EstimateRuns(rows, resolve, site) {
		out = append(out, toBatchRow(res))
		if res.Err == nil {
			estimated++
		}
	}
	if err := writeBatch(stdout, o.format, out); err != nil {
		return report(stderr, fmt.Errorf("writing output: %w", err))
	}
	if estimated == 0 {
		fmt.Fprintf(stderr, "carbon-estimate: none of the %d rows of --runs %s could be "+
			"estimated; see the error column\n", len(rows), o.runsFile)
		return exitError
	}
	return exitOK
}

// batchWarnings returns the warnings about a batch file: unknown columns,
// duplicate ids, and rows whose PUE or intensity comes from a fallback
// rather than the row or a site flag.
func batchWarnings(rows []estimator.RunRow, unknown []string, site estimator.Site) []string {
	var warnings []string
	if len(unknown) > 0 {
		warnings = append(warnings, fmt.Sprintf("unknown columns %s are ignored; the expected "+
			"columns are %s (and %s, which are not read)", strings.Join(unknown, ", "),
			strings.Join(estimator.RunColumns, ", "), strings.Join(estimator.RunNoteColumns, ", ")))
	}
	seen := map[string]bool{}
	var duplicates, noPUE, noIntensity []string
	for _, r := range rows {
		if r.ID != "" && seen[r.ID] && !slices.Contains(duplicates, r.ID) {
			duplicates = append(duplicates, r.ID)
		}
		seen[r.ID] = true
		if r.PUE == 0 {
			noPUE = append(noPUE, rowName(r))
		}
		if r.CarbonIntensity == 0 {
			noIntensity = append(noIntensity, rowName(r))
		}
	}
	if len(duplicates) > 0 {
		warnings = append(warnings, fmt.Sprintf("ids %s appear more than once; give each run "+
			"its own id", strings.Join(duplicates, ", ")))
	}
	if len(noPUE) > 0 && site.PUESource == grid.PUEDefault {
		warnings = append(warnings, fmt.Sprintf("rows %s have no pue, so PUE %s was used and "+
			"facility overhead is not counted; fill the pue column or set --pue",
			strings.Join(noPUE, ", "), strconv.FormatFloat(site.PUE, 'g', -1, 64)))
	}
	if len(noIntensity) > 0 && strings.HasPrefix(site.IntensitySource, grid.IntensityFallback) {
		warnings = append(warnings, fmt.Sprintf("rows %s have no carbon_intensity_g_per_kwh, so "+
			"the world average %s g/kWh was used; fill the column or set --region or "+
			"--carbon-intensity", strings.Join(noIntensity, ", "),
			strconv.FormatFloat(float64(site.Intensity), 'g', -1, 64)))
	}
	return warnings
}

// rowName names a row by its id, or by its line when it has none.
func rowName(r estimator.RunRow) string {
	if r.ID == "" {
		return fmt.Sprintf("(line %d)", r.Line)
	}
	return r.ID
}

func toBatchRow(res estimator.RunResult) batchRow {
	r := batchRow{ID: res.Row.ID}
	if res.Err != nil {
		// Joined errors span lines, which would break the text table.
		msg := strings.ReplaceAll(res.Err.Error(), "\n", "; ")
		r.Error = fmt.Sprintf("line %d: %s", res.Row.Line, msg)
		return r
	}
	e := res.Estimate
	r.EnergyMWh = float64(e.FacilityEnergyKWh) / kWhPerMWh
	r.EnergyMWhLow = float64(e.Low.FacilityEnergyKWh) / kWhPerMWh
	r.EnergyMWhHigh = float64(e.High.FacilityEnergyKWh) / kWhPerMWh
	r.TCO2e = e.EmissionsKg / kgPerTonne
	r.TCO2eLow = e.Low.EmissionsKg / kgPerTonne
	r.TCO2eHigh = e.High.EmissionsKg / kgPerTonne
	return r
}

func writeBatch(w io.Writer, format string, rows []batchRow) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"id", "energy_mwh", "energy_mwh_low", "energy_mwh_high",
			"tco2e", "tco2e_low", "tco2e_high", "error"})
		for _, r := range rows {
			_ = cw.Write(batchFields(r))
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "id\tMWh\tlow\thigh\ttCO2e\tlow\thigh\terror\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t\n", joinTabs(batchFields(r)))
	}
	return tw.Flush()
}

func batchFields(r batchRow) []string {
	if r.Error != "" {
		return []string{r.ID, "", "", "", "", "", "", r.Error}
	}
	return []string{r.ID, g(r.EnergyMWh), g(r.EnergyMWhLow), g(r.EnergyMWhHigh),
		g(r.TCO2e), g(r.TCO2eLow), g(r.TCO2eHigh), ""}
}

func joinTabs(fields []string) string {
	s := fields[0]
	for _, f := range fields[1:] {
		s += "\t" + f
	}
	return s
}
