// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package rapl

import (
	"errors"
	"testing"
)

func TestParseMicrojoules(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    uint64
		wantErr error
	}{
		{"with newline", "178309402931\n", 178309402931, nil},
		{"without newline", "0", 0, nil},
		{"max uint64", "18446744073709551615\n", 18446744073709551615, nil},
		{"overflow", "18446744073709551616\n", 0, errCounterOverflow},
		{"empty", "", 0, errCounterSyntax},
		{"not a number", "n/a\n", 0, errCounterSyntax},
		{"negative", "-5\n", 0, errCounterSyntax},
		{"trailing text", "12 uJ\n", 0, errCounterSyntax},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMicrojoules([]byte(tc.text))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("parseMicrojoules(%q) error = %v, want %v", tc.text, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("parseMicrojoules(%q) = %d, want %d", tc.text, got, tc.want)
			}
		})
	}
}

func TestParseZoneID(t *testing.T) {
	tests := []struct {
		id     string
		top    int
		sub    int
		wantOK bool
	}{
		{"intel-rapl:0", 0, -1, true},
		{"intel-rapl:1:2", 1, 2, true},
		{"amd-rapl:3", 3, -1, true},
		{"intel-rapl", 0, 0, false},
		{"intel-rapl-mmio:0", 0, 0, false},
		{"intel-rapl:x", 0, 0, false},
		{"intel-rapl:0:y", 0, 0, false},
		{"intel-rapl:-1", 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			top, sub, ok := parseZoneID(tc.id)
			if ok != tc.wantOK {
				t.Fatalf("parseZoneID(%q) ok = %v, want %v", tc.id, ok, tc.wantOK)
			}
			if ok && (top != tc.top || sub != tc.sub) {
				t.Errorf("parseZoneID(%q) = %d, %d, want %d, %d", tc.id, top, sub, tc.top, tc.sub)
			}
		})
	}
}

func TestClassifyZone(t *testing.T) {
	pkg := &zone{id: "intel-rapl:1", name: "package-3", top: 1, sub: -1}
	pkg.classify()
	tests := []struct {
		z         zone
		wantRole  role
		wantIndex int
		wantLabel string
	}{
		{zone{id: "intel-rapl:0", name: "package-0", sub: -1}, rolePackage, 0, "package-0"},
		{zone{id: "intel-rapl:1", name: "package-1-die-1", top: 1, sub: -1}, roleDie, 1, "package-1-die-1"},
		{zone{id: "intel-rapl:1:0", name: "dram", top: 1, sub: 0, parent: pkg}, roleDRAM, 3, "dram-3"},
		{zone{id: "intel-rapl:1:1", name: "core", top: 1, sub: 1, parent: pkg}, rolePart, 3, "core-3"},
		{zone{id: "intel-rapl:1:2", name: "uncore", top: 1, sub: 2, parent: pkg}, rolePart, 3, "uncore-3"},
		{zone{id: "intel-rapl:2", name: "psys", top: 2, sub: -1}, rolePsys, 2, "psys"},
		{zone{id: "intel-rapl:3", name: "core", top: 3, sub: -1}, roleUnknown, 3, "core"},
		{zone{id: "intel-rapl:4", name: "package-x", top: 4, sub: -1}, roleUnknown, 4, "package-x"},
		{zone{id: "intel-rapl:5", name: "", top: 5, sub: -1}, roleUnknown, 5, "intel-rapl:5"},
	}
	for _, tc := range tests {
		t.Run(tc.z.id+"="+tc.z.name, func(t *testing.T) {
			z := tc.z
			z.classify()
			if z.role != tc.wantRole || z.packageIndex != tc.wantIndex || z.label != tc.wantLabel {
				t.Errorf("classify(%s=%q) = role %d, package %d, label %q; want %d, %d, %q",
					z.id, z.name, z.role, z.packageIndex, z.label,
					tc.wantRole, tc.wantIndex, tc.wantLabel)
			}
		})
	}
}
