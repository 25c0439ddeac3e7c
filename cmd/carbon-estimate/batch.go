// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/carbonrun/carbonrun/estimator"
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
// reported in the error column; the exit code is 0 when the file was read.
func runBatch(o options, stdout, stderr io.Writer) int {
	f, err := os.Open(o.runsFile)
	if err != nil {
		return report(stderr, usageError{fmt.Errorf("reading --runs: %w", err)})
	}
	defer f.Close()
	rows, err := estimator.ParseRuns(f)
	if err != nil {
		return report(stderr, usageError{fmt.Errorf("reading --runs %s: %w", o.runsFile, err)})
	}
	site, _, err := resolveSite(o.region, o.carbonIntensity, o.pue)
	if err != nil {
		return report(stderr, err)
	}

	resolve := func(name string) (estimator.Accelerator, error) {
		acc, err := lookupAccelerator(name)
		if err != nil {
			return acc, fmt.Errorf("unknown hardware %q", name)
		}
		return acc, nil
	}
	var out []batchRow
	for _, res := range estimator.EstimateRuns(rows, resolve, site) {
		out = append(out, toBatchRow(res))
	}
	if err := writeBatch(stdout, o.format, out); err != nil {
		return report(stderr, fmt.Errorf("writing output: %w", err))
	}
	return exitOK
}

func toBatchRow(res estimator.RunResult) batchRow {
	r := batchRow{ID: res.Row.ID}
	if res.Err != nil {
		r.Error = fmt.Sprintf("line %d: %v", res.Row.Line, res.Err)
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
