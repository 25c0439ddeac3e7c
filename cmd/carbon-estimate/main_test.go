// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	noEnv := func(string) (string, bool) { return "", false }
	code = runWithEnv(args, noEnv, &out, &errOut)
	return out.String(), errOut.String(), code
}

func checkNear(t *testing.T, what string, got, want, tolerance float64) {
	t.Helper()
	if math.Abs(got-want) > tolerance*math.Abs(want) {
		t.Errorf("%s = %.6g, want %.6g (within %.3g%%)", what, got, want, tolerance*100)
	}
}

func decode(t *testing.T, stdout string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(stdout), &m); err != nil {
		t.Fatalf("decoding json output: %v\n%s", err, stdout)
	}
	return m
}

func TestPowerWattsDay(t *testing.T) {
	stdout, stderr, code := runCLI(t, "--power-watts", "30", "--hours", "24",
		"--carbon-intensity", "300", "--pue", "1", "--format", "json")
	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	m := decode(t, stdout)
	checkNear(t, "it_energy_kwh", m["it_energy_kwh"].(float64), 0.72, 1e-12)
	checkNear(t, "facility_energy_kwh", m["facility_energy_kwh"].(float64), 0.72, 1e-12)
	checkNear(t, "emissions_kg", m["emissions_kg"].(float64), 0.216, 1e-12)
	if m["method"] != "analytical_model" {
		t.Errorf("method = %v, want analytical_model", m["method"])
	}
}

func TestThousandH100s(t *testing.T) {
	stdout, stderr, code := runCLI(t, "--params", "7e9", "--tokens", "2e12",
		"--hardware", "h100", "--count", "1000", "--precision", "bf16", "--mfu", "0.4",
		"--format", "json")
	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	m := decode(t, stdout)
	checkNear(t, "flops", m["flops"].(float64), 8.4e22, 1e-12)
	checkNear(t, "accelerator_hours", m["accelerator_hours"].(float64), 58982, 1e-4)
	checkNear(t, "wall_clock_hours", m["wall_clock_hours"].(float64), 58.982, 1e-4)
	for _, key := range []string{"low", "high", "assumptions", "embodied_emissions_kg"} {
		if _, ok := m[key]; !ok {
			t.Errorf("json output has no %q key", key)
		}
	}
	if m["embodied_emissions_kg"] != nil {
		t.Errorf("embodied_emissions_kg = %v, want null (no catalog figure)",
			m["embodied_emissions_kg"])
	}
	if !strings.Contains(m["flops_formula"].(string), "6 x params") {
		t.Errorf("flops_formula = %q, want the 6 x params x tokens formula", m["flops_formula"])
	}
}

func TestTextOutput(t *testing.T) {
	stdout, stderr, code := runCLI(t, "--params", "7B", "--tokens", "2T", "--hardware", "A100",
		"--count", "64", "--region", "FR")
	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	for _, want := range []string{"accelerator-hours", "facility energy (kWh)",
		"emissions (kg CO2e)", "embodied emissions: unknown", "mfu = 0.22",
		"power_fraction = 0.9 (range 0.59-1.18)", "6 x params"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown hardware", []string{"--hardware", "H10", "--gpu-hours", "5"},
			"did you mean NVIDIA H100 SXM"},
		{"negative count", []string{"--hardware", "h100", "--count", "-3", "--gpu-hours", "4"},
			"--count"},
		{"zero count", []string{"--hardware", "h100", "--count", "0", "--gpu-hours", "4"},
			"--count"},
		{"negative tokens", []string{"--hardware", "h100", "--params", "7e9", "--tokens", "-1"},
			"--tokens"},
		{"zero tokens", []string{"--hardware", "h100", "--params", "7e9", "--tokens", "0"},
			"--tokens"},
		{"pue below one", []string{"--hardware", "h100", "--gpu-hours", "1", "--pue", "0.9"},
			"--pue"},
		{"mfu above one", []string{"--hardware", "h100", "--flops", "1e20", "--mfu", "2"},
			"--mfu"},
		{"bad number", []string{"--hardware", "h100", "--tokens", "lots"}, "--tokens"},
		{"unknown region", []string{"--hardware", "h100", "--gpu-hours", "1", "--region", "XX9"},
			"--region"},
		{"no hardware", []string{"--params", "7e9", "--tokens", "1e12"}, "--hardware"},
		{"not enough inputs", []string{"--hardware", "h100"}, "not enough inputs"},
		{"power without hours", []string{"--power-watts", "30"}, "--hours"},
		{"unknown precision", []string{"--hardware", "h100", "--flops", "1e20", "--precision",
			"int4"}, "--precision"},
		{"precision missing on hardware", []string{"--hardware", "V100", "--flops", "1e20",
			"--precision", "fp8"}, "no fp8 peak"},
		{"bad compare", []string{"--hardware", "h100", "--gpu-hours", "1", "--compare",
			"colour=red"}, "--compare"},
		{"unknown flag", []string{"--hardwear", "h100"}, "unknown flag"},
		{"missing config", []string{"--hardware", "h100", "--hf-config", "/nonexistent.json",
			"--tokens", "1e9"}, "--hf-config"},
		{"bad format", []string{"--hardware", "h100", "--gpu-hours", "1", "--format", "xml"},
			"--format"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, tc.args...)
			if code != exitUsage {
				t.Errorf("exit code = %d, want %d; stderr: %s", code, exitUsage, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tc.want)
			}
			if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
				t.Errorf("stderr has a stack trace: %s", stderr)
			}
			if stdout != "" && tc.name != "unknown flag" {
				t.Errorf("stdout = %q, want empty on a usage error", stdout)
			}
		})
	}
}

func TestCompareTable(t *testing.T) {
	stdout, stderr, code := runCLI(t, "--params", "7e9", "--tokens", "1e12", "--hardware",
		"h100", "--count", "256", "--region", "US-CA", "--pue", "1.3",
		"--compare", "precision=fp8", "--compare", "hardware=H200", "--compare", "region=FR",
		"--compare", "pue=1.1", "--compare", "power-cap=0.8", "--compare", "mfu=0.5",
		"--compare", "tokens=5e11", "--compare", "params=3e9", "--format", "json")
	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	m := decode(t, stdout)
	comps, ok := m["comparisons"].([]any)
	if !ok || len(comps) != 8 {
		t.Fatalf("comparisons = %v, want 8 entries", m["comparisons"])
	}
	prev := math.Inf(1)
	for _, c := range comps {
		saved := c.(map[string]any)["saved_kg"].(float64)
		if saved > prev {
			t.Errorf("comparisons not ranked by saved_kg: %v after %v", saved, prev)
		}
		prev = saved
	}
}

func TestRecommend(t *testing.T) {
	stdout, stderr, code := runCLI(t, "--params", "7e9", "--tokens", "1e12", "--hardware",
		"h100", "--count", "256", "--region", "aws:us-east-1", "--recommend")
	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	for _, want := range []string{"Recommendations", "precision=fp8", "region=aws:",
		"power-cap=0.7", "tokens="} {
		if !strings.Contains(stdout, want) {
			t.Errorf("recommendations lack %q:\n%s", want, stdout)
		}
	}
}

func TestEnvDefault(t *testing.T) {
	var out, errOut bytes.Buffer
	env := func(k string) (string, bool) {
		if k == "CARBONRUN_CARBON_INTENSITY" {
			return "300", true
		}
		return "", false
	}
	code := runWithEnv([]string{"--power-watts", "30", "--hours", "24", "--format", "json"},
		env, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", code, errOut.String())
	}
	checkNear(t, "emissions_kg from env intensity", decode(t, out.String())["emissions_kg"].(float64),
		0.216, 1e-12)
}

// patterson_et_nas: Evolved Transformer search, 200 TPU v2 chips for 6.8
// days at PUE 1.1 and 431 g/kWh; the source reports 7.5 MWh and 3.2 t.
const publishedRow = "id,hardware,accelerator_count,training_days,pue," +
	"carbon_intensity_g_per_kwh,reported_energy_mwh,reported_tco2e\n" +
	"patterson_et_nas,Google TPU v2,200,6.8,1.1,431,7.5,3.2\n" +
	"bad,Google TPU v2,-4,,,,,\n" +
	"nohw,,8,1,,,,\n"

func TestBatchPublishedRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.csv")
	if err := os.WriteFile(path, []byte(publishedRow), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "--runs", path, "--format", "csv")
	if code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", code, stderr)
	}
	records, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := "id,energy_mwh,energy_mwh_low,energy_mwh_high,tco2e,tco2e_low,tco2e_high,error"
	if got := strings.Join(records[0], ","); got != wantHeader {
		t.Errorf("header = %q, want %q", got, wantHeader)
	}
	if len(records) != 4 {
		t.Fatalf("got %d records, want header + 3 rows:\n%s", len(records), stdout)
	}
	row := records[1]
	value := func(i int) float64 {
		v, err := strconv.ParseFloat(row[i], 64)
		if err != nil {
			t.Fatalf("column %s = %q: %v", records[0][i], row[i], err)
		}
		return v
	}
	if low, high := value(2), value(3); 7.5 < low || 7.5 > high {
		t.Errorf("energy range %v-%v MWh does not contain the reported 7.5 MWh", low, high)
	}
	if low, high := value(5), value(6); 3.2 < low || 3.2 > high {
		t.Errorf("tCO2e range %v-%v does not contain the reported 3.2 t", low, high)
	}
	// 200 x 6.8 d x 24 h x 280 W x 0.90 x 1.1 = 9.05 MWh.
	checkNear(t, "energy_mwh", value(1), 200*6.8*24*280*0.90*1.1/1e6, 1e-5)
	if !strings.Contains(records[2][7], "accelerator_count") {
		t.Errorf("bad row error = %q, want it to name accelerator_count", records[2][7])
	}
	if !strings.Contains(records[3][7], "no hardware") {
		t.Errorf("row without hardware error = %q, want %q", records[3][7], "no hardware")
	}
}
