// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux

package rapl_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/carbonrun/carbonrun/sampler"
	"github.com/carbonrun/carbonrun/sampler/rapl"
)

const maxRangeUJ = 262143328850

func TestOpenFixtureTree(t *testing.T) {
	h := mustOpen(t, "testdata/sys", nil)

	want := []sampler.Component{
		{Kind: sampler.KindCPU, Name: "package-0", Index: 0,
			Method: sampler.MethodEnergyCounter, Detail: "RAPL intel-rapl:0/energy_uj"},
		{Kind: sampler.KindDRAM, Name: "dram-0", Index: 0,
			Method: sampler.MethodEnergyCounter, Detail: "RAPL intel-rapl:0:0/energy_uj"},
		{Kind: sampler.KindCPU, Name: "package-1", Index: 1,
			Method: sampler.MethodEnergyCounter, Detail: "RAPL intel-rapl:1/energy_uj"},
		{Kind: sampler.KindDRAM, Name: "dram-1", Index: 1,
			Method: sampler.MethodEnergyCounter, Detail: "RAPL intel-rapl:1:0/energy_uj"},
	}
	checkDiff(t, "components", want, h.src.Components())
	checkDiff(t, "domains", []string{"package-0", "dram-0", "package-1", "dram-1"}, h.src.Domains())
	checkDiff(t, "ignored", []string{"psys"}, h.src.Ignored())
	checkWarnings(t, h.warn, 0)

	h.read(t, t0)
	checkDiff(t, "domain up", map[string]bool{"package-0": true, "dram-0": true, "package-1": true,
		"dram-1": true}, h.src.DomainUp())
}

func TestPackage50WattsFor3Seconds(t *testing.T) {
	root := writeTree(t, fakeZone{path: "intel-rapl:0", name: "package-0",
		energyUJ: 5_000_000, maxRangeUJ: maxRangeUJ})
	h := mustOpen(t, root, nil)
	h.read(t, t0)

	for s := 1; s <= 3; s++ {
		addJoules(t, root, "intel-rapl:0", 50)
		h.read(t, t0.Add(time.Duration(s)*time.Second))
	}

	got := h.reading(t, "package-0")
	checkNear(t, "energy joules", got.Energy, 150.0, 1e-9)
	checkNear(t, "energy kWh", got.Energy.KWh(), 0.0000417, 0.0000417*0.10)
	checkNear(t, "power watts", got.Power, 50.0, 1e-9)
}

func TestPermissionDenied_CR01(t *testing.T) {
	tests := []struct {
		name   string
		inject func(f *faultFS)
	}{
		{"open denied", func(f *faultFS) { f.setOpenErr("intel-rapl:0/energy_uj", syscall.EACCES) }},
		{"read denied", func(f *faultFS) { f.setReadErr("intel-rapl:0/energy_uj", syscall.EACCES) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := writeTree(t, fakeZone{path: "intel-rapl:0", name: "package-0",
				energyUJ: 1_000_000, maxRangeUJ: maxRangeUJ})
			faults := newFaultFS()
			tc.inject(faults)

			h, err := openSource(t, root, faults)
			checkUnavailable(t, h, err)

			warnings := checkWarnings(t, h.warn, 1)
			file := filepath.Join(root, "class/powercap/intel-rapl:0/energy_uj")
			for _, want := range []string{file, "udev rule", "tmpfiles.d/sysfs.conf",
				"CAP_DAC_READ_SEARCH"} {
				checkContains(t, "warning", warnings[0], want)
			}
			for _, bad := range []string{"sudo", "run as root"} {
				if strings.Contains(warnings[0], bad) {
					t.Errorf("warning = %q, want no %q", warnings[0], bad)
				}
			}
		})
	}
}

func TestWraparound_CR02(t *testing.T) {
	root := writeTree(t, fakeZone{path: "intel-rapl:0", name: "package-0",
		energyUJ: 262143000000, maxRangeUJ: 262143328850})
	h := mustOpen(t, root, nil)
	h.read(t, t0)

	setEnergy(t, root, "intel-rapl:0", 1000000)
	h.read(t, t0.Add(1000*time.Millisecond))

	got := h.reading(t, "package-0")
	// (262143328850 - 262143000000) + 1000000 = 1328850 µJ.
	checkNear(t, "energy joules", got.Energy, 1.32885, 1e-6)
	checkNear(t, "power watts", got.Power, 1.33, 0.005)
	if got.Energy < 0 {
		t.Errorf("energy = %v J, want >= 0", got.Energy)
	}
	checkWarnings(t, h.warn, 0)
}

func TestWrapUncorrectable_CR03(t *testing.T) {
	tests := []struct {
		name   string
		faults func() *faultFS
	}{
		{"range absent", func() *faultFS { return nil }},
		{"range unreadable", func() *faultFS {
			f := newFaultFS()
			f.setOpenErr("intel-rapl:0/max_energy_range_uj", syscall.EACCES)
			return f
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := writeTree(t, fakeZone{path: "intel-rapl:0", name: "package-0",
				energyUJ: 3_600_000_000})
			if tc.name == "range unreadable" {
				writeAttribute(t, filepath.Join(root, "class/powercap/intel-rapl:0/max_energy_range_uj"),
					"262143328850")
			}
			h := mustOpen(t, root, tc.faults())
			h.read(t, t0)

			// 40 W for 10 s before the wrap.
			setEnergy(t, root, "intel-rapl:0", 4_000_000_000)
			h.read(t, t0.Add(10*time.Second))
			before := h.reading(t, "package-0")
			checkNear(t, "energy before wrap", before.Energy, 400.0, 1e-9)
			checkNear(t, "power before wrap", before.Power, 40.0, 1e-9)

			setEnergy(t, root, "intel-rapl:0", 10_000)
			h.read(t, t0.Add(20*time.Second))
			wrapped := h.reading(t, "package-0")
			checkNear(t, "energy after wrap", wrapped.Energy, 400.0, 1e-9)
			checkNear(t, "power of the dropped interval", wrapped.Power, 0, 0)

			warnings := checkWarnings(t, h.warn, 1)
			checkContains(t, "warning", warnings[0], "rapl_wrap_uncorrectable")

			// Counting resumes from the wrapped value.
			addJoules(t, root, "intel-rapl:0", 400)
			h.read(t, t0.Add(30*time.Second))
			after := h.reading(t, "package-0")
			checkNear(t, "energy after resume", after.Energy, 800.0, 1e-9)
			if after.Energy < wrapped.Energy {
				t.Errorf("cumulative energy went from %v J to %v J", wrapped.Energy, after.Energy)
			}
		})
	}
}

func TestDRAMNotDoubleCounted_CR05(t *testing.T) {
	root := writeTree(t,
		fakeZone{path: "intel-rapl:0", name: "package-0", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
		fakeZone{path: "intel-rapl:0/intel-rapl:0:0", name: "core", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
		fakeZone{path: "intel-rapl:0/intel-rapl:0:1", name: "uncore", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
		fakeZone{path: "intel-rapl:0/intel-rapl:0:2", name: "dram", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
	)
	h := mustOpen(t, root, nil)
	h.read(t, t0)

	addJoules(t, root, "intel-rapl:0", 100)
	addJoules(t, root, "intel-rapl:0/intel-rapl:0:0", 60)
	addJoules(t, root, "intel-rapl:0/intel-rapl:0:1", 5)
	addJoules(t, root, "intel-rapl:0/intel-rapl:0:2", 20)
	h.read(t, t0.Add(10*time.Second))

	byKind := h.energyByKind()
	checkNear(t, "cpu joules", byKind[sampler.KindCPU], 100.0, 1e-9)
	checkNear(t, "dram joules", byKind[sampler.KindDRAM], 20.0, 1e-9)
	checkNear(t, "total joules", h.total(), 120.0, 1e-9)
	checkDiff(t, "domains", []string{"package-0", "dram-0"}, h.src.Domains())
	checkDiff(t, "ignored", []string{"core-0", "uncore-0"}, h.src.Ignored())
	checkWarnings(t, h.warn, 0)
}

func TestMirroredDies_CR12(t *testing.T) {
	root := writeTree(t,
		fakeZone{path: "intel-rapl:0", name: "package-0-die-0", energyUJ: 7e9, maxRangeUJ: maxRangeUJ},
		fakeZone{path: "intel-rapl:1", name: "package-0-die-1", energyUJ: 7e9, maxRangeUJ: maxRangeUJ},
	)
	h := mustOpen(t, root, nil)
	h.read(t, t0)

	addJoules(t, root, "intel-rapl:0", 680)
	addJoules(t, root, "intel-rapl:1", 680)
	h.read(t, t0.Add(10*time.Second))

	checkNear(t, "cpu joules", h.energyByKind()[sampler.KindCPU], 680.0, 1e-9)
	checkNear(t, "cpu watts", h.reading(t, "package-0").Power, 68.0, 1e-9)
	checkDiff(t, "domains", []string{"package-0"}, h.src.Domains())
	checkDiff(t, "ignored", []string{"package-0-die-1"}, h.src.Ignored())
	checkDiff(t, "mirror log lines", 1, h.logCount("mirror"))
}

func TestDistinctDiesSummed(t *testing.T) {
	root := writeTree(t,
		fakeZone{path: "intel-rapl:0", name: "package-0-die-0", energyUJ: 7e9, maxRangeUJ: maxRangeUJ},
		fakeZone{path: "intel-rapl:1", name: "package-0-die-1", energyUJ: 3e9, maxRangeUJ: maxRangeUJ},
	)
	h := mustOpen(t, root, nil)
	h.read(t, t0)

	addJoules(t, root, "intel-rapl:0", 300)
	addJoules(t, root, "intel-rapl:1", 200)
	h.read(t, t0.Add(10*time.Second))

	checkNear(t, "cpu joules", h.energyByKind()[sampler.KindCPU], 500.0, 1e-9)
	checkDiff(t, "domains", []string{"package-0-die-0", "package-0-die-1"}, h.src.Domains())
	checkDiff(t, "ignored", []string(nil), h.src.Ignored())
	checkDiff(t, "mirror log lines", 0, h.logCount("mirror"))
}

func TestPsysWithPackage_CR14(t *testing.T) {
	root := writeTree(t,
		fakeZone{path: "intel-rapl:0", name: "package-0", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
		fakeZone{path: "intel-rapl:0/intel-rapl:0:0", name: "core", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
		fakeZone{path: "intel-rapl:0/intel-rapl:0:1", name: "uncore", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
		fakeZone{path: "intel-rapl:1", name: "psys", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
	)
	h := mustOpen(t, root, nil)
	h.read(t, t0)

	addJoules(t, root, "intel-rapl:1", 96.1)
	addJoules(t, root, "intel-rapl:0", 37.8)
	addJoules(t, root, "intel-rapl:0/intel-rapl:0:0", 8.4)
	addJoules(t, root, "intel-rapl:0/intel-rapl:0:1", 2.1)
	h.read(t, t0.Add(10*time.Second))

	checkNear(t, "total joules", h.total(), 37.8, 1e-9)
	checkDiff(t, "domains", []string{"package-0"}, h.src.Domains())
	checkDiff(t, "ignored", []string{"psys", "core-0", "uncore-0"}, h.src.Ignored())
}

func TestPsysOnly(t *testing.T) {
	root := writeTree(t,
		fakeZone{path: "intel-rapl:0", name: "psys", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
		fakeZone{path: "intel-rapl:1", name: "dram", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
	)
	h := mustOpen(t, root, nil)
	h.read(t, t0)

	addJoules(t, root, "intel-rapl:0", 96.1)
	addJoules(t, root, "intel-rapl:1", 10)
	h.read(t, t0.Add(10*time.Second))

	checkNear(t, "cpu joules", h.energyByKind()[sampler.KindCPU], 96.1, 1e-9)
	checkNear(t, "total joules", h.total(), 96.1, 1e-9)
	checkDiff(t, "domains", []string{"psys"}, h.src.Domains())
	checkDiff(t, "ignored", []string{"dram-1"}, h.src.Ignored())
}

func TestDomainReadErrors_CR17(t *testing.T) {
	root := writeTree(t,
		fakeZone{path: "intel-rapl:0", name: "package-0", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
		fakeZone{path: "intel-rapl:0/intel-rapl:0:2", name: "dram", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
		fakeZone{path: "intel-rapl:1", name: "package-1", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
	)
	faults := newFaultFS()
	h := mustOpen(t, root, faults)
	h.read(t, t0)

	// One good interval, then package-0 loses permission and dram-0 starts
	// failing with EINVAL.
	addJoules(t, root, "intel-rapl:0", 10)
	addJoules(t, root, "intel-rapl:0/intel-rapl:0:2", 2)
	addJoules(t, root, "intel-rapl:1", 10)
	h.read(t, t0.Add(time.Second))
	faults.setReadErr("intel-rapl:0/energy_uj", syscall.EACCES)
	faults.setReadErr("intel-rapl:0:2/energy_uj", syscall.EINVAL)

	for s := 2; s <= 101; s++ {
		addJoules(t, root, "intel-rapl:0", 10)
		addJoules(t, root, "intel-rapl:0/intel-rapl:0:2", 2)
		addJoules(t, root, "intel-rapl:1", 10)
		h.read(t, t0.Add(time.Duration(s)*time.Second))
	}

	checkNear(t, "package-0 joules", h.reading(t, "package-0").Energy, 10.0, 1e-9)
	checkNear(t, "dram-0 joules", h.reading(t, "dram-0").Energy, 2.0, 1e-9)
	checkNear(t, "package-1 joules", h.reading(t, "package-1").Energy, 1010.0, 1e-9)
	checkDiff(t, "domain up", map[string]bool{"package-0": false, "dram-0": false, "package-1": true},
		h.src.DomainUp())

	warnings := checkWarnings(t, h.warn, 2)
	checkContains(t, "first warning", warnings[0], "package-0")
	checkContains(t, "first warning", warnings[0], "CAP_DAC_READ_SEARCH")
	checkContains(t, "second warning", warnings[1], "dram-0")
	checkContains(t, "second warning", warnings[1], "invalid argument")

	// Once readable again, the counter's advance during the outage is counted.
	faults.setReadErr("intel-rapl:0/energy_uj", nil)
	faults.setReadErr("intel-rapl:0:2/energy_uj", nil)
	h.read(t, t0.Add(102*time.Second))
	checkNear(t, "package-0 joules", h.reading(t, "package-0").Energy, 1010.0, 1e-9)
	checkNear(t, "dram-0 joules", h.reading(t, "dram-0").Energy, 202.0, 1e-9)
	checkDiff(t, "domain up", map[string]bool{"package-0": true, "dram-0": true, "package-1": true},
		h.src.DomainUp())
	checkWarnings(t, h.warn, 2)
}

func TestDomainDownAtOpen(t *testing.T) {
	root := writeTree(t,
		fakeZone{path: "intel-rapl:0", name: "package-0", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
		fakeZone{path: "intel-rapl:0/intel-rapl:0:0", name: "dram", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
	)
	faults := newFaultFS()
	faults.setReadErr("intel-rapl:0:0/energy_uj", syscall.EINVAL)
	h := mustOpen(t, root, faults)
	checkDiff(t, "domain up", map[string]bool{"package-0": true, "dram-0": false}, h.src.DomainUp())

	h.read(t, t0)
	faults.setReadErr("intel-rapl:0:0/energy_uj", nil)
	addJoules(t, root, "intel-rapl:0/intel-rapl:0:0", 5)
	h.read(t, t0.Add(time.Second))
	addJoules(t, root, "intel-rapl:0/intel-rapl:0:0", 5)
	h.read(t, t0.Add(2*time.Second))

	// The first successful read is the baseline, so only the last 5 J count.
	checkNear(t, "dram-0 joules", h.reading(t, "dram-0").Energy, 5.0, 1e-9)
	checkDiff(t, "dram-0 up", true, h.src.DomainUp()["dram-0"])
	checkWarnings(t, h.warn, 1)
}

func TestUnavailable_CR18(t *testing.T) {
	tests := []struct {
		name   string
		build  func(t *testing.T) string
		faults func() *faultFS
		reason string
	}{
		{"no powercap dir", func(t *testing.T) string { return t.TempDir() }, nil,
			"does not exist"},
		{"zone without energy_uj", func(t *testing.T) string {
			return writeTree(t, fakeZone{path: "intel-rapl:0", name: "package-0", noEnergy: true})
		}, nil, "zone intel-rapl:0 (package-0) has no energy_uj"},
		{"empty powercap dir", func(t *testing.T) string {
			root := t.TempDir()
			mustNoError(t, os.MkdirAll(filepath.Join(root, "class", "powercap"), 0o755))
			return root
		}, nil, "no intel-rapl or amd-rapl zones"},
		{"mmio zone only", func(t *testing.T) string {
			return writeTree(t, fakeZone{path: "intel-rapl-mmio:0", name: "package-0", energyUJ: 1})
		}, nil, "no intel-rapl or amd-rapl zones"},
		{"no package or psys zone", func(t *testing.T) string {
			return writeTree(t, fakeZone{path: "intel-rapl:0", name: "dram", energyUJ: 1})
		}, nil, "no package or psys zone"},
		{"energy_uj read fails", func(t *testing.T) string {
			return writeTree(t, fakeZone{path: "intel-rapl:0", name: "package-0", energyUJ: 1})
		}, func() *faultFS {
			f := newFaultFS()
			f.setReadErr("intel-rapl:0/energy_uj", syscall.EINVAL)
			return f
		}, "invalid argument"},
		{"energy_uj not a number", func(t *testing.T) string {
			root := writeTree(t, fakeZone{path: "intel-rapl:0", name: "package-0"})
			writeAttribute(t, filepath.Join(root, "class/powercap/intel-rapl:0/energy_uj"), "n/a")
			return root
		}, nil, "not a decimal number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var faults *faultFS
			if tc.faults != nil {
				faults = tc.faults()
			}
			var h *harness
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("Open panicked: %v", r)
					}
				}()
				h, err = openSource(t, tc.build(t), faults)
			}()

			checkUnavailable(t, h, err)
			checkContains(t, "error", err.Error(), "RAPL not available (container/VM?)")
			checkContains(t, "error", err.Error(), tc.reason)
		})
	}
}

func TestZoneWithoutEnergyIgnored(t *testing.T) {
	root := writeTree(t,
		fakeZone{path: "intel-rapl:0", name: "package-0", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
		fakeZone{path: "intel-rapl:0/intel-rapl:0:0", name: "dram", noEnergy: true},
	)
	h := mustOpen(t, root, nil)

	checkDiff(t, "domains", []string{"package-0"}, h.src.Domains())
	checkDiff(t, "ignored", []string{"dram-0"}, h.src.Ignored())
	warnings := checkWarnings(t, h.warn, 1)
	checkContains(t, "warning", warnings[0], "intel-rapl:0:0 (dram) has no energy_uj")
}

func TestUnits_CR21(t *testing.T) {
	root := writeTree(t, fakeZone{path: "intel-rapl:0", name: "package-0",
		energyUJ: 1e9, maxRangeUJ: maxRangeUJ})
	h := mustOpen(t, root, nil)
	h.read(t, t0)

	addJoules(t, root, "intel-rapl:0", 50)
	h.read(t, t0.Add(1000*time.Millisecond))

	got := h.reading(t, "package-0")
	checkNear(t, "power watts", got.Power, 50.0, 1e-9)
	checkNear(t, "energy joules", got.Energy, 50.0, 1e-9)
	checkNear(t, "energy kWh", got.Energy.KWh(), 1.3889e-5, 1e-9)
}

func TestUnknownZone_CR37(t *testing.T) {
	root := writeTree(t,
		fakeZone{path: "intel-rapl:0", name: "package-0", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
		fakeZone{path: "intel-rapl:1", name: "psys", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
		fakeZone{path: "intel-rapl:2", name: "some-new-zone", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
	)
	h := mustOpen(t, root, nil)
	h.read(t, t0)

	addJoules(t, root, "intel-rapl:0", 50)
	addJoules(t, root, "intel-rapl:1", 80)
	addJoules(t, root, "intel-rapl:2", 10)
	for s := 1; s <= 10; s++ {
		h.read(t, t0.Add(time.Duration(s)*time.Second))
	}

	checkNear(t, "total joules", h.total(), 50.0, 1e-9)
	checkDiff(t, "domains", []string{"package-0"}, h.src.Domains())
	checkDiff(t, "ignored", []string{"psys", "some-new-zone"}, h.src.Ignored())
	warnings := checkWarnings(t, h.warn, 1)
	checkContains(t, "warning", warnings[0], `"some-new-zone"`)
}

func TestSubzoneLinksCountedOnce(t *testing.T) {
	root := writeTree(t,
		fakeZone{path: "intel-rapl:0", name: "package-0", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
		fakeZone{path: "intel-rapl:0/intel-rapl:0:0", name: "dram", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
		fakeZone{path: "intel-rapl-mmio:0", name: "package-0", energyUJ: 1e9, maxRangeUJ: maxRangeUJ},
	)
	// Real sysfs also links every subzone at the class level.
	powercap := filepath.Join(root, "class", "powercap")
	mustNoError(t, os.Symlink("intel-rapl:0/intel-rapl:0:0", filepath.Join(powercap, "intel-rapl:0:0")))
	h := mustOpen(t, root, nil)
	h.read(t, t0)

	addJoules(t, root, "intel-rapl:0", 30)
	addJoules(t, root, "intel-rapl:0/intel-rapl:0:0", 7)
	h.read(t, t0.Add(time.Second))

	checkDiff(t, "domains", []string{"package-0", "dram-0"}, h.src.Domains())
	checkNear(t, "total joules", h.total(), 37.0, 1e-9)
}

func TestReadContract(t *testing.T) {
	h := mustOpen(t, "testdata/sys", nil)

	err := h.src.Read(t0, make([]sampler.Reading, 1))
	if err == nil {
		t.Fatal("Read with 1 reading for 4 components returned nil, want an error")
	}
	checkContains(t, "error", err.Error(), "got 1 readings for 4 components")

	src, err := rapl.Open(rapl.Options{SysfsRoot: "testdata/sys"})
	mustNoError(t, err)
	mustNoError(t, src.Close())
	mustNoError(t, src.Close())
	err = src.Read(t0, make([]sampler.Reading, 4))
	if err == nil {
		t.Error("Read after Close returned nil, want an error")
	}
}

func TestReadDoesNotAllocate(t *testing.T) {
	h := mustOpen(t, "testdata/sys", nil)
	now := t0
	h.read(t, now)

	allocs := testing.AllocsPerRun(100, func() {
		now = now.Add(time.Second)
		_ = h.src.Read(now, h.readings)
	})
	checkDiff(t, "allocations per Read", 0.0, allocs)
}

func TestErrorsWrapUnavailable(t *testing.T) {
	_, err := rapl.Open(rapl.Options{SysfsRoot: filepath.Join(t.TempDir(), "missing")})
	if !errors.Is(err, sampler.ErrUnavailable) {
		t.Fatalf("Open error = %v, want one wrapping ErrUnavailable", err)
	}
	if strings.HasSuffix(err.Error(), ".") {
		t.Errorf("error = %q, want no trailing punctuation", err)
	}
}
