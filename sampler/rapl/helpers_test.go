// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux

package rapl_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/sampler"
	"github.com/carbonrun/carbonrun/sampler/rapl"
)

// microjoulesPerJoule converts the joule figures of the tests to energy_uj.
const microjoulesPerJoule = 1_000_000

// t0 is the fake clock's start; tests pass t0.Add(d) to Read.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeZone is one zone of a powercap tree built by writeTree.
type fakeZone struct {
	path     string // relative to class/powercap, such as "intel-rapl:0/intel-rapl:0:2"
	name     string
	energyUJ uint64
	// maxRangeUJ is written as max_energy_range_uj unless it is 0.
	maxRangeUJ uint64
	// noEnergy leaves out energy_uj.
	noEnergy bool
}

// writeTree builds <root>/class/powercap with zones and returns root.
func writeTree(t *testing.T, zones ...fakeZone) string {
	t.Helper()
	root := t.TempDir()
	for _, z := range zones {
		dir := filepath.Join(root, "class", "powercap", z.path)
		mustNoError(t, os.MkdirAll(dir, 0o755))
		writeAttribute(t, filepath.Join(dir, "name"), z.name)
		if !z.noEnergy {
			writeAttribute(t, filepath.Join(dir, "energy_uj"), strconv.FormatUint(z.energyUJ, 10))
		}
		if z.maxRangeUJ != 0 {
			writeAttribute(t, filepath.Join(dir, "max_energy_range_uj"),
				strconv.FormatUint(z.maxRangeUJ, 10))
		}
	}
	return root
}

func writeAttribute(t *testing.T, path, value string) {
	t.Helper()
	mustNoError(t, os.WriteFile(path, []byte(value+"\n"), 0o644))
}

// setEnergy rewrites a zone's energy_uj in place. os.WriteFile truncates the
// same inode, so the file that the Source keeps open reads the new value.
func setEnergy(t *testing.T, root, zonePath string, microjoules uint64) {
	t.Helper()
	writeAttribute(t, filepath.Join(root, "class", "powercap", zonePath, "energy_uj"),
		strconv.FormatUint(microjoules, 10))
}

// addJoules advances a zone's energy_uj by joules.
func addJoules(t *testing.T, root, zonePath string, joules float64) {
	t.Helper()
	path := filepath.Join(root, "class", "powercap", zonePath, "energy_uj")
	text, err := os.ReadFile(path)
	mustNoError(t, err)
	value, err := strconv.ParseUint(strings.TrimSpace(string(text)), 10, 64)
	mustNoError(t, err)
	setEnergy(t, root, zonePath, value+uint64(joules*microjoulesPerJoule+0.5))
}

// faultFS opens real files but fails opens or reads of chosen files. Keys
// are path suffixes such as "intel-rapl:0/energy_uj".
type faultFS struct {
	mu      sync.Mutex
	openErr map[string]error
	readErr map[string]error
}

func newFaultFS() *faultFS {
	return &faultFS{openErr: map[string]error{}, readErr: map[string]error{}}
}

func (f *faultFS) setOpenErr(suffix string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.openErr[suffix] = err
}

func (f *faultFS) setReadErr(suffix string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		delete(f.readErr, suffix)
		return
	}
	f.readErr[suffix] = err
}

func (f *faultFS) lookup(table map[string]error, path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for suffix, err := range table {
		if strings.HasSuffix(path, "/"+suffix) {
			return err
		}
	}
	return nil
}

func (f *faultFS) open(path string) (rapl.File, error) {
	if err := f.lookup(f.openErr, path); err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, path: path}, nil
}

type faultFile struct {
	*os.File
	fs   *faultFS
	path string
}

func (f *faultFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.lookup(f.fs.readErr, f.path); err != nil {
		return 0, &fs.PathError{Op: "read", Path: f.path, Err: err}
	}
	return f.File.ReadAt(p, off)
}

// harness is an opened Source with its warnings and log.
type harness struct {
	src      *rapl.Source
	warn     *sampler.Warnings
	logs     *observer.ObservedLogs
	readings []sampler.Reading
}

func openSource(t *testing.T, root string, faults *faultFS) (*harness, error) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	log := zap.New(core)
	h := &harness{warn: sampler.NewWarnings(log), logs: logs}
	opts := rapl.Options{SysfsRoot: root, Log: log, Warn: h.warn}
	if faults != nil {
		opts.OpenFile = faults.open
	}

	src, err := rapl.Open(opts)
	if err != nil {
		return h, err
	}
	t.Cleanup(func() { mustNoError(t, src.Close()) })
	h.src = src
	h.readings = make([]sampler.Reading, len(src.Components()))
	return h, nil
}

func mustOpen(t *testing.T, root string, faults *faultFS) *harness {
	t.Helper()
	h, err := openSource(t, root, faults)
	mustNoError(t, err)
	return h
}

func (h *harness) read(t *testing.T, now time.Time) {
	t.Helper()
	mustNoError(t, h.src.Read(now, h.readings))
}

// energyByKind sums the cumulative energy of the last read per component kind.
func (h *harness) energyByKind() map[sampler.Kind]units.Joules {
	sums := make(map[sampler.Kind]units.Joules)
	for i, c := range h.src.Components() {
		sums[c.Kind] += h.readings[i].Energy
	}
	return sums
}

// total sums the cumulative energy of every component.
func (h *harness) total() units.Joules {
	var sum units.Joules
	for _, r := range h.readings {
		sum += r.Energy
	}
	return sum
}

// reading returns the last reading of the named component.
func (h *harness) reading(t *testing.T, name string) sampler.Reading {
	t.Helper()
	for i, c := range h.src.Components() {
		if c.Name == name {
			return h.readings[i]
		}
	}
	t.Fatalf("no component %q, want one of %v", name, h.src.Domains())
	return sampler.Reading{}
}

// logCount counts log entries whose message contains substr.
func (h *harness) logCount(substr string) int {
	return h.logs.FilterMessageSnippet(substr).Len()
}

func mustNoError(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// checkNear fails the test unless got is within tolerance of want.
func checkNear[T ~float64](t *testing.T, what string, got T, want, tolerance float64) {
	t.Helper()
	if diff := float64(got) - want; diff > tolerance || diff < -tolerance {
		t.Errorf("%s = %.9g, want %.9g (±%g)", what, float64(got), want, tolerance)
	}
}

// checkDiff fails the test when got differs from want.
func checkDiff(t *testing.T, what string, want, got any) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, diff)
	}
}

// checkContains fails the test unless text contains each of substrings.
func checkContains(t *testing.T, what, text string, substrings ...string) {
	t.Helper()
	for _, sub := range substrings {
		if !strings.Contains(text, sub) {
			t.Errorf("%s = %q, want it to contain %q", what, text, sub)
		}
	}
}

// checkWarnings fails the test unless there are exactly n warnings.
func checkWarnings(t *testing.T, warn *sampler.Warnings, n int) []string {
	t.Helper()
	got := warn.List()
	if len(got) != n {
		t.Fatalf("got %d warnings %q, want %d", len(got), got, n)
	}
	return got
}

// checkUnavailable fails the test unless Open failed with ErrUnavailable.
func checkUnavailable(t *testing.T, h *harness, err error) {
	t.Helper()
	if !errors.Is(err, sampler.ErrUnavailable) {
		t.Fatalf("Open error = %v, want one wrapping ErrUnavailable", err)
	}
	if h.src != nil {
		t.Errorf("Open returned a source with error %v, want nil", err)
	}
}
