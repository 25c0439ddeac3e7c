// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package grid

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEmbeddedTablesValid(t *testing.T) {
	tb, err := parseTables()
	if err != nil {
		t.Fatalf("parsing embedded tables: %v", err)
	}

	regions := Regions()
	if len(regions) < 400 {
		t.Errorf("got %d region rows, want at least 400", len(regions))
	}
	for _, r := range regions {
		if r.Code == "" || r.Name == "" || r.Source == "" {
			t.Errorf("row %+v: want code, name and source set", r)
		}
		if r.Intensity <= 0 || r.Intensity > 2000 {
			t.Errorf("%s intensity = %g g/kWh, want in (0, 2000]", r.Code, r.Intensity)
		}
		if r.Year < 2000 || r.Year > 2030 {
			t.Errorf("%s year = %d, want in [2000, 2030]", r.Code, r.Year)
		}
		if r.Code != WorldCode && len(r.Country) != 2 {
			t.Errorf("%s country = %q, want an alpha-2 code", r.Code, r.Country)
		}
		got, err := Lookup(r.Code)
		if err != nil {
			t.Errorf("Lookup(%q): %v", r.Code, err)
		}
		if diff := cmp.Diff(r, got); diff != "" {
			t.Errorf("Lookup(%q) mismatch (-want +got):\n%s", r.Code, diff)
		}
	}

	if len(tb.pue) == 0 {
		t.Fatal("PUE table is empty")
	}
	for key, p := range tb.pue {
		if p.Value < 1 {
			t.Errorf("PUE of %s = %g, want >= 1", key, p.Value)
		}
		if p.Source == "" || p.Year < 2000 {
			t.Errorf("PUE of %s = %+v, want a source and a year", key, p)
		}
	}
}

func TestCloudRegionsHaveProviderPUE(t *testing.T) {
	for _, r := range Regions() {
		if r.Provider == "" {
			continue
		}
		if _, ok := ProviderPUE(r.Provider); !ok {
			t.Errorf("provider %q of %s has no PUE row", r.Provider, r.Code)
		}
	}
}

func TestLookup(t *testing.T) {
	const (
		usVA = "countries.csv:US-VA (green-algorithms-v3.0)"
		nl   = "countries.csv:NL (owid-ember-via-codecarbon)"
	)
	tests := []struct {
		input string
		want  Region
	}{
		{"FR", Region{"FR", "France", "", "FR", 56.04, "owid-ember-via-codecarbon", 2023}},
		{"fr", Region{"FR", "France", "", "FR", 56.04, "owid-ember-via-codecarbon", 2023}},
		{" US-CA ", Region{"US-CA", "California", "", "US", 216.43, "green-algorithms-v3.0", 2020}},
		{"us-ca", Region{"US-CA", "California", "", "US", 216.43, "green-algorithms-v3.0", 2020}},
		{"world", Region{"WORLD", "World", "", "", 480, "ember-ger-2024", 2023}},
		{"aws:us-east-1", Region{"aws:us-east-1", "US East (N. Virginia)", "aws", "US", 308, usVA, 2020}},
		{"AWS:US-EAST-1", Region{"aws:us-east-1", "US East (N. Virginia)", "aws", "US", 308, usVA, 2020}},
		{"aws/us-east-1", Region{"aws:us-east-1", "US East (N. Virginia)", "aws", "US", 308, usVA, 2020}},
		{"gcp:europe-west4", Region{"gcp:europe-west4", "Eemshaven", "gcp", "NL", 208.81,
			"gcp-region-carbon-info-2024", 2024}},
		{"azure:westeurope", Region{"azure:westeurope", "West Europe, Netherlands", "azure", "NL", 267.62,
			nl, 2023}},
	}
	for _, tc := range tests {
		t.Run(tc.input, func(t *testing.T) {
			got, err := Lookup(tc.input)
			if err != nil {
				t.Fatalf("Lookup(%q): %v", tc.input, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Lookup(%q) mismatch (-want +got):\n%s", tc.input, diff)
			}
		})
	}
}

func TestLookupUnknown(t *testing.T) {
	tests := []struct {
		input string
		want  []string // each must be among the suggestions
	}{
		{"XX", []string{"MX"}},
		{"aws:us-east-9", []string{"aws:us-east-1", "aws:us-east-2"}},
		{"gcp:europe-west99", []string{"gcp:europe-west9"}},
		{"Netherlands", []string{"NL"}},
		{"us-east-1", nil},
		{"", nil},
	}
	for _, tc := range tests {
		t.Run(tc.input, func(t *testing.T) {
			_, err := Lookup(tc.input)
			var unknown *UnknownRegionError
			if !errors.As(err, &unknown) {
				t.Fatalf("Lookup(%q) error = %v, want *UnknownRegionError", tc.input, err)
			}
			if unknown.Input != tc.input {
				t.Errorf("Input = %q, want %q", unknown.Input, tc.input)
			}
			if len(unknown.Suggestions) > 3 {
				t.Errorf("got %d suggestions %v, want at most 3", len(unknown.Suggestions), unknown.Suggestions)
			}
			msg := err.Error()
			for _, s := range tc.want {
				if !slices.Contains(unknown.Suggestions, s) {
					t.Errorf("suggestions %v, want %q among them", unknown.Suggestions, s)
				}
				if !strings.Contains(msg, s) {
					t.Errorf("message %q, want it to contain %q", msg, s)
				}
			}
			for _, part := range []string{`"` + tc.input + `"`, "ISO 3166", "aws:us-east-1", "--carbon-intensity"} {
				if !strings.Contains(msg, part) {
					t.Errorf("message %q, want it to contain %q", msg, part)
				}
			}
		})
	}
}

func TestUnknownRegionErrorMessage(t *testing.T) {
	tests := []struct {
		suggestions []string
		want        string
	}{
		{nil, `unknown region "XX": use`},
		{[]string{"MX"}, `unknown region "XX" (did you mean MX?): use`},
		{[]string{"MX", "AX"}, `unknown region "XX" (did you mean MX or AX?): use`},
		{[]string{"MX", "AX", "XK"}, `unknown region "XX" (did you mean MX, AX or XK?): use`},
	}
	for _, tc := range tests {
		got := (&UnknownRegionError{Input: "XX", Suggestions: tc.suggestions}).Error()
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("Error() = %q, want prefix %q", got, tc.want)
		}
	}
}

func TestWorld(t *testing.T) {
	want := Region{Code: WorldCode, Name: "World", Intensity: 480, Source: "ember-ger-2024", Year: 2023}
	if diff := cmp.Diff(want, World()); diff != "" {
		t.Errorf("World() mismatch (-want +got):\n%s", diff)
	}
}

func TestProviderPUE(t *testing.T) {
	tests := []struct {
		provider string
		value    float64
		year     int
	}{
		{"aws", 1.14, 2025},
		{"AWS", 1.14, 2025},
		{"gcp", 1.10, 2023},
		{"azure", 1.18, 2023},
		{"meta", 1.08, 2023},
	}
	for _, tc := range tests {
		p, ok := ProviderPUE(tc.provider)
		if !ok {
			t.Errorf("ProviderPUE(%q) not found", tc.provider)
			continue
		}
		if math.Abs(p.Value-tc.value) > 1e-9 || p.Year != tc.year || p.Source == "" {
			t.Errorf("ProviderPUE(%q) = %+v, want value %g, year %d and a source", tc.provider, p, tc.value, tc.year)
		}
	}
	if p, ok := ProviderPUE("nosuchcloud"); ok {
		t.Errorf("ProviderPUE(nosuchcloud) = %+v, want not found", p)
	}
}

func TestProviders(t *testing.T) {
	got := Providers()
	for _, want := range []string{"aws", "azure", "gcp"} {
		if !slices.Contains(got, want) {
			t.Errorf("Providers() = %v, want %q among them", got, want)
		}
	}
	if !slices.IsSorted(got) {
		t.Errorf("Providers() = %v, want sorted", got)
	}
}

func BenchmarkLookup(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Lookup("aws:us-east-1"); err != nil {
			b.Fatal(err)
		}
	}
}
