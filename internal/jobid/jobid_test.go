// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package jobid

import (
	"strings"
	"testing"
	"time"
)

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"12345", "12345"},
		{"../../etc/passwd", "_.._etc_passwd"},
		{"..", "job"},
		{".hidden", "hidden"},
		{"a/b", "a_b"},
		{"run 1", "run_1"},
		{"", "job"},
		{"///", "___"},
		{"日本", "__"},
		{strings.Repeat("x", 300), strings.Repeat("x", MaxLength)},
	}
	for _, tc := range tests {
		got := Sanitize(tc.in)
		if got != tc.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if err := Validate(got); err != nil {
			t.Errorf("Validate(Sanitize(%q)) = %v, want nil", tc.in, err)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	for _, id := range []string{"", ".", "..", "../x", "a/b", "a\\b", "a b", strings.Repeat("x", 129)} {
		if err := Validate(id); err == nil {
			t.Errorf("Validate(%q) = nil, want an error", id)
		}
	}
}

func TestDefault(t *testing.T) {
	now := time.Date(2026, 12, 4, 15, 20, 0, 0, time.UTC)
	if got := Default("4242", "", now, 7); got != "4242" {
		t.Errorf("slurm job id: got %q, want 4242", got)
	}
	if got := Default("4242", "3", now, 7); got != "4242.3" {
		t.Errorf("slurm step: got %q, want 4242.3", got)
	}
	if got := Default("", "", now, 7); got != "20261204T152000Z-7" {
		t.Errorf("time based: got %q", got)
	}
}
