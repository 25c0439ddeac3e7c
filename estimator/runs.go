// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package estimator

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/carbonrun/carbonrun/internal/units"
)

// RunRow is one training run from a batch CSV. Only inputs are read:
// columns with reported outputs (energy, emissions, power) are ignored, so
// a published run can be checked against a figure it was not computed from.
type RunRow struct {
	Line                     int // line in the CSV file, for messages
	ID                       string
	Hardware                 string
	AcceleratorCount         int
	ReportedAcceleratorHours float64
	TrainingDays             float64
	ParamsTotal              float64
	ParamsActive             float64
	Tokens                   float64
	ReportedTrainFLOPs       float64
	PUE                      float64
	CarbonIntensity          float64 // g CO2e per kWh
	// Err is set when a cell of the row is invalid; the row is not estimated.
	Err error
}

// RunColumns lists the batch CSV columns the estimator reads.
var RunColumns = []string{
	"id", "hardware", "accelerator_count", "reported_accelerator_hours", "training_days",
	"params_total", "params_active", "tokens", "reported_train_flops", "pue",
	"carbon_intensity_g_per_kwh",
}

// RunNoteColumns lists batch CSV columns that describe a run or hold its
// published outputs. The estimator never reads them, so a published run
// can be checked against figures it was not computed from.
var RunNoteColumns = []string{
	"model", "year", "source", "notes", "reported_power_w", "reported_energy_mwh",
	"reported_tco2e", "reported_embodied_tco2e",
}

// ParseRuns reads a batch CSV with a header row and returns its rows and
// the header's unknown columns: those in neither RunColumns nor
// RunNoteColumns, which are ignored and usually misspelled. Empty cells mean
// "not given", and a row with an invalid cell keeps its error in Err so
// that the other rows still run.
func ParseRuns(r io.Reader) (rows []RunRow, unknown []string, err error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("reading runs csv header: %w", err)
	}
	index := map[string]int{}
	for i, name := range header {
		name = strings.TrimSpace(strings.ToLower(name))
		index[name] = i
		if !slices.Contains(RunColumns, name) && !slices.Contains(RunNoteColumns, name) {
			unknown = append(unknown, name)
		}
	}
	if _, ok := index["id"]; !ok {
		return nil, unknown, errors.New("runs csv has no id column: the header must name " +
			"the columns " + strings.Join(RunColumns, ","))
	}

	for {
		record, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, unknown, nil
		}
		if err != nil {
			return rows, unknown, fmt.Errorf("reading runs csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		rows = append(rows, parseRunRow(record, index, line))
	}
}

func parseRunRow(record []string, index map[string]int, line int) RunRow {
	cell := func(name string) string {
		i, ok := index[name]
		if !ok || i >= len(record) {
			return ""
		}
		return strings.TrimSpace(record[i])
	}
	row := RunRow{Line: line, ID: cell("id"), Hardware: cell("hardware")}
	var errs []error
	number := func(name string, dst *float64) {
		s := cell(name)
		if s == "" {
			return
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 {
			errs = append(errs, fmt.Errorf("invalid %s %q: want a positive number", name, s))
			return
		}
		*dst = v
	}
	var count float64
	number("accelerator_count", &count)
	if count != float64(int(count)) {
		errs = append(errs, fmt.Errorf("invalid accelerator_count %v: want a whole number", count))
	}
	row.AcceleratorCount = int(count)
	number("reported_accelerator_hours", &row.ReportedAcceleratorHours)
	number("training_days", &row.TrainingDays)
	number("params_total", &row.ParamsTotal)
	number("params_active", &row.ParamsActive)
	number("tokens", &row.Tokens)
	number("reported_train_flops", &row.ReportedTrainFLOPs)
	number("pue", &row.PUE)
	number("carbon_intensity_g_per_kwh", &row.CarbonIntensity)
	if row.ID == "" {
		errs = append(errs, errors.New("missing id"))
	}
	if row.PUE > 0 && row.PUE < 1 {
		errs = append(errs, fmt.Errorf("invalid pue %v: must be at least 1", row.PUE))
	}
	row.Err = errors.Join(errs...)
	return row
}

// Plan returns the plan for the row's inputs on accelerator acc.
func (r RunRow) Plan(acc Accelerator) Plan {
	p := Plan{
		Accelerator:      acc,
		Count:            r.AcceleratorCount,
		FLOPs:            r.ReportedTrainFLOPs,
		ParamsTotal:      r.ParamsTotal,
		ParamsActive:     r.ParamsActive,
		Tokens:           r.Tokens,
		AcceleratorHours: r.ReportedAcceleratorHours,
	}
	if r.TrainingDays > 0 && r.AcceleratorCount > 0 {
		p.WallClockHours = r.TrainingDays * 24
	}
	return p
}

// Site returns def with the row's PUE and intensity where the row has them.
func (r RunRow) Site(def Site) Site {
	s := def
	if r.PUE > 0 {
		s.PUE, s.PUESource = r.PUE, "batch row"
	}
	if r.CarbonIntensity > 0 {
		s.Region = ""
		s.Intensity, s.IntensitySource = units.GramsPerKWh(r.CarbonIntensity), "batch row"
	}
	return s
}

// RunResult is the estimate, or the reason there is none, for one row.
type RunResult struct {
	Row      RunRow
	Estimate Estimate
	Err      error
}

// Resolver maps hardware text, such as "NVIDIA A100-80GB", to catalog figures.
type Resolver func(name string) (Accelerator, error)

// EstimateRuns estimates every row, resolving its hardware text with resolve
// and filling missing site figures from def. A row that cannot be estimated
// gets an error; the others still run.
func EstimateRuns(rows []RunRow, resolve Resolver, def Site) []RunResult {
	results := make([]RunResult, 0, len(rows))
	for _, row := range rows {
		res := RunResult{Row: row, Err: row.Err}
		if res.Err == nil {
			res.Estimate, res.Err = estimateRow(row, resolve, def)
		}
		results = append(results, res)
	}
	return results
}

func estimateRow(row RunRow, resolve Resolver, def Site) (Estimate, error) {
	if row.Hardware == "" {
		return Estimate{}, errors.New("no hardware given")
	}
	acc, err := resolve(row.Hardware)
	if err != nil {
		return Estimate{}, err
	}
	return row.Plan(acc).Estimate(row.Site(def))
}
