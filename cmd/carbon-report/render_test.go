// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/report"
	"github.com/carbonrun/carbonrun/sampler"
)

// writeSamplesFile writes a samples.csv of one GPU at 300 W for three
// seconds into dir.
func writeSamplesFile(t *testing.T, dir string) string {
	t.Helper()
	samples, err := report.NewSamples(dir)
	if err != nil {
		t.Fatalf("NewSamples: %v", err)
	}
	for i := 1; i <= 3; i++ {
		total := sampler.Total{
			Component: sampler.Component{Kind: sampler.KindGPU, Name: "H100", Method: sampler.MethodEnergyCounter},
			Power:     300, Energy: units.Joules(300 * i),
		}
		if err := samples.Add(time.Duration(i)*time.Second, []sampler.Total{total}); err != nil {
			t.Fatalf("Add: %v", err)
		}
	}
	if err := samples.Finish(); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	return filepath.Join(dir, report.SamplesFile)
}

// writeMergedReport merges two node reports into dir/job.json and returns
// its path.
func writeMergedReport(t *testing.T, dir string) string {
	t.Helper()
	nodes := t.TempDir()
	a := writeNodeReport(t, nodes, "node-a", "42")
	b := writeNodeReport(t, nodes, "node-b", "42")
	output := filepath.Join(dir, "job.json")
	if code, _, stderr := runCommand("merge", "-o", output, a, b); code != exitOK {
		t.Fatalf("merge: exit code %d, stderr %q; want 0", code, stderr)
	}
	return output
}

func TestRenderFormats(t *testing.T) {
	withSamples := t.TempDir()
	reportWithSamples := writeNodeReport(t, withSamples, "node-a", "42")
	writeSamplesFile(t, withSamples)
	reportAlone := writeNodeReport(t, t.TempDir(), "node-b", "43")
	otherSamples := writeSamplesFile(t, t.TempDir())
	mergedWithSamples := writeMergedReport(t, withSamples)

	tests := []struct {
		name     string
		args     []string
		want     []string
		wantNot  []string
		wantJSON bool
	}{
		{"html with samples beside", []string{"render", reportWithSamples},
			[]string{"<!DOCTYPE html>", "<polyline", "Energy and emissions report: 42"}, nil, false},
		{"html without samples", []string{"render", reportAlone},
			[]string{"<!DOCTYPE html>", "This report has no power samples"}, []string{"<polyline"}, false},
		{"html with named samples", []string{"render", "--samples", otherSamples, reportAlone},
			[]string{"<polyline"}, nil, false},
		{"html with samples turned off", []string{"render", "--samples=", reportWithSamples},
			[]string{"This report has no power samples"}, []string{"<polyline"}, false},
		{"markdown", []string{"render", "--format", "md", reportWithSamples},
			[]string{"# Energy and emissions report: 42\n", "## Compute statement"}, []string{"<"}, false},
		{"json", []string{"render", "--format=json", reportWithSamples}, nil, nil, true},
		{"merged report ignores samples beside", []string{"render", mergedWithSamples},
			[]string{"This report has no power samples"}, []string{"<polyline"}, false},
		{"merged report with named samples", []string{"render", "--samples", otherSamples, mergedWithSamples},
			[]string{"<polyline"}, nil, false},
		{"flags after file", []string{"render", reportWithSamples, "-f", "md"},
			[]string{"# Energy and emissions report: 42\n"}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCommand(tc.args...)

			if code != exitOK || stderr != "" {
				t.Fatalf("exit code %d, stderr %q; want 0 and no output", code, stderr)
			}
			for _, want := range tc.want {
				if !strings.Contains(stdout, want) {
					t.Errorf("output lacks %q", want)
				}
			}
			for _, wantNot := range tc.wantNot {
				if strings.Contains(stdout, wantNot) {
					t.Errorf("output contains %q", wantNot)
				}
			}
			if tc.wantJSON {
				if got := decodeReport(t, []byte(stdout)); got.JobID != "42" {
					t.Errorf("job_id: got %q, want %q", got.JobID, "42")
				}
			}
		})
	}
}

func TestRenderOutputFile(t *testing.T) {
	dir := t.TempDir()
	input := writeNodeReport(t, dir, "node-a", "42")
	outDir := t.TempDir()
	output := filepath.Join(outDir, report.HTMLFile)
	writeFile(t, outDir, report.HTMLFile, "old content")

	code, stdout, stderr := runCommand("render", "-o", output, input)

	if code != exitOK {
		t.Fatalf("exit code %d, stderr %q; want 0", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout: got %q, want nothing when -o is set", stdout)
	}
	if want := "carbon-report: rendered " + input + " as html into " + output + "\n"; stderr != want {
		t.Errorf("stderr:\n got %q\nwant %q", stderr, want)
	}
	data, err := os.ReadFile(output)
	if err != nil {
		t.Fatalf("reading output: %v", err)
	}
	if !strings.HasPrefix(string(data), "<!DOCTYPE html>") {
		t.Errorf("output does not start with <!DOCTYPE html>: %.60q", data)
	}
	entries, err := os.ReadDir(outDir)
	if err != nil {
		t.Fatalf("listing output directory: %v", err)
	}
	if len(entries) != 1 {
		t.Errorf("output directory: got %d entries, want only %s (no temporary file left)",
			len(entries), report.HTMLFile)
	}
	info, err := os.Stat(output)
	if err != nil {
		t.Fatalf("stat output: %v", err)
	}
	if mode := info.Mode().Perm(); mode != 0o644 {
		t.Errorf("output mode: got %o, want 644", mode)
	}
}

func TestRenderInvalidInput(t *testing.T) {
	dir := t.TempDir()
	good := writeNodeReport(t, dir, "node-a", "42")
	broken := writeFile(t, dir, "broken.json", "{\n  \"job_id\": \"42\",\n  oops\n}\n")
	future := writeFile(t, dir, "future.json", `{"schema_version": 9, "job_id": "42"}`)
	missing := filepath.Join(dir, "missing.json")

	badSamplesDir := t.TempDir()
	badSamples := writeNodeReport(t, badSamplesDir, "node-b", "42")
	writeFile(t, badSamplesDir, report.SamplesFile, "elapsed_seconds,kind\n")
	missingSamples := filepath.Join(dir, "none.csv")

	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"no file", []string{"render"}, "carbon-report render: missing report file; usage:"},
		{"two files", []string{"render", good, good}, "got 2 report files, want one"},
		{"unknown flag", []string{"render", "--bogus", good}, "carbon-report render: unknown flag: --bogus"},
		{"bad format", []string{"render", "--format", "pdf", good}, `invalid --format "pdf": use html, md or json`},
		{"missing file", []string{"render", missing}, "reading " + missing + ": no such file or directory"},
		{"directory", []string{"render", dir}, "reading " + dir + ": is a directory"},
		{"invalid json", []string{"render", broken}, broken + ": invalid JSON at line 3, column 3"},
		{"unsupported schema", []string{"render", future}, future + ": unsupported schema version 9 (want 1)"},
		{"missing samples", []string{"render", "--samples", missingSamples, good},
			"reading samples: open " + missingSamples + ": no such file or directory"},
		{"bad samples beside", []string{"render", badSamples},
			"is not a samples.csv header, want \"elapsed_seconds,kind,name,index,method,power_watts," +
				"interval_energy_joules,cumulative_energy_joules\"; pass --samples '' to render without"},
		{"samples with markdown", []string{"render", "--format", "md", "--samples", missingSamples, good},
			"--samples applies only to --format html, not md"},
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

func TestRenderUnwritableOutput(t *testing.T) {
	dir := t.TempDir()
	input := writeNodeReport(t, dir, "node-a", "42")
	output := filepath.Join(dir, "no-such-dir", report.HTMLFile)

	code, stdout, stderr := runCommand("render", "-o", output, input)

	if code != exitFailed {
		t.Errorf("exit code: got %d, want %d", code, exitFailed)
	}
	if stdout != "" {
		t.Errorf("stdout: got %q, want nothing", stdout)
	}
	if want := "carbon-report render: creating temporary file for " + output; !strings.HasPrefix(stderr, want) {
		t.Errorf("stderr:\n got %q\nwant prefix %q", stderr, want)
	}
	if lines := strings.Count(stderr, "\n"); lines != 1 {
		t.Errorf("stderr: got %d lines, want exactly one: %q", lines, stderr)
	}
}

func TestRenderHelp(t *testing.T) {
	for _, flag := range []string{"--help", "-h"} {
		code, stdout, stderr := runCommand("render", flag)

		if code != exitOK || stderr != "" {
			t.Errorf("render %s: exit code %d, stderr %q; want 0 and no output", flag, code, stderr)
		}
		for _, want := range []string{"Usage: carbon-report render", "Examples:", "--format FORMAT",
			"--samples FILE", "--output FILE"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("render %s: output lacks %q:\n%s", flag, want, stdout)
			}
		}
	}
}
