// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package suggest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClosest(t *testing.T) {
	regions := []string{"FR", "MX", "NL", "US-CA", "US-TX", "aws:us-east-1", "aws:us-east-2", "aws:eu-west-1"}
	tests := []struct {
		name       string
		input      string
		candidates []string
		n          int
		want       []string
	}{
		{"near miss by one edit", "aws:us-east-9", regions, 3, []string{"aws:us-east-1", "aws:us-east-2"}},
		{"case ignored", "AWS:US-EAST-9", regions, 3, []string{"aws:us-east-1", "aws:us-east-2"}},
		{"prefix ranks before distance", "us", []string{"UZ", "US-CA", "US"}, 3, []string{"US", "US-CA", "UZ"}},
		{"substring ranks before distance", "east", []string{"eist", "aws:us-east-1"}, 2, []string{"aws:us-east-1", "eist"}},
		{"candidate inside input", "nvidia h100 (cluster)", []string{"h100", "h200"}, 3, []string{"h100"}},
		{"short candidate inside input ignored", "netherlands", []string{"NE", "NL"}, 3, nil},
		{"two letters one edit", "XX", regions, 3, []string{"MX"}},
		{"n limits result", "us", regions, 1, []string{"US-CA"}},
		{"nothing close", "zzzzzz", regions, 3, nil},
		{"empty input", "", regions, 3, nil},
		{"zero n", "FR", regions, 0, nil},
		{"duplicates once", "fr", []string{"FR", "fr", "FRA"}, 3, []string{"FR", "FRA"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Closest(tc.input, tc.candidates, tc.n)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Closest(%q, n=%d) mismatch (-want +got):\n%s", tc.input, tc.n, diff)
			}
		})
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"", "abc", 3},
		{"kitten", "sitting", 3},
		{"h100", "h100", 0},
		{"h100", "h200", 1},
		{"größe", "grösse", 2},
	}
	for _, tc := range tests {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func BenchmarkClosest(b *testing.B) {
	b.ReportAllocs()
	candidates := []string{"FR", "MX", "NL", "US-CA", "US-TX", "aws:us-east-1", "aws:us-east-2", "aws:eu-west-1"}
	for b.Loop() {
		Closest("aws:us-east-9", candidates, 3)
	}
}
