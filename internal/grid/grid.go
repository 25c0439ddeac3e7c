// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package grid

import (
	"fmt"
	"sort"
	"strings"

	"github.com/carbonrun/carbonrun/internal/suggest"
	"github.com/carbonrun/carbonrun/internal/units"
)

// maxSuggestions is how many close region codes an unknown-region error
// offers.
const maxSuggestions = 3

// Region is one row of the intensity tables: a grid and its average carbon
// intensity with the source and data year of that figure.
type Region struct {
	// Code is the canonical region code: "FR", "US-CA", "WORLD",
	// "aws:us-east-1", "gcp:europe-west4" or "azure:westeurope".
	Code string
	// Name is the region's name as the source writes it (a country, state
	// or the provider's location label).
	Name string
	// Provider is the cloud provider ("aws", "gcp", "azure") of a cloud
	// region and empty otherwise.
	Provider string
	// Country is the ISO 3166-1 alpha-2 country of the region, empty for
	// WORLD.
	Country string
	// Intensity is the grid's average carbon intensity.
	Intensity units.GramsPerKWh
	// Source is the key of the dataset the intensity comes from, as listed
	// in data/PROVENANCE.md.
	Source string
	// Year is the year the intensity figure describes.
	Year int
}

// PUE is a power usage effectiveness figure: facility energy divided by IT
// energy, with its source and the year it describes.
type PUE struct {
	Value  float64
	Source string
	Year   int
}

// UnknownRegionError is returned for a region code that is in none of the
// embedded tables.
type UnknownRegionError struct {
	// Input is the code as the user gave it.
	Input string
	// Suggestions contains up to three known codes close to Input, best
	// first. It may be empty.
	Suggestions []string
}

// Error names the unknown code, the closest known codes and how to fix it.
func (e *UnknownRegionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "unknown region %q", e.Input)
	if len(e.Suggestions) > 0 {
		fmt.Fprintf(&b, " (did you mean %s?)", joinOr(e.Suggestions))
	}
	b.WriteString(": use an ISO 3166 code such as FR or US-CA, a cloud region such as " +
		"aws:us-east-1, gcp:europe-west4 or azure:westeurope, or set --carbon-intensity")
	return b.String()
}

// joinOr writes "a", "a or b", "a, b or c".
func joinOr(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// Lookup returns the table row for code. Matching ignores case and
// surrounding space. A cloud region needs its provider prefix, written
// "aws:us-east-1" or "aws/us-east-1". An unknown code returns an
// *UnknownRegionError with close matches.
func Lookup(code string) (Region, error) {
	t := loadTables()
	if r, ok := t.regions[canonicalKey(code)]; ok {
		return r, nil
	}
	return Region{}, &UnknownRegionError{Input: code, Suggestions: t.suggest(code)}
}

// World returns the world-average row, the figure used when no region is
// known.
func World() Region {
	return loadTables().regions[WorldCode]
}

// ProviderPUE returns the published PUE of a cloud provider ("aws", "gcp",
// "azure", "meta", "oracle", "ovhcloud") or of an industry average listed in
// the table ("industry_average_uptime"). Matching ignores case.
func ProviderPUE(provider string) (PUE, bool) {
	p, ok := loadTables().pue[strings.ToLower(strings.TrimSpace(provider))]
	return p, ok
}

// canonicalKey maps user input to a table key: "provider:region" in lower
// case for cloud regions, the upper-case code otherwise.
func canonicalKey(code string) string {
	code = strings.TrimSpace(code)
	if provider, region, ok := cutProvider(code); ok {
		return strings.ToLower(provider + ":" + region)
	}
	return strings.ToUpper(code)
}

// cutProvider splits "aws:us-east-1" or "aws/us-east-1" into its parts.
func cutProvider(code string) (provider, region string, ok bool) {
	if i := strings.IndexAny(code, ":/"); i > 0 {
		return strings.TrimSpace(code[:i]), strings.TrimSpace(code[i+1:]), true
	}
	return "", "", false
}

// suggest returns up to maxSuggestions codes close to input. A cloud input
// is compared with the regions of its provider, or with all cloud regions
// when the provider is unknown. Other input is compared with ISO codes and
// region names, and a matching name suggests its code.
func (t *tables) suggest(input string) []string {
	key := canonicalKey(input)
	var candidates []string
	if provider, _, ok := cutProvider(key); ok {
		candidates = t.cloudCodes(provider)
		if len(candidates) == 0 {
			candidates = t.cloudCodes("")
		}
		return suggest.Closest(key, candidates, maxSuggestions)
	}

	for _, c := range t.codes {
		if !strings.Contains(c, ":") {
			candidates = append(candidates, c)
		}
	}
	names := make([]string, 0, len(t.names))
	for name := range t.names {
		names = append(names, name)
	}
	sort.Strings(names)
	candidates = append(candidates, names...)
	var out []string
	seen := make(map[string]bool)
	for _, c := range suggest.Closest(input, candidates, len(candidates)) {
		if code, ok := t.names[c]; ok {
			c = code
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
		if len(out) == maxSuggestions {
			break
		}
	}
	return out
}

// cloudCodes lists the cloud region codes of provider, or of every
// provider when provider is empty.
func (t *tables) cloudCodes(provider string) []string {
	var out []string
	for _, c := range t.codes {
		p, _, ok := strings.Cut(c, ":")
		if ok && (provider == "" || p == provider) {
			out = append(out, c)
		}
	}
	return out
}
