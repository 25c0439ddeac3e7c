// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package grid

import (
	"embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/carbonrun/carbonrun/internal/csvtable"
	"github.com/carbonrun/carbonrun/internal/units"
)

//go:embed data/countries.csv data/cloud-regions.csv data/pue.csv
var dataFS embed.FS

// WorldCode is the region code of the world-average grid.
const WorldCode = "WORLD"

// tables is the parsed content of the embedded CSV files.
type tables struct {
	// regions maps the canonical key (upper-case ISO code, or lower-case
	// "provider:region") to its row.
	regions map[string]Region
	// codes lists every region code in file order, for suggestions.
	codes []string
	// names maps a lower-case region name to its code, for suggestions.
	names map[string]string
	pue   map[string]PUE
}

// loadTables parses the embedded tables once. The files are part of the
// binary and checked by the package tests, so a parse error is a build
// defect and panics.
var loadTables = sync.OnceValue(func() *tables {
	t, err := parseTables()
	if err != nil {
		panic(fmt.Sprintf("grid: embedded data: %v", err))
	}
	return t
})

func parseTables() (*tables, error) {
	t := &tables{
		regions: make(map[string]Region),
		names:   make(map[string]string),
		pue:     make(map[string]PUE),
	}
	if err := t.parseCountries(); err != nil {
		return nil, err
	}
	if err := t.parseCloudRegions(); err != nil {
		return nil, err
	}
	if err := t.parsePUE(); err != nil {
		return nil, err
	}
	if _, ok := t.regions[WorldCode]; !ok {
		return nil, fmt.Errorf("countries.csv has no %s row", WorldCode)
	}
	return t, nil
}

func (t *tables) parseCountries() error {
	return readCSV("countries.csv", []string{"code", "name", "g_co2e_per_kwh", "year", "source"},
		func(row []string) error {
			r := Region{Code: strings.ToUpper(row[0]), Name: row[1], Source: row[4]}
			if r.Code != WorldCode {
				r.Country, _, _ = strings.Cut(r.Code, "-")
			}
			if err := parseIntensityYear(&r, row[2], row[3]); err != nil {
				return err
			}
			return t.add(r.Code, r)
		})
}

func (t *tables) parseCloudRegions() error {
	header := []string{"provider", "region", "location", "country_code", "g_co2e_per_kwh", "year", "source"}
	return readCSV("cloud-regions.csv", header, func(row []string) error {
		provider := strings.ToLower(row[0])
		r := Region{
			Code:     provider + ":" + strings.ToLower(row[1]),
			Name:     row[2],
			Provider: provider,
			Country:  strings.ToUpper(row[3]),
			Source:   row[6],
		}
		if err := parseIntensityYear(&r, row[4], row[5]); err != nil {
			return err
		}
		return t.add(r.Code, r)
	})
}

func (t *tables) parsePUE() error {
	return readCSV("pue.csv", []string{"provider_or_kind", "pue", "year", "source"},
		func(row []string) error {
			value, err := strconv.ParseFloat(row[1], 64)
			if err != nil {
				return fmt.Errorf("pue %q: %w", row[1], err)
			}
			year, err := strconv.Atoi(row[2])
			if err != nil {
				return fmt.Errorf("year %q: %w", row[2], err)
			}
			key := strings.ToLower(row[0])
			if _, dup := t.pue[key]; dup {
				return fmt.Errorf("duplicate provider %q", key)
			}
			t.pue[key] = PUE{Value: value, Source: row[3], Year: year}
			return nil
		})
}

func (t *tables) add(code string, r Region) error {
	if _, dup := t.regions[code]; dup {
		return fmt.Errorf("duplicate region %q", code)
	}
	t.regions[code] = r
	t.codes = append(t.codes, r.Code)
	if r.Provider == "" {
		t.names[strings.ToLower(r.Name)] = r.Code
	}
	return nil
}

func parseIntensityYear(r *Region, intensity, year string) error {
	g, err := strconv.ParseFloat(intensity, 64)
	if err != nil {
		return fmt.Errorf("region %s intensity %q: %w", r.Code, intensity, err)
	}
	y, err := strconv.Atoi(year)
	if err != nil {
		return fmt.Errorf("region %s year %q: %w", r.Code, year, err)
	}
	r.Intensity = units.GramsPerKWh(g)
	r.Year = y
	return nil
}

// readCSV reads data/name, checks its header and calls fn for every row.
func readCSV(name string, header []string, fn func(row []string) error) error {
	return csvtable.Read(dataFS, "data/"+name, header, fn)
}

// Regions returns every region in the embedded tables: countries and
// subdivisions first, then cloud regions, each in file order.
func Regions() []Region {
	t := loadTables()
	out := make([]Region, 0, len(t.codes))
	for _, c := range t.codes {
		out = append(out, t.regions[canonicalKey(c)])
	}
	return out
}

// Providers returns the keys of the PUE table in sorted order: cloud
// providers ("aws", "gcp", "azure", ...) and industry averages.
func Providers() []string {
	t := loadTables()
	out := make([]string, 0, len(t.pue))
	for k := range t.pue {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
