// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// emissionsOf runs the command with --format json and returns emissions_kg.
func emissionsOf(t *testing.T, args ...string) float64 {
	t.Helper()
	stdout, stderr, code := runCLI(t, append(args, "--format", "json")...)
	if code != 0 {
		t.Fatalf("%v: exit code = %d, want 0; stderr: %s", args, code, stderr)
	}
	return decode(t, stdout)["emissions_kg"].(float64)
}

// changeEmissions returns the emissions of the comparison or recommendation
// whose label starts with prefix, and its label.
func changeEmissions(t *testing.T, key, prefix string, args ...string) (string, float64) {
	t.Helper()
	stdout, stderr, code := runCLI(t, append(args, "--format", "json")...)
	if code != 0 {
		t.Fatalf("%v: exit code = %d, want 0; stderr: %s", args, code, stderr)
	}
	list, _ := decode(t, stdout)[key].([]any)
	for _, item := range list {
		c := item.(map[string]any)
		if label := c["change"].(string); strings.HasPrefix(label, prefix) {
			return label, c["estimate"].(map[string]any)["emissions_kg"].(float64)
		}
	}
	t.Fatalf("%s has no change starting with %q:\n%s", key, prefix, stdout)
	return "", 0
}

func TestRegionChangeMatchesDirectRun(t *testing.T) {
	plan := []string{"--params", "7B", "--tokens", "1T", "--hardware", "h100", "--count", "64"}
	for _, baseline := range [][]string{nil, {"--region", "aws:us-east-1"}, {"--region", "FR"}} {
		args := append(append([]string{}, plan...), baseline...)
		label, got := changeEmissions(t, "recommendations", "region=",
			append(args, "--recommend")...)
		region := strings.TrimPrefix(label, "region=")
		want := emissionsOf(t, append(append([]string{}, plan...), "--region", region)...)
		if got != want {
			t.Errorf("baseline %v: recommended %s = %v kg, direct run = %v kg, want equal",
				baseline, label, got, want)
		}
	}

	tests := []struct {
		name    string
		base    []string
		compare string
		direct  []string
	}{
		{"cloud to country", []string{"--region", "aws:ca-central-1"}, "region=FR",
			[]string{"--region", "FR"}},
		{"country to cloud", []string{"--region", "FR"}, "region=aws:ca-central-1",
			[]string{"--region", "aws:ca-central-1"}},
		{"explicit pue stays", []string{"--region", "aws:ca-central-1", "--pue", "1.3"},
			"region=FR", []string{"--region", "FR", "--pue", "1.3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append(append([]string{}, plan...), tc.base...), "--compare", tc.compare)
			_, got := changeEmissions(t, "comparisons", tc.compare, args...)
			want := emissionsOf(t, append(append([]string{}, plan...), tc.direct...)...)
			if got != want {
				t.Errorf("compare %s = %v kg, direct run = %v kg, want equal", tc.compare, got, want)
			}
		})
	}
}

func TestAssumptionPrecision(t *testing.T) {
	stdout, stderr, code := runCLI(t, "--hardware", "h100", "--gpu-hours", "100",
		"--carbon-intensity", "1.5", "--pue", "1.125")
	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	for _, want := range []string{"carbon_intensity_g_per_kwh = 1.5 ", "pue = 1.125 "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestConflictingFLOPs(t *testing.T) {
	_, stderr, code := runCLI(t, "--params", "7B", "--tokens", "1T", "--flops", "1e20",
		"--hardware", "h100")
	if code != exitUsage {
		t.Errorf("exit code = %d, want %d; stderr: %s", code, exitUsage, stderr)
	}
	for _, want := range []string{"--flops", "--params", "--tokens"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr = %q, want it to name %s", stderr, want)
		}
	}

	// 6 x 7e9 x 1e12 = 4.2e22, so 4.4e22 is within 10% and accepted.
	_, stderr, code = runCLI(t, "--params", "7B", "--tokens", "1T", "--flops", "4.4e22",
		"--hardware", "h100")
	if code != 0 {
		t.Errorf("close FLOPs: exit code = %d, want 0; stderr: %s", code, stderr)
	}
}

func TestUnusedInputsWarn(t *testing.T) {
	_, stderr, code := runCLI(t, "--hardware", "h100", "--gpu-hours", "100",
		"--precision", "fp8", "--mfu", "0.9")
	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	for _, want := range []string{"warning", "--precision", "--mfu", "not used", "--gpu-hours"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr = %q, want it to contain %q", stderr, want)
		}
	}

	_, stderr, _ = runCLI(t, "--hardware", "h100", "--gpu-hours", "100", "--mfu", "0.9",
		"--compare", "precision=fp8")
	if strings.Contains(stderr, "not used") {
		t.Errorf("stderr = %q, want no warning when --compare rescales the hours", stderr)
	}
}

func TestInputRanges(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"power fraction above cap", []string{"--gpu-hours", "10", "--power-fraction", "5"},
			[]string{"--power-fraction"}},
		{"power fraction zero", []string{"--gpu-hours", "10", "--power-fraction", "0"},
			[]string{"--power-fraction"}},
		{"mfu zero", []string{"--flops", "1e20", "--mfu", "0"}, []string{"--mfu"}},
		{"huge params", []string{"--params", "1e300", "--tokens", "1e300"}, []string{"--params"}},
		{"huge hours", []string{"--gpu-hours", "1e31"}, []string{"--gpu-hours"}},
		{"overflowing result", []string{"--flops", "1e30", "--mfu", "1e-300"},
			[]string{"not a finite number", "--flops", "--mfu"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--hardware", "h100"}, tc.args...)
			stdout, stderr, code := runCLI(t, args...)
			if code != exitUsage {
				t.Errorf("exit code = %d, want %d; stderr: %s", code, exitUsage, stderr)
			}
			for _, want := range tc.want {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr = %q, want it to contain %q", stderr, want)
				}
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want empty", stdout)
			}
		})
	}

	for _, fraction := range []string{"1.18", "1.5"} {
		if _, stderr, code := runCLI(t, "--hardware", "h100", "--gpu-hours", "10",
			"--power-fraction", fraction); code != 0 {
			t.Errorf("--power-fraction %s: exit code = %d, want 0; stderr: %s", fraction, code, stderr)
		}
	}
}

func TestReadableNumbers(t *testing.T) {
	stdout, stderr, code := runCLI(t, "--hardware", "h100", "--gpu-hours", "100")
	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	if strings.Contains(stdout, "e+") {
		t.Errorf("text output has an exponent:\n%s", stdout)
	}
	for _, want := range []string{"accelerator-hours", " 100 ", "unknown (give --count)",
		"including the host's share"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, stdout)
		}
	}

	stdout, _, _ = runCLI(t, "--hardware", "h100", "--gpu-hours", "100", "--format", "json")
	m := decode(t, stdout)
	if v, ok := m["wall_clock_hours"]; !ok || v != nil {
		t.Errorf("wall_clock_hours = %v (present %v), want null without --count", v, ok)
	}
}

func TestNumberFormat(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {100, "100"}, {12.3456, "12.35"}, {0.72, "0.72"}, {999.4, "999.4"},
		{1234.6, "1,235"}, {-58982, "-58,982"}, {123456789, "123,456,789"},
		{2.5e16, "2.5e+16"},
	}
	for _, tc := range tests {
		if got := number(tc.in); got != tc.want {
			t.Errorf("number(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSourceKeysReadable(t *testing.T) {
	stdout, stderr, code := runCLI(t, "--hardware", "h100", "--gpu-hours", "100")
	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	for _, want := range []string{"stas00/ml-engineering", "internal/hardware/data/PROVENANCE.md"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "STAS00") || strings.Contains(stdout, "GPUBLOG") {
		t.Errorf("text output has raw source keys:\n%s", stdout)
	}
}

func writeRuns(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "runs.csv")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBatchWarnings(t *testing.T) {
	path := writeRuns(t, "id,hardwre,hardware,accelerator_count,training_days,pue\n"+
		"a,x,NVIDIA H100 SXM,8,1,1.2\n"+
		"b,x,NVIDIA H100 SXM,8,1,\n"+
		"b,x,NVIDIA H100 SXM,-4,x,\n")
	stdout, stderr, code := runCLI(t, "--runs", path)
	if code != 0 {
		t.Fatalf("exit code = %d, want 0 with one row estimated; stderr: %s", code, stderr)
	}
	for _, want := range []string{
		`unknown columns hardwre`, "expected columns are id, hardware",
		"ids b appear more than once",
		"rows b, b have no pue, so PUE 1 was used",
		"rows a, b, b have no carbon_intensity_g_per_kwh, so the world average 480 g/kWh",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	// Header plus three rows: a joined two-cell error stays on its row's line.
	if lines := strings.Count(stdout, "\n"); lines != 4 {
		t.Errorf("text table has %d lines, want 4:\n%s", lines, stdout)
	}
	if !strings.Contains(stdout, "accelerator_count") || !strings.Contains(stdout, "training_days") {
		t.Errorf("text table lacks the errors of the invalid row:\n%s", stdout)
	}
}

func TestBatchAllRowsFail(t *testing.T) {
	path := writeRuns(t, "id,hardware,accelerator_count\na,Acme X9,8\nb,,8\n")
	_, stderr, code := runCLI(t, "--runs", path, "--format", "csv")
	if code != exitError {
		t.Errorf("exit code = %d, want %d when no row is estimated; stderr: %s",
			code, exitError, stderr)
	}
	if !strings.Contains(stderr, "none of the 2 rows") {
		t.Errorf("stderr = %q, want it to say no row was estimated", stderr)
	}
}

func TestBatchRejectsPlanFlags(t *testing.T) {
	path := writeRuns(t, publishedRow)
	_, stderr, code := runCLI(t, "--runs", path, "--hardware", "h100", "--mfu", "0.4",
		"--count", "8", "--pue", "1.1")
	if code != exitUsage {
		t.Errorf("exit code = %d, want %d; stderr: %s", code, exitUsage, stderr)
	}
	if !strings.Contains(stderr, "--hardware, --mfu, --count") || strings.Contains(stderr, "--pue,") {
		t.Errorf("stderr = %q, want it to name --hardware, --mfu and --count only", stderr)
	}
}
