// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package estimator

import (
	"encoding/csv"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/carbonrun/carbonrun/internal/hardware"
)

var (
	accuracy = flag.Bool("accuracy", false,
		"run the published-runs accuracy benchmark and print its figures")
	runsPath = flag.String("runs", "testdata/published-runs.csv",
		"published-runs CSV for the accuracy benchmark")
)

// worldSite is the site carbon-estimate uses for a row without PUE or
// intensity and no site flags: the world average and PUE 1.0.
var worldSite = Site{Region: "WORLD", Intensity: 480, IntensitySource: "fallback", PUE: 1,
	PUESource: "default"}

func catalogResolver(name string) (Accelerator, error) {
	g, err := hardware.LookupGPU(name)
	if err != nil {
		return Accelerator{}, err
	}
	return FromCatalog(g), nil
}

// reported holds the published outputs of a row, which the model never reads.
type reported struct {
	energyMWh, tco2e, powerW float64
}

func readReported(t *testing.T, path string) map[string]reported {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range records[0] {
		col[name] = i
	}
	parse := func(rec []string, name string) float64 {
		v, _ := strconv.ParseFloat(rec[col[name]], 64)
		return v
	}
	out := map[string]reported{}
	for _, rec := range records[1:] {
		out[rec[col["id"]]] = reported{
			energyMWh: parse(rec, "reported_energy_mwh"),
			tco2e:     parse(rec, "reported_tco2e"),
			powerW:    parse(rec, "reported_power_w"),
		}
	}
	return out
}

func loadRuns(t *testing.T) []RunRow {
	t.Helper()
	f, err := os.Open(*runsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, unknown, err := ParseRuns(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(unknown) > 0 {
		t.Fatalf("published runs have unknown columns %q", unknown)
	}
	return rows
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func TestDefaultsMatchEvidence(t *testing.T) {
	rows := loadRuns(t)
	rep := readReported(t, *runsPath)
	mfu := map[Class][]float64{}
	var fractions []float64
	for _, row := range rows {
		acc, err := catalogResolver(row.Hardware)
		if err != nil || row.AcceleratorCount == 0 || row.TrainingDays == 0 {
			continue
		}
		hours := float64(row.AcceleratorCount) * row.TrainingDays * 24
		if row.ReportedTrainFLOPs > 0 {
			peak, _, err := acc.PeakFLOPS("")
			if err == nil {
				mfu[acc.Class] = append(mfu[acc.Class],
					row.ReportedTrainFLOPs/(hours*secondsPerHour*peak))
			}
		}
		measured := strings.HasPrefix(row.ID, "patterson_") || strings.HasPrefix(row.ID, "strubell_")
		if p := rep[row.ID].powerW; measured && p > 0 && acc.TDP > 0 {
			fractions = append(fractions, p/float64(acc.TDP))
		}
	}
	check := func(name string, got []float64, want Ranged) {
		t.Helper()
		if len(got) == 0 {
			t.Fatalf("%s: no evidence rows", name)
		}
		sort.Float64s(got)
		t.Logf("%s evidence: %.3f", name, got)
		for _, c := range []struct {
			what      string
			got, want float64
		}{{"median", median(got), want.Value}, {"min", got[0], want.Low},
			{"max", got[len(got)-1], want.High}} {
			if math.Abs(c.got-c.want) > 0.006 {
				t.Errorf("%s %s = %.3f, want %.2f", name, c.what, c.got, c.want)
			}
		}
	}
	check("GPU MFU", mfu[ClassGPU], DefaultMFUGPU)
	check("TPU MFU", mfu[ClassTPU], DefaultMFUTPU)
	check("power fraction", fractions, DefaultPowerFraction)
}

type miss struct {
	id                  string
	got, want, errorPct float64
	inside              bool
	// baselineErrorPct is the error of the full-TDP method (accelerator
	// TDP x hours x PUE, as the ML CO2 Impact calculator computes), which
	// the same run scores for comparison.
	baselineErrorPct float64
}

func summarise(t *testing.T, title string, misses []miss) {
	t.Helper()
	if len(misses) == 0 {
		return
	}
	var sum, baselineSum float64
	inside := 0
	for _, m := range misses {
		sum += math.Abs(m.errorPct)
		baselineSum += math.Abs(m.baselineErrorPct)
		if m.inside {
			inside++
		}
	}
	sort.Slice(misses, func(i, j int) bool {
		return math.Abs(misses[i].errorPct) > math.Abs(misses[j].errorPct)
	})
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d rows, MAPE %.1f%% (full-TDP baseline %.1f%%), median APE %.1f%%, "+
		"%d of %d inside low-high\n", title, len(misses), sum/float64(len(misses)),
		baselineSum/float64(len(misses)), medianAbs(misses), inside, len(misses))
	for _, m := range misses {
		fmt.Fprintf(&b, "  %-30s estimate %10.4g  reported %10.4g  error %+6.1f%%  baseline %+6.1f%%  inside %v\n",
			m.id, m.got, m.want, m.errorPct, m.baselineErrorPct, m.inside)
	}
	t.Log("\n" + b.String())
}

func medianAbs(misses []miss) float64 {
	var v []float64
	for _, m := range misses {
		v = append(v, math.Abs(m.errorPct))
	}
	return median(v)
}

// TestPublishedRunsAccuracy compares estimates with the energy and emissions
// that published runs report. It only prints figures; run it with
//
//	go test ./estimator -run TestPublishedRunsAccuracy -accuracy -v
func TestPublishedRunsAccuracy(t *testing.T) {
	if !*accuracy {
		t.Skip("accuracy benchmark runs with -accuracy")
	}
	rows := loadRuns(t)
	rep := readReported(t, *runsPath)
	groups := map[string][]miss{}
	for _, res := range EstimateRuns(rows, catalogResolver, worldSite) {
		if res.Err != nil {
			t.Logf("%s: not estimated: %v", res.Row.ID, res.Err)
			continue
		}
		r, e := rep[res.Row.ID], res.Estimate
		withHours := res.Row.ReportedAcceleratorHours > 0 ||
			(res.Row.AcceleratorCount > 0 && res.Row.TrainingDays > 0)
		kind := "from FLOPs or 6ND (no hours)"
		if withHours {
			kind = "with hardware and hours"
		}
		if r.energyMWh > 0 {
			groups["energy, "+kind] = append(groups["energy, "+kind], compareTo(res.Row.ID,
				float64(e.FacilityEnergyKWh)/1000, float64(e.Low.FacilityEnergyKWh)/1000,
				float64(e.High.FacilityEnergyKWh)/1000, r.energyMWh))
		}
		if r.tco2e > 0 {
			site := "intensity stated"
			if res.Row.CarbonIntensity == 0 {
				site = "world-average intensity"
			}
			key := "emissions, " + kind + ", " + site
			groups[key] = append(groups[key], compareTo(res.Row.ID, e.EmissionsKg/1000,
				e.Low.EmissionsKg/1000, e.High.EmissionsKg/1000, r.tco2e))
		}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		summarise(t, k, groups[k])
	}
}

// compareTo scores an estimate against a reported figure. Energy and
// emissions scale linearly with the power fraction, so the full-TDP
// baseline is the estimate divided by the default fraction.
func compareTo(id string, got, low, high, want float64) miss {
	baseline := got / DefaultPowerFraction.Value
	return miss{id: id, got: got, want: want, errorPct: 100 * (got - want) / want,
		inside: low <= want && want <= high, baselineErrorPct: 100 * (baseline - want) / want}
}
