// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux && cgo

package machine

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	gonvml "github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"

	"github.com/carbonrun/carbonrun/sampler"
)

// countingServer is a dgxh100 mock server whose devices report rising
// energy counters and constant power without recording each call, as the
// generated mocks do, so the benchmark measures carbonrun and not the mock.
type countingServer struct {
	*server.Server
	devices []gonvml.Device
}

type countingDevice struct {
	gonvml.Device
	millijoules uint64
}

func (d *countingDevice) GetTotalEnergyConsumption() (uint64, gonvml.Return) {
	d.millijoules += 300_000 // 300 W for the benchmark's 1 s rounds
	return d.millijoules, gonvml.SUCCESS
}

func (d *countingDevice) GetPowerUsage() (uint32, gonvml.Return) { return 300_000, gonvml.SUCCESS }

func (s *countingServer) DeviceGetHandleByIndex(i int) (gonvml.Device, gonvml.Return) {
	return s.devices[i], gonvml.SUCCESS
}

func newCountingServer() *countingServer {
	srv := dgxh100.New()
	s := &countingServer{Server: srv}
	for _, d := range srv.Devices {
		s.devices = append(s.devices, &countingDevice{Device: d})
	}
	return s
}

// twoSocketSysfs builds a powercap tree with two packages and their dram zones.
func twoSocketSysfs(b *testing.B) string {
	root := b.TempDir()
	for pkg := 0; pkg < 2; pkg++ {
		zone := filepath.Join(root, "class", "powercap", "intel-rapl:"+strconv.Itoa(pkg))
		dram := filepath.Join(zone, "intel-rapl:"+strconv.Itoa(pkg)+":0")
		for dir, name := range map[string]string{zone: "package-" + strconv.Itoa(pkg), dram: "dram"} {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
			for file, value := range map[string]string{"name": name, "energy_uj": "1000000",
				"max_energy_range_uj": "262143328850"} {
				if err := os.WriteFile(filepath.Join(dir, file), []byte(value+"\n"), 0o644); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	return root
}

// BenchmarkSamplingRound8GPUs is one full round of carbon-run's sampler on a
// node with 8 H100 GPUs (NVML mock) and 2 CPU sockets with DRAM (fake sysfs).
func BenchmarkSamplingRound8GPUs(b *testing.B) {
	m := Open(Options{SysfsRoot: twoSocketSysfs(b), ProcfsRoot: b.TempDir(), NVML: newCountingServer(),
		Env: func(string) (string, bool) { return "", false }})
	defer m.Close()
	if m.GPU == nil || len(m.GPU.Components()) != 8 || m.RAPL == nil {
		b.Fatalf("expected 8 GPUs and RAPL, got GPU=%v RAPL=%v", m.GPU != nil, m.RAPL != nil)
	}
	s := sampler.New(m.Sources, nil, nil)
	now := time.Now()
	s.Sample(now)

	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		s.Sample(now)
	}
}
