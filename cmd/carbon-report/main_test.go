// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carbonrun/carbonrun/internal/version"
	"github.com/carbonrun/carbonrun/report"
)

var start = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// writeNodeReport writes a one-node report of job with 1 kWh of IT energy
// at PUE 1.5 and 100 g/kWh, 0.15 kg CO2e, and returns its path.
func writeNodeReport(t *testing.T, dir, host, job string) string {
	t.Helper()
	code := 0
	r := report.Report{
		SchemaVersion: report.SchemaVersion, JobID: job, Hostname: host,
		Status: report.StatusCompleted, Complete: true, ExitCode: &code,
		StartTime: start, EndTime: start.Add(time.Hour), DurationSeconds: 3600,
		CarbonIntensityGPerKWh: 100, PUE: 1.5,
		ITEnergyKWh: 1, MachineEnergyKWh: 1, FacilityEnergyKWh: 1.5, EmissionsKg: 0.15,
		Components: []report.Component{{Kind: "gpu", Method: "energy_counter", EnergyJoules: 3.6e6}},
		Warnings:   []string{},
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("encoding report: %v", err)
	}
	path := filepath.Join(dir, host+".json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatalf("writing report: %v", err)
	}
	return path
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
	return path
}

func runCommand(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func decodeReport(t *testing.T, data []byte) report.Report {
	t.Helper()
	var r report.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("merged output is not a report: %v\n%s", err, data)
	}
	return r
}

func TestMergeToStdout(t *testing.T) {
	dir := t.TempDir()
	a := writeNodeReport(t, dir, "node-a", "42")
	b := writeNodeReport(t, dir, "node-b", "42")

	code, stdout, stderr := runCommand("merge", a, b)

	if code != exitOK || stderr != "" {
		t.Fatalf("exit code %d, stderr %q; want 0 and no output", code, stderr)
	}
	got := decodeReport(t, []byte(stdout))
	type summary struct {
		JobID             string
		Hostnames         []string
		FacilityEnergyKWh float64
		EmissionsKg       float64
		Tool              report.Tool
	}
	want := summary{"42", []string{"node-a", "node-b"}, 3, 0.3, report.Tool{Name: "carbon-report", Version: version.Version}}
	gotSummary := summary{got.JobID, got.Hostnames, got.FacilityEnergyKWh, got.EmissionsKg, got.Tool}
	if diff := cmp.Diff(want, gotSummary); diff != "" {
		t.Errorf("merged report mismatch (-want +got):\n%s", diff)
	}
}

func TestMergeOutputFile(t *testing.T) {
	dir := t.TempDir()
	a := writeNodeReport(t, dir, "node-a", "42")
	b := writeNodeReport(t, dir, "node-b", "42")
	outDir := t.TempDir()
	output := filepath.Join(outDir, "job.json")
	writeFile(t, outDir, "job.json", "old content")

	code, stdout, stderr := runCommand("merge", "-o", output, a, b)

	if code != exitOK {
		t.Fatalf("exit code %d, stderr %q; want 0", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout: got %q, want nothing when -o is set", stdout)
	}
	wantSummary := "carbon-report: merged 2 reports of job 42 into " + output + ": 3 kWh, 0.3 kg CO2e, 0 warnings\n"
	if stderr != wantSummary {
		t.Errorf("stderr:\n got %q\nwant %q", stderr, wantSummary)
	}
	data, err := os.ReadFile(output)
	if err != nil {
		t.Fatalf("reading output: %v", err)
	}
	if got := decodeReport(t, data); got.JobID != "42" {
		t.Errorf("job_id: got %q, want %q", got.JobID, "42")
	}
	entries, err := os.ReadDir(outDir)
	if err != nil {
		t.Fatalf("listing output directory: %v", err)
	}
	if len(entries) != 1 {
		t.Errorf("output directory: got %d entries, want only job.json (no temporary file left)", len(entries))
	}
	info, err := os.Stat(output)
	if err != nil {
		t.Fatalf("stat output: %v", err)
	}
	if mode := info.Mode().Perm(); mode != 0o644 {
		t.Errorf("output mode: got %o, want 644", mode)
	}
}

func TestMergeJobIDFlag(t *testing.T) {
	dir := t.TempDir()
	a := writeNodeReport(t, dir, "node-a", "42")
	b := writeNodeReport(t, dir, "node-b", "43")

	tests := []struct {
		name      string
		args      []string
		wantJobID string
	}{
		{"job id", []string{"merge", "--job-id", "train-7", a, b}, "train-7"},
		{"force", []string{"merge", "--force", a, b}, "42"},
		{"flags after files", []string{"merge", a, b, "--job-id=train-7"}, "train-7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCommand(tc.args...)

			if code != exitOK {
				t.Fatalf("exit code %d, stderr %q; want 0", code, stderr)
			}
			if got := decodeReport(t, []byte(stdout)); got.JobID != tc.wantJobID {
				t.Errorf("job_id: got %q, want %q", got.JobID, tc.wantJobID)
			}
		})
	}
}

func TestMergeInvalidInput(t *testing.T) {
	dir := t.TempDir()
	a := writeNodeReport(t, dir, "node-a", "42")
	other := writeNodeReport(t, dir, "node-b", "43")
	broken := writeFile(t, dir, "broken.json", "{\n  \"job_id\": \"42\",\n  oops\n}\n")
	array := writeFile(t, dir, "array.json", "[]")
	wrongType := writeFile(t, dir, "type.json", `{"schema_version": "1"}`)
	missing := filepath.Join(dir, "missing.json")
	empty := writeFile(t, dir, "empty.json", "{}")
	negative := writeFile(t, dir, "negative.json", `{"schema_version": 1, "job_id": "42", `+
		`"hostname": "node-c", "facility_energy_kwh": -2}`)

	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"no command", nil, "carbon-report: missing command; run 'carbon-report --help' for usage"},
		{"unknown command", []string{"bogus"}, `carbon-report: unknown command "bogus"`},
		{"no files", []string{"merge"}, "carbon-report merge: missing report files"},
		{"unknown flag", []string{"merge", "--bogus", a}, "carbon-report merge: unknown flag: --bogus"},
		{"missing file", []string{"merge", a, missing}, "reading " + missing + ": no such file or directory"},
		{"directory", []string{"merge", dir}, "reading " + dir + ": is a directory"},
		{"invalid json", []string{"merge", broken}, broken + ": invalid JSON at line 3, column 3"},
		{"json array", []string{"merge", array}, "the file contains a JSON array, want a report object"},
		{"wrong field type", []string{"merge", wrongType}, `field "schema_version" is a JSON string, want int`},
		{"job ids differ", []string{"merge", a, other}, other + ` (job "43"): job ids differ (` + a +
			` has job "42"); merge the reports of one job, or set --job-id`},
		{"same file twice", []string{"merge", a, a}, "duplicate report"},
		{"empty object", []string{"merge", a, empty}, empty + ` (job ""): unsupported schema ` +
			"version: schema_version is missing (want 1); check that the file is a report.json"},
		{"empty object first", []string{"merge", empty, a}, empty + ` (job ""): unsupported`},
		{"negative energy", []string{"merge", a, negative}, negative + ` (job "42"): invalid ` +
			"report: facility_energy_kwh is -2"},
		{"output is an input", []string{"merge", "-o", a, a, other}, "invalid -o/--output " + a +
			": it is also the input report " + a},
		{"invalid job id", []string{"merge", "--job-id", "../x", a}, `invalid --job-id "../x"`},
		{"dot job id", []string{"merge", "--job-id", "..", a}, `invalid --job-id ".."`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCommand(tc.args...)

			if code != exitUsage {
				t.Errorf("exit code: got %d, want %d", code, exitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout: got %q, want nothing", stdout)
			}
			if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr:\n got %q\nwant it to contain %q", stderr, tc.wantStderr)
			}
			if lines := strings.Count(stderr, "\n"); lines != 1 || !strings.HasSuffix(stderr, "\n") {
				t.Errorf("stderr: got %d lines, want exactly one: %q", lines, stderr)
			}
		})
	}
}

func TestMergeOutputIsInput(t *testing.T) {
	dir := t.TempDir()
	a := writeNodeReport(t, dir, "node-a", "42")
	b := writeNodeReport(t, dir, "node-b", "42")
	before, err := os.ReadFile(a)
	if err != nil {
		t.Fatalf("reading input: %v", err)
	}
	link := filepath.Join(t.TempDir(), "link.json")
	if err := os.Symlink(a, link); err != nil {
		t.Fatalf("creating link: %v", err)
	}
	unclean := filepath.Join(dir, "sub", "..", "node-a.json")

	for _, output := range []string{a, unclean, link} {
		code, stdout, stderr := runCommand("merge", "-o", output, a, b)

		if code != exitUsage {
			t.Errorf("-o %s: exit code %d, want %d; stderr %q", output, code, exitUsage, stderr)
		}
		if !strings.Contains(stderr, "it is also the input report") || stdout != "" {
			t.Errorf("-o %s: stdout %q, stderr %q; want no output and an error naming the input",
				output, stdout, stderr)
		}
	}
	after, err := os.ReadFile(a)
	if err != nil {
		t.Fatalf("reading input: %v", err)
	}
	if !bytes.Equal(before, after) {
		t.Errorf("input report changed, want it left as it was")
	}
}

func TestMergeMergedWithInput(t *testing.T) {
	dir := t.TempDir()
	a := writeNodeReport(t, dir, "node-a", "42")
	b := writeNodeReport(t, dir, "node-b", "42")
	job := filepath.Join(dir, "job.json")
	if code, _, stderr := runCommand("merge", "-o", job, a, b); code != exitOK {
		t.Fatalf("first merge: exit code %d, stderr %q", code, stderr)
	}

	code, stdout, stderr := runCommand("merge", job, a)

	if code != exitUsage || stdout != "" {
		t.Errorf("exit code %d, stdout %q; want %d and no output", code, stdout, exitUsage)
	}
	want := a + ` (job "42"): host in more than one report: host "node-a" is also in ` + job
	if !strings.Contains(stderr, want) || !strings.Contains(stderr, "--force") {
		t.Errorf("stderr:\n got %q\nwant it to contain %q and suggest --force", stderr, want)
	}

	code, stdout, stderr = runCommand("merge", "--force", job, a)

	if code != exitOK {
		t.Fatalf("with --force: exit code %d, stderr %q; want 0", code, stderr)
	}
	got := decodeReport(t, []byte(stdout))
	found := false
	for _, w := range got.Warnings {
		found = found || strings.Contains(w, `both contain host "node-a"`)
	}
	if !found {
		t.Errorf("warnings: got %q, want one about host node-a counted twice", got.Warnings)
	}
}

func TestMergeUnwritableOutput(t *testing.T) {
	dir := t.TempDir()
	a := writeNodeReport(t, dir, "node-a", "42")
	output := filepath.Join(dir, "no-such-dir", "job.json")

	code, _, stderr := runCommand("merge", "-o", output, a)

	if code != exitFailed {
		t.Errorf("exit code: got %d, want %d", code, exitFailed)
	}
	if want := "carbon-report merge: writing " + output; !strings.HasPrefix(stderr, want) {
		t.Errorf("stderr:\n got %q\nwant prefix %q", stderr, want)
	}
}

func TestHelp(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"top level", []string{"--help"}, []string{"Commands:", "render", "merge", "Examples:", "Exit status"}},
		{"merge", []string{"merge", "--help"}, []string{"Examples:", "--output FILE", "--job-id ID", "--force"}},
		{"merge short", []string{"merge", "-h"}, []string{"Usage: carbon-report merge"}},
		{"version", []string{"--version"}, []string{"carbon-report " + version.Version}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCommand(tc.args...)

			if code != exitOK || stderr != "" {
				t.Errorf("exit code %d, stderr %q; want 0 and no output", code, stderr)
			}
			for _, want := range tc.want {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
		})
	}
}

func TestLineColumn(t *testing.T) {
	data := []byte("ab\ncde\nf")
	tests := []struct {
		offset               int64
		wantLine, wantColumn int
	}{
		{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {5, 2, 3}, {8, 3, 2}, {99, 3, 2},
	}
	for _, tc := range tests {
		line, column := lineColumn(data, tc.offset)
		if line != tc.wantLine || column != tc.wantColumn {
			t.Errorf("offset %d: got line %d column %d, want line %d column %d",
				tc.offset, line, column, tc.wantLine, tc.wantColumn)
		}
	}
}
