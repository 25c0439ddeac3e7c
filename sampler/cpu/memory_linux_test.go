// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux

package cpu

import (
	"strings"
	"testing"
	"time"

	"github.com/carbonrun/carbonrun/sampler"
)

// meminfo64GB is the head of /proc/meminfo on a machine with 64 GB
// (67108864 kB of 1024 bytes).
const meminfo64GB = `MemTotal:       67108864 kB
MemFree:        60000000 kB
MemAvailable:   62000000 kB
Buffers:          100000 kB
Cached:          1000000 kB
`

func TestMemorySource(t *testing.T) {
	fs := newFakeProcfs(t, true)
	fs.write("meminfo", meminfo64GB)

	src, err := NewMemorySource(MemoryOptions{
		ProcfsRoot: fs.root, WattsPerGB: 0.3725, Source: "Green Algorithms",
	})
	mustNoError(t, "NewMemorySource", err)
	dst := make([]sampler.Reading, 1)

	mustNoError(t, "first read", src.Read(epoch, dst))
	if dst[0].Energy != 0 {
		t.Errorf("energy after the first read = %v J, want 0", dst[0].Energy)
	}
	// 64 GB x 0.3725 W/GB = 23.84 W, over 10 s = 238.4 J.
	mustNoError(t, "read after 10 s", src.Read(epoch.Add(10*time.Second), dst))
	checkNear(t, "ram energy (J)", float64(dst[0].Energy), 238.4, 1e-9)
	checkNear(t, "ram power (W)", float64(dst[0].Power), 23.84, 1e-12)

	// A clock reading earlier than the last one adds nothing.
	mustNoError(t, "read with an earlier clock", src.Read(epoch.Add(5*time.Second), dst))
	checkNear(t, "ram energy after an earlier clock (J)", float64(dst[0].Energy), 238.4, 1e-9)

	c := src.Components()[0]
	if c.Kind != sampler.KindRAM || c.Name != "ram" || c.Method != sampler.MethodMemoryEstimate {
		t.Errorf("component = %+v, want kind ram, name ram, method memory_estimate", c)
	}
	for _, want := range []string{"0.3725 W/GB", "64.0 GB", "Green Algorithms"} {
		if !strings.Contains(c.Detail, want) {
			t.Errorf("detail = %q, want it to contain %q", c.Detail, want)
		}
	}
	if err := src.Close(); err != nil {
		t.Errorf("Close() = %v, want nil", err)
	}
}

func TestNewMemorySourceErrors(t *testing.T) {
	tests := []struct {
		name       string
		meminfo    string // empty means no file
		wattsPerGB float64
	}{
		{name: "zero watts per GB", meminfo: meminfo64GB, wattsPerGB: 0},
		{name: "negative watts per GB", meminfo: meminfo64GB, wattsPerGB: -1},
		{name: "no meminfo", wattsPerGB: 0.3725},
		{name: "no MemTotal", meminfo: "MemFree: 100 kB\n", wattsPerGB: 0.3725},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFakeProcfs(t, true)
			if tc.meminfo != "" {
				fs.write("meminfo", tc.meminfo)
			}
			_, err := NewMemorySource(MemoryOptions{ProcfsRoot: fs.root, WattsPerGB: tc.wattsPerGB})
			if err == nil {
				t.Errorf("NewMemorySource returned no error, want one")
			}
		})
	}
}
