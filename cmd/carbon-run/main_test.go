// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carbonrun/carbonrun/report"
)

// binary is carbon-run built once for the end-to-end tests in this file.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "carbon-run-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "carbon-run")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("building carbon-run: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one finished carbon-run process.
type result struct {
	exitCode int
	stderr   string
	dir      string // the job's report directory
}

// fakeSysfs builds a powercap tree with one package zone.
func fakeSysfs(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	zone := filepath.Join(root, "class", "powercap", "intel-rapl:0")
	require.NoError(t, os.MkdirAll(zone, 0o755))
	for name, value := range map[string]string{
		"name": "package-0", "energy_uj": "1000000", "max_energy_range_uj": "262143328850",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(zone, name), []byte(value+"\n"), 0o644))
	}
	return root
}

// command prepares carbon-run with a fresh report directory and the given
// flags and command.
func command(t *testing.T, args ...string) (*exec.Cmd, string, *bytes.Buffer) {
	t.Helper()
	reports := t.TempDir()
	full := append([]string{"--report-dir", reports, "--job-id", "test", "--region", "FR"}, args...)
	cmd := exec.Command(binary, full...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// A command orphaned by a SIGKILL of carbon-run keeps the stderr pipe
	// open; do not wait for it.
	cmd.WaitDelay = 2 * time.Second
	return cmd, filepath.Join(reports, "test"), &stderr
}

func runCarbonRun(t *testing.T, args ...string) result {
	t.Helper()
	cmd, dir, stderr := command(t, args...)
	err := cmd.Run()
	code := 0
	if err != nil {
		exitErr, ok := err.(*exec.ExitError)
		require.True(t, ok, "running carbon-run: %v", err)
		code = exitErr.ExitCode()
	}
	return result{exitCode: code, stderr: stderr.String(), dir: dir}
}

func readReport(t *testing.T, dir string) *report.Report {
	t.Helper()
	r, err := report.Read(filepath.Join(dir, report.JSONFile))
	require.NoError(t, err)
	return r
}

func assertNoStackTrace(t *testing.T, stderr string) {
	t.Helper()
	for _, marker := range []string{"goroutine ", "panic:", ".go:"} {
		assert.NotContains(t, stderr, marker, "stderr shows a Go stack trace")
	}
}

func TestExitCodePassesThrough(t *testing.T) {
	res := runCarbonRun(t, "--sysfs", fakeSysfs(t), "--", "sh", "-c", "exit 7")
	assert.Equal(t, 7, res.exitCode)
	r := readReport(t, res.dir)
	require.NotNil(t, r.ExitCode)
	assert.Equal(t, 7, *r.ExitCode)
	assert.Equal(t, report.StatusCompleted, r.Status)
	assert.True(t, r.Complete)
	for _, f := range []string{report.JSONFile, report.MarkdownFile, report.SamplesFile, report.HTMLFile} {
		assert.FileExists(t, filepath.Join(res.dir, f))
	}
}

func TestUnknownRegionExitsTwo(t *testing.T) {
	res := runCarbonRun(t, "--region", "XX", "--", "true")
	assert.Equal(t, exitUsage, res.exitCode)
	assert.Contains(t, res.stderr, "XX")
	assert.Contains(t, res.stderr, "--region")
	assertNoStackTrace(t, res.stderr)
	assert.NoDirExists(t, res.dir, "no report for a run that never started")
}

func TestBadFlagsExitTwo(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", []string{}, "no command"},
		{"bad interval", []string{"--interval", "fast", "--", "true"}, "interval"},
		{"bad tracking mode", []string{"--tracking-mode", "gpu", "--", "true"}, "--tracking-mode"},
		{"pue below one", []string{"--pue", "0.5", "--", "true"}, "--pue"},
		{"negative intensity", []string{"--carbon-intensity", "-3", "--", "true"}, "--carbon-intensity"},
		{"unknown flag", []string{"--frobnicate", "--", "true"}, "frobnicate"},
		{"zero pue", []string{"--pue", "0", "--", "true"}, "--pue"},
		{"infinite pue", []string{"--pue", "1e308", "--", "true"}, "--pue"},
		{"nan cpu tdp", []string{"--cpu-tdp", "NaN", "--", "true"}, "--cpu-tdp"},
		{"zero intensity", []string{"--carbon-intensity", "0", "--", "true"}, "--carbon-intensity"},
		{"empty report dir", []string{"--report-dir", "", "--", "true"}, "--report-dir"},
		{"api url without key", []string{"--intensity-api-url", "http://127.0.0.1:1", "--", "true"},
			"--intensity-api-key"},
		{"agent without port", []string{"--agent", "garbage", "--", "true"}, "--agent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runCarbonRun(t, tc.args...)
			assert.Equal(t, exitUsage, res.exitCode)
			assert.Contains(t, res.stderr, tc.want)
			assertNoStackTrace(t, res.stderr)
		})
	}
}

func TestReportDirIsAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "afile")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	cmd := exec.Command(binary, "--region", "FR", "--report-dir", file, "--", "true")
	out, err := cmd.CombinedOutput()
	exitErr, ok := err.(*exec.ExitError)
	require.True(t, ok, "carbon-run should fail: %v", err)
	assert.Equal(t, exitUsage, exitErr.ExitCode())
	assert.Contains(t, string(out), "--report-dir")
	assertNoStackTrace(t, string(out))
}

func TestCommandNotExecutable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "script")
	require.NoError(t, os.WriteFile(file, []byte("#!/bin/sh\n"), 0o644))
	res := runCarbonRun(t, "--", file)
	assert.Equal(t, exitCannotExecute, res.exitCode)
	assert.Contains(t, res.stderr, "cannot be executed")
	assert.NoDirExists(t, res.dir, "no report directory for a command that never started")
}

func TestCommandNotFound(t *testing.T) {
	res := runCarbonRun(t, "--", "no-such-command-carbonrun")
	assert.Equal(t, exitNotFound, res.exitCode)
	assert.Contains(t, res.stderr, "not found")
	assertNoStackTrace(t, res.stderr)
}

func TestMissingPowercapFallsBack_CR18(t *testing.T) {
	layouts := map[string]func(root string){
		"no powercap dir": func(string) {},
		"zone without energy_uj": func(root string) {
			zone := filepath.Join(root, "class", "powercap", "intel-rapl:0")
			os.MkdirAll(zone, 0o755)
			os.WriteFile(filepath.Join(zone, "name"), []byte("package-0\n"), 0o644)
		},
		"empty powercap dir": func(root string) {
			os.MkdirAll(filepath.Join(root, "class", "powercap"), 0o755)
		},
	}
	for name, build := range layouts {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			build(root)
			res := runCarbonRun(t, "--sysfs", root, "--", "sh", "-c", "exit 7")
			assert.Equal(t, 7, res.exitCode)
			assertNoStackTrace(t, res.stderr)
			r := readReport(t, res.dir)
			cpu := findComponent(t, r, "cpu")
			assert.Contains(t, []string{"tdp_estimate", "tdp_default"}, cpu.Method)
			assert.Contains(t, strings.Join(r.Warnings, "\n"), "RAPL not available (container/VM?)")
		})
	}
}

func TestNoNVMLLibrary_CR36(t *testing.T) {
	if _, err := os.Stat("/dev/nvidiactl"); err == nil {
		t.Skip("this host has an NVIDIA driver")
	}
	res := runCarbonRun(t, "--sysfs", fakeSysfs(t), "--", "sh", "-c", "exit 0")
	assert.Equal(t, 0, res.exitCode)
	r := readReport(t, res.dir)
	assert.Equal(t, "none", r.GPUScope)
	assert.NotEmpty(t, r.GPUNote)
}

func TestCPUTDPFlag_CR19(t *testing.T) {
	res := runCarbonRun(t, "--sysfs", t.TempDir(), "--cpu-tdp", "65", "--", "true")
	require.Equal(t, 0, res.exitCode)
	cpu := findComponent(t, readReport(t, res.dir), "cpu")
	assert.Equal(t, "tdp_estimate", cpu.Method)
	assert.Contains(t, cpu.Detail, "65 W")
}

func TestChildSignalExitCodes_CR23(t *testing.T) {
	res := runCarbonRun(t, "--sysfs", fakeSysfs(t), "--", "sh", "-c", "kill -SEGV $$")
	assert.Equal(t, 139, res.exitCode)
	r := readReport(t, res.dir)
	assert.Equal(t, "SIGSEGV", r.ChildSignal)
	assert.Equal(t, report.StatusChildKilled, r.Status)

	if _, err := exec.LookPath("python3"); err == nil {
		res := runCarbonRun(t, "--", "python3", "-c", "raise SystemExit(3)")
		assert.Equal(t, 3, res.exitCode)
		assert.Equal(t, 3, *readReport(t, res.dir).ExitCode)
	}
}

func TestChildExitsBeforeFirstSample_CR24(t *testing.T) {
	res := runCarbonRun(t, "--sysfs", fakeSysfs(t), "--interval", "5s", "--", "true")
	assert.Equal(t, 0, res.exitCode)
	r := readReport(t, res.dir)
	assert.True(t, r.Complete)
	assert.False(t, r.EndTime.Before(r.StartTime))
	assert.NotEmpty(t, r.Components, "report still has start and end readings")
}

func TestChildKilledBySIGKILL_CR26(t *testing.T) {
	res := runCarbonRun(t, "--sysfs", fakeSysfs(t), "--", "sh", "-c", "kill -KILL $$")
	assert.Equal(t, 137, res.exitCode)
	r := readReport(t, res.dir)
	assert.Equal(t, report.StatusChildKilled, r.Status)
	assert.Equal(t, "SIGKILL", r.ChildSignal)
}

func TestSIGTERMForwarded_CR26(t *testing.T) {
	cmd, dir, _ := command(t, "--sysfs", fakeSysfs(t), "--interval", "50ms", "--", "sleep", "600")
	require.NoError(t, cmd.Start())
	waitForFile(t, filepath.Join(dir, ".samples.csv.partial"))
	time.Sleep(200 * time.Millisecond) // let the command start
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	err := cmd.Wait()
	exitErr, ok := err.(*exec.ExitError)
	require.True(t, ok, "carbon-run should exit non-zero: %v", err)
	assert.Equal(t, 143, exitErr.ExitCode())
	r := readReport(t, dir)
	assert.Equal(t, report.StatusTerminated, r.Status)
	assert.Equal(t, "SIGTERM", r.ChildSignal)
}

func TestCheckpointSurvivesSIGKILL_CR26(t *testing.T) {
	cmd, dir, _ := command(t, "--sysfs", fakeSysfs(t), "--interval", "20ms",
		"--checkpoint-interval", "100ms", "--", "sleep", "601")
	require.NoError(t, cmd.Start())
	path := filepath.Join(dir, report.JSONFile)
	waitForFile(t, path)
	time.Sleep(300 * time.Millisecond) // a few more checkpoints
	require.NoError(t, cmd.Process.Kill())
	// The orphaned sleep keeps running after carbon-run dies; end it.
	_ = exec.Command("pkill", "-f", "^sleep 601$").Run()
	_ = cmd.Wait()

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var r report.Report
	require.NoError(t, json.Unmarshal(data, &r), "checkpoint must be valid JSON")
	assert.Equal(t, report.StatusIncomplete, r.Status)
	assert.False(t, r.Complete)
	assert.GreaterOrEqual(t, r.DurationSeconds, 0.1)
}

func TestDoubleSIGTERMWritesOneReport_CR25(t *testing.T) {
	script := "trap 'sleep 1; exit 0' TERM; while :; do sleep 0.05; done"
	cmd, dir, _ := command(t, "--sysfs", fakeSysfs(t), "--", "sh", "-c", script)
	require.NoError(t, cmd.Start())
	waitForFile(t, filepath.Join(dir, ".samples.csv.partial"))
	time.Sleep(200 * time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait())

	r := readReport(t, dir)
	assert.Equal(t, report.StatusTerminated, r.Status)
	entries, err := os.ReadDir(filepath.Dir(dir))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "one report directory per run")
	reports, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	assert.Len(t, reports, 1, "one report.json per run")
}

func TestReportFieldsCarryUnits_CR21(t *testing.T) {
	res := runCarbonRun(t, "--sysfs", fakeSysfs(t), "--", "true")
	data, err := os.ReadFile(filepath.Join(res.dir, report.JSONFile))
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(data, &fields))
	unitless := map[string]bool{"schema_version": true, "exit_code": true, "pue": true, "index": true}
	var check func(prefix string, v any)
	check = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, sub := range v {
				if _, isNum := sub.(float64); isNum && !unitless[k] {
					assert.True(t, hasUnitSuffix(k), "numeric field %s%s has no unit in its name", prefix, k)
				}
				check(prefix+k+".", sub)
			}
		case []any:
			for _, sub := range v {
				check(prefix, sub)
			}
		}
	}
	check("", fields)
}

func hasUnitSuffix(name string) bool {
	for _, s := range []string{"_kwh", "_joules", "_watts", "_seconds", "_g_per_kwh", "_kg", "year"} {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

func TestJobIDSanitised(t *testing.T) {
	reports := t.TempDir()
	cmd := exec.Command(binary, "--report-dir", reports, "--job-id", "../../escape", "--region", "FR",
		"--", "true")
	require.NoError(t, cmd.Run())
	entries, err := os.ReadDir(reports)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "_.._escape", entries[0].Name())
}

func findComponent(t *testing.T, r *report.Report, kind string) report.Component {
	t.Helper()
	for _, c := range r.Components {
		if c.Kind == kind {
			return c
		}
	}
	t.Fatalf("report has no %s component: %+v", kind, r.Components)
	return report.Component{}
}

// waitForFile polls until path exists; the test's own deadline bounds it.
func waitForFile(t *testing.T, path string) {
	t.Helper()
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAgentModeRegistersAndRecomputes(t *testing.T) {
	var registered map[string]any
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("POST /v1/jobs", func(w http.ResponseWriter, r *http.Request) {
		json.NewDecoder(r.Body).Decode(&registered)
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{}`))
	})
	mux.HandleFunc("POST /v1/jobs/{id}/end", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(report.Report{SchemaVersion: report.SchemaVersion, JobID: r.PathValue("id"),
			Tool: report.Tool{Name: "carbon-agent"}, ITEnergyKWh: 1, PUE: 1, FacilityEnergyKWh: 1,
			CarbonIntensityGPerKWh: 480, EmissionsKg: 0.48, Components: []report.Component{}})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	res := runCarbonRun(t, "--agent", strings.TrimPrefix(srv.URL, "http://"), "--pue", "1.5",
		"--carbon-intensity", "100", "--", "sh", "-c", "exit 5")
	assert.Equal(t, 5, res.exitCode)
	require.NotNil(t, registered, "carbon-run must register the job before the command starts")
	assert.Equal(t, "test", registered["id"])
	assert.Len(t, registered["pids"], 1)

	r := readReport(t, res.dir)
	assert.Equal(t, 5, *r.ExitCode)
	assert.InDelta(t, 1.5, r.FacilityEnergyKWh, 1e-12, "facility energy uses carbon-run's --pue")
	assert.InDelta(t, 0.15, r.EmissionsKg, 1e-12, "emissions use carbon-run's --carbon-intensity")
}

func TestExistingJobDirectoryNotShared(t *testing.T) {
	reports := t.TempDir()
	// A run with the same id is still going: its directory exists but holds
	// no report.json yet.
	require.NoError(t, os.Mkdir(filepath.Join(reports, "same"), 0o755))
	cmd := exec.Command(binary, "--report-dir", reports, "--job-id", "same", "--region", "FR", "--", "true")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.FileExists(t, filepath.Join(reports, "same.2", report.JSONFile))
	assert.NoFileExists(t, filepath.Join(reports, "same", report.JSONFile))
	assert.Contains(t, string(out), `written as "same.2"`)
}
