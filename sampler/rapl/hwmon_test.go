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
	"syscall"
	"testing"
	"time"

	"github.com/carbonrun/carbonrun/sampler"
)

// fakeCounter is one energyN_input of a hwmon device built by writeHwmon.
type fakeCounter struct {
	channel  int
	label    string // written as energyN_label unless empty
	energyUJ uint64
}

// twoSocketCounters is the amd_energy layout of a two-socket host with two
// cores per socket: the driver numbers the core channels first.
var twoSocketCounters = []fakeCounter{
	{channel: 1, label: "Ecore000", energyUJ: 1e9},
	{channel: 2, label: "Ecore001", energyUJ: 1e9},
	{channel: 3, label: "Ecore002", energyUJ: 1e9},
	{channel: 4, label: "Ecore003", energyUJ: 1e9},
	{channel: 5, label: "Esocket0", energyUJ: 5e9},
	{channel: 6, label: "Esocket1", energyUJ: 6e9},
}

// writeHwmon adds <root>/class/hwmon/<device> with the given name attribute
// and counters.
func writeHwmon(t *testing.T, root, device, name string, counters ...fakeCounter) {
	t.Helper()
	dir := filepath.Join(root, "class", "hwmon", device)
	mustNoError(t, os.MkdirAll(dir, 0o755))
	writeAttribute(t, filepath.Join(dir, "name"), name)
	for _, c := range counters {
		prefix := filepath.Join(dir, "energy"+strconv.Itoa(c.channel))
		writeAttribute(t, prefix+"_input", strconv.FormatUint(c.energyUJ, 10))
		if c.label != "" {
			writeAttribute(t, prefix+"_label", c.label)
		}
	}
}

// counterPath returns the energyN_input path of a hwmon device.
func counterPath(root, device string, channel int) string {
	return filepath.Join(root, "class", "hwmon", device, "energy"+strconv.Itoa(channel)+"_input")
}

// setCounter rewrites a hwmon counter in place.
func setCounter(t *testing.T, root, device string, channel int, microjoules uint64) {
	t.Helper()
	writeAttribute(t, counterPath(root, device, channel), strconv.FormatUint(microjoules, 10))
}

// addCounterJoules advances a hwmon counter by joules.
func addCounterJoules(t *testing.T, root, device string, channel int, joules float64) {
	t.Helper()
	text, err := os.ReadFile(counterPath(root, device, channel))
	mustNoError(t, err)
	value, err := strconv.ParseUint(strings.TrimSpace(string(text)), 10, 64)
	mustNoError(t, err)
	setCounter(t, root, device, channel, value+uint64(joules*microjoulesPerJoule+0.5))
}

func TestAMDEnergySocketsSummed(t *testing.T) {
	root := t.TempDir()
	writeHwmon(t, root, "hwmon0", "k10temp")
	writeHwmon(t, root, "hwmon3", "amd_energy", twoSocketCounters...)
	h := mustOpen(t, root, nil)

	want := []sampler.Component{
		{Kind: sampler.KindCPU, Name: "package-0", Index: 0, Method: sampler.MethodEnergyCounter,
			Detail: "amd_energy hwmon3/energy5_input (Esocket0)"},
		{Kind: sampler.KindCPU, Name: "package-1", Index: 1, Method: sampler.MethodEnergyCounter,
			Detail: "amd_energy hwmon3/energy6_input (Esocket1)"},
	}
	checkDiff(t, "components", want, h.src.Components())
	checkDiff(t, "domains", []string{"package-0", "package-1"}, h.src.Domains())
	checkDiff(t, "ignored", []string{"hwmon3/Ecore000", "hwmon3/Ecore001", "hwmon3/Ecore002",
		"hwmon3/Ecore003"}, h.src.Ignored())
	h.read(t, t0)

	// 10 s at 12 W and 8 W per socket; the cores' 50 J are part of those.
	addCounterJoules(t, root, "hwmon3", 5, 120)
	addCounterJoules(t, root, "hwmon3", 6, 80)
	for channel := 1; channel <= 4; channel++ {
		addCounterJoules(t, root, "hwmon3", channel, 50)
	}
	h.read(t, t0.Add(10*time.Second))

	checkNear(t, "package-0 joules", h.reading(t, "package-0").Energy, 120.0, 1e-9)
	checkNear(t, "package-1 joules", h.reading(t, "package-1").Energy, 80.0, 1e-9)
	checkNear(t, "package-0 watts", h.reading(t, "package-0").Power, 12.0, 1e-9)
	checkNear(t, "cpu joules", h.energyByKind()[sampler.KindCPU], 200.0, 1e-9)
	checkNear(t, "total joules", h.total(), 200.0, 1e-9)
	checkDiff(t, "domain up", map[string]bool{"package-0": true, "package-1": true},
		h.src.DomainUp())
	checkWarnings(t, h.warn, 0)
}

func TestAMDEnergyIgnoredWithPowercap(t *testing.T) {
	root := writeTree(t, fakeZone{path: "amd-rapl:0", name: "package-0",
		energyUJ: 1e9, maxRangeUJ: maxRangeUJ})
	writeHwmon(t, root, "hwmon2", "amd_energy",
		fakeCounter{channel: 1, label: "Ecore000", energyUJ: 1e9},
		fakeCounter{channel: 2, label: "Esocket0", energyUJ: 1e9})
	h := mustOpen(t, root, nil)
	h.read(t, t0)

	addJoules(t, root, "amd-rapl:0", 70)
	addCounterJoules(t, root, "hwmon2", 2, 70)
	addCounterJoules(t, root, "hwmon2", 1, 30)
	h.read(t, t0.Add(10*time.Second))

	want := []sampler.Component{{Kind: sampler.KindCPU, Name: "package-0", Index: 0,
		Method: sampler.MethodEnergyCounter, Detail: "RAPL amd-rapl:0/energy_uj"}}
	checkDiff(t, "components", want, h.src.Components())
	checkDiff(t, "ignored", []string{"hwmon2/Esocket0"}, h.src.Ignored())
	checkNear(t, "total joules", h.total(), 70.0, 1e-9)
	checkWarnings(t, h.warn, 0)
}

func TestAMDEnergyAfterUnusablePowercap(t *testing.T) {
	root := writeTree(t, fakeZone{path: "intel-rapl:0", name: "dram", energyUJ: 1e9})
	writeHwmon(t, root, "hwmon1", "amd_energy",
		fakeCounter{channel: 1, label: "Esocket0", energyUJ: 1e9})
	h := mustOpen(t, root, nil)
	h.read(t, t0)

	addCounterJoules(t, root, "hwmon1", 1, 25)
	h.read(t, t0.Add(time.Second))

	checkDiff(t, "domains", []string{"package-0"}, h.src.Domains())
	checkNear(t, "package-0 joules", h.reading(t, "package-0").Energy, 25.0, 1e-9)
	checkDiff(t, "fallback log lines", 1, h.logCount("using amd_energy"))
}

func TestAMDEnergyCounterReset(t *testing.T) {
	root := t.TempDir()
	writeHwmon(t, root, "hwmon4", "amd_energy",
		fakeCounter{channel: 1, label: "Esocket0", energyUJ: 9e12})
	h := mustOpen(t, root, nil)
	h.read(t, t0)

	// 40 W for 10 s, then the driver is reloaded and its counter restarts.
	addCounterJoules(t, root, "hwmon4", 1, 400)
	h.read(t, t0.Add(10*time.Second))
	before := h.reading(t, "package-0")
	checkNear(t, "energy before reset", before.Energy, 400.0, 1e-9)

	setCounter(t, root, "hwmon4", 1, 2_000_000)
	h.read(t, t0.Add(20*time.Second))
	reset := h.reading(t, "package-0")
	checkNear(t, "energy after reset", reset.Energy, 400.0, 1e-9)
	checkNear(t, "power of the dropped interval", reset.Power, 0, 0)

	warnings := checkWarnings(t, h.warn, 1)
	checkContains(t, "warning", warnings[0], "amd_energy_counter_reset",
		"hwmon4/energy1_input (package-0)", "count 0 J")

	// Counting resumes from the reset value, and a second reset adds no
	// warning.
	addCounterJoules(t, root, "hwmon4", 1, 300)
	h.read(t, t0.Add(30*time.Second))
	after := h.reading(t, "package-0")
	checkNear(t, "energy after resume", after.Energy, 700.0, 1e-9)
	checkNear(t, "power after resume", after.Power, 30.0, 1e-9)

	setCounter(t, root, "hwmon4", 1, 0)
	h.read(t, t0.Add(40*time.Second))
	last := h.reading(t, "package-0")
	checkNear(t, "energy after second reset", last.Energy, 700.0, 1e-9)
	checkWarnings(t, h.warn, 1)

	for _, step := range []struct {
		name        string
		early, late sampler.Reading
	}{{"reset", before, reset}, {"resume", reset, after}, {"second reset", after, last}} {
		if step.late.Energy < step.early.Energy {
			t.Errorf("cumulative energy went from %v J to %v J at %s",
				step.early.Energy, step.late.Energy, step.name)
		}
	}
}

func TestAMDEnergyPermissionDenied(t *testing.T) {
	tests := []struct {
		name   string
		inject func(f *faultFS)
		file   string
	}{
		{"open denied", func(f *faultFS) { f.setOpenErr("hwmon3/energy5_input", syscall.EACCES) },
			"energy5_input"},
		{"read denied", func(f *faultFS) { f.setReadErr("hwmon3/energy6_input", syscall.EACCES) },
			"energy6_input"},
		{"label denied", func(f *faultFS) { f.setOpenErr("hwmon3/energy1_label", syscall.EACCES) },
			"energy1_label"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeHwmon(t, root, "hwmon3", "amd_energy", twoSocketCounters...)
			faults := newFaultFS()
			tc.inject(faults)

			h, err := openSource(t, root, faults)
			checkUnavailable(t, h, err)
			if !errors.Is(err, fs.ErrPermission) {
				t.Errorf("Open error = %v, want one wrapping fs.ErrPermission", err)
			}

			warnings := checkWarnings(t, h.warn, 1)
			checkContains(t, "warning", warnings[0], filepath.Join(root, "class/hwmon/hwmon3", tc.file),
				"amd_energy", "udev rule", "tmpfiles.d/sysfs.conf", "CAP_DAC_READ_SEARCH")
			for _, bad := range []string{"sudo", "run as root"} {
				if strings.Contains(warnings[0], bad) {
					t.Errorf("warning = %q, want no %q", warnings[0], bad)
				}
			}
		})
	}
}

func TestAMDEnergyUnavailable(t *testing.T) {
	tests := []struct {
		name    string
		build   func(t *testing.T) string
		reasons []string
		// wantWarnings counts the warnings of counters that failed to read.
		wantWarnings int
	}{
		{"no hwmon and no powercap", func(t *testing.T) string { return t.TempDir() },
			[]string{"does not exist"}, 0},
		{"hwmon without amd_energy", func(t *testing.T) string {
			root := t.TempDir()
			writeHwmon(t, root, "hwmon0", "k10temp")
			writeHwmon(t, root, "hwmon1", "nvme", fakeCounter{channel: 1, label: "Esocket0", energyUJ: 1})
			return root
		}, []string{"does not exist"}, 0},
		{"amd_energy without sockets", func(t *testing.T) string {
			root := t.TempDir()
			writeHwmon(t, root, "hwmon2", "amd_energy",
				fakeCounter{channel: 1, label: "Ecore000", energyUJ: 1})
			return root
		}, []string{"does not exist", "amd_energy: no counter labelled Esocket"}, 0},
		{"amd_energy counter not a number", func(t *testing.T) string {
			root := t.TempDir()
			writeHwmon(t, root, "hwmon2", "amd_energy", fakeCounter{channel: 1, label: "Esocket0"})
			writeAttribute(t, counterPath(root, "hwmon2", 1), "n/a")
			return root
		}, []string{"does not exist", "no amd_energy socket counter could be read",
			"not a decimal number"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := openSource(t, tc.build(t), nil)

			checkUnavailable(t, h, err)
			checkContains(t, "error", err.Error(), "RAPL not available (container/VM?)")
			checkContains(t, "error", err.Error(), tc.reasons...)
			checkWarnings(t, h.warn, tc.wantWarnings)
		})
	}
}

func TestAMDEnergyUnknownLabel(t *testing.T) {
	root := t.TempDir()
	// Real sysfs links each hwmon device to its directory under devices.
	device := filepath.Join(root, "devices", "platform", "amd_energy.0", "hwmon", "hwmon5")
	writeHwmon(t, root, "hwmon5", "amd_energy",
		fakeCounter{channel: 1, label: "Esocket0", energyUJ: 1e9},
		fakeCounter{channel: 2, label: "Edie0", energyUJ: 1e9},
		fakeCounter{channel: 3, energyUJ: 1e9})
	mustNoError(t, os.MkdirAll(filepath.Dir(device), 0o755))
	mustNoError(t, os.Rename(filepath.Join(root, "class", "hwmon", "hwmon5"), device))
	mustNoError(t, os.Symlink(device, filepath.Join(root, "class", "hwmon", "hwmon5")))
	h := mustOpen(t, root, nil)

	checkDiff(t, "domains", []string{"package-0"}, h.src.Domains())
	checkDiff(t, "ignored", []string{"hwmon5/Edie0", "hwmon5/energy3_input"}, h.src.Ignored())
	warnings := checkWarnings(t, h.warn, 2)
	checkContains(t, "first warning", warnings[0], `hwmon5/energy2_input has unknown label "Edie0"`)
	checkContains(t, "second warning", warnings[1], "hwmon5/energy3_input has no readable label",
		"energy3_label: no such file or directory")
}

func TestAMDEnergyReadDoesNotAllocate(t *testing.T) {
	root := t.TempDir()
	writeHwmon(t, root, "hwmon3", "amd_energy", twoSocketCounters...)
	h := mustOpen(t, root, nil)
	now := t0
	h.read(t, now)

	allocs := testing.AllocsPerRun(100, func() {
		now = now.Add(time.Second)
		_ = h.src.Read(now, h.readings)
	})
	checkDiff(t, "allocations per Read", 0.0, allocs)
}
