// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux

package machine

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carbonrun/carbonrun/sampler"
	"github.com/carbonrun/carbonrun/sampler/rapl"
)

// fakeHost builds a sysfs with one RAPL package zone and a procfs with
// cpuinfo, meminfo and a stat file whose CPU times setStat rewrites.
func fakeHost(t *testing.T) (sysfs, procfs string, setStat func(busy, idle int)) {
	t.Helper()
	sysfs, procfs = t.TempDir(), t.TempDir()
	zone := filepath.Join(sysfs, "class", "powercap", "intel-rapl:0")
	require.NoError(t, os.MkdirAll(zone, 0o755))
	write(t, filepath.Join(zone, "name"), "package-0")
	write(t, filepath.Join(zone, "energy_uj"), "1000000")
	write(t, filepath.Join(zone, "max_energy_range_uj"), "262143328850")
	write(t, filepath.Join(procfs, "cpuinfo"),
		"processor\t: 0\nmodel name\t: Unknown Test CPU\nphysical id\t: 0\ncore id\t: 0\n\n"+
			"processor\t: 1\nmodel name\t: Unknown Test CPU\nphysical id\t: 0\ncore id\t: 1\n")
	write(t, filepath.Join(procfs, "meminfo"), "MemTotal:       16777216 kB\n")
	setStat = func(busy, idle int) {
		write(t, filepath.Join(procfs, "stat"),
			fmt.Sprintf("cpu  %d 0 0 %d 0 0 0 0 0 0\ncpu0 %d 0 0 %d 0 0 0 0 0 0\n", busy, idle, busy, idle))
	}
	setStat(0, 0)
	return sysfs, procfs, setStat
}

func write(t *testing.T, path, value string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(value+"\n"), 0o644))
}

func TestRAPLPermissionDenied_CR01(t *testing.T) {
	sysfs, procfs, setStat := fakeHost(t)
	// energy_uj is 0400 root-only on current kernels. The shim replaces the
	// permission check, because tests may run as root.
	deny := func(path string) (rapl.File, error) {
		if strings.HasSuffix(path, "energy_uj") {
			return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrPermission}
		}
		return os.Open(path)
	}
	warn := sampler.NewWarnings(nil)
	m := Open(Options{SysfsRoot: sysfs, ProcfsRoot: procfs, Warn: warn, RAPLOpenFile: deny,
		Env: func(string) (string, bool) { return "", false }})
	defer m.Close()

	assert.Nil(t, m.RAPL, "no RAPL source without read access")
	s := sampler.New(m.Sources, nil, warn)
	t0 := time.Now()
	s.Sample(t0)
	setStat(500, 500) // 50% busy over the next 10 s
	totals := s.Sample(t0.Add(10 * time.Second))

	var cpu *sampler.Total
	for i := range totals {
		if totals[i].Kind == sampler.KindCPU {
			cpu = &totals[i]
		}
	}
	require.NotNil(t, cpu, "a CPU component must still be reported")
	assert.Contains(t, []sampler.Method{sampler.MethodTDPEstimate, sampler.MethodTDPDefault}, cpu.Method)
	assert.Greater(t, float64(cpu.Energy), 0.0, "CPU must not be reported as 0 J")

	naming := 0
	for _, w := range warn.List() {
		if strings.Contains(w, "energy_uj") {
			naming++
			assert.Contains(t, w, "CAP_DAC_READ_SEARCH", "the warning gives the remedy")
		}
	}
	assert.Equal(t, 1, naming, "exactly one warning names the unreadable file: %q", warn.List())
}

func TestMemoryEstimateWithoutDRAMZone(t *testing.T) {
	sysfs, procfs, _ := fakeHost(t)
	m := Open(Options{SysfsRoot: sysfs, ProcfsRoot: procfs,
		Env: func(string) (string, bool) { return "", false }})
	defer m.Close()

	require.NotNil(t, m.RAPL)
	kinds := map[sampler.Kind]sampler.Method{}
	for _, src := range m.Sources {
		for _, c := range src.Components() {
			kinds[c.Kind] = c.Method
		}
	}
	assert.Equal(t, sampler.MethodEnergyCounter, kinds[sampler.KindCPU])
	assert.Equal(t, sampler.MethodMemoryEstimate, kinds[sampler.KindRAM])
	assert.Equal(t, []string{"package-0"}, m.CPUDomains)
}

func TestCPUTDPFromFlag(t *testing.T) {
	_, procfs, _ := fakeHost(t)
	tdp, method, detail, _ := cpuTDP(Options{ProcfsRoot: procfs, CPUTDP: 65})
	assert.Equal(t, 65.0, float64(tdp))
	assert.Equal(t, sampler.MethodTDPEstimate, method)
	assert.Contains(t, detail, "--cpu-tdp")
}

func TestCPUTDPDefaultPerCore(t *testing.T) {
	_, procfs, _ := fakeHost(t)
	tdp, method, detail, row := cpuTDP(Options{ProcfsRoot: procfs})
	assert.Equal(t, sampler.MethodTDPDefault, method)
	assert.Greater(t, float64(tdp), 0.0)
	assert.Contains(t, detail, "2 cores")
	assert.Contains(t, detail, "Unknown Test CPU")
	assert.NotEmpty(t, row.Source, "the default's derivation is a data source")
}

func TestCPUTDPCatalogScaledToCores(t *testing.T) {
	procfs := t.TempDir()
	var b strings.Builder
	for socket := 0; socket < 2; socket++ {
		for core := 0; core < 24; core++ {
			fmt.Fprintf(&b, "processor\t: %d\nmodel name\t: Intel(R) Xeon(R) Platinum 8168 CPU @ 2.70GHz\n"+
				"physical id\t: %d\ncore id\t: %d\n\n", socket*24+core, socket, core)
		}
	}
	write(t, filepath.Join(procfs, "cpuinfo"), b.String())
	tdp, method, detail, row := cpuTDP(Options{ProcfsRoot: procfs})
	// Two sockets of a 205 W, 24-core part.
	assert.Equal(t, 410.0, float64(tdp))
	assert.Equal(t, sampler.MethodTDPEstimate, method)
	assert.Contains(t, detail, "scaled to the 48 cores")
	assert.NotEmpty(t, row.Source)
}

func TestPsysOnlyHasNoMemoryEstimate(t *testing.T) {
	sysfs, procfs, _ := fakeHost(t)
	zone := filepath.Join(sysfs, "class", "powercap", "intel-rapl:0")
	write(t, filepath.Join(zone, "name"), "psys")
	m := Open(Options{SysfsRoot: sysfs, ProcfsRoot: procfs,
		Env: func(string) (string, bool) { return "", false }})
	defer m.Close()

	require.NotNil(t, m.RAPL)
	assert.Equal(t, []string{"psys"}, m.CPUDomains)
	for _, src := range m.Sources {
		for _, c := range src.Components() {
			assert.NotEqual(t, sampler.KindRAM, c.Kind, "psys already covers memory")
		}
	}
}
