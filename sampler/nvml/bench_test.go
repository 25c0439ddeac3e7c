// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux && cgo

package nvml

import (
	"testing"
	"time"

	gonvml "github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/carbonrun/carbonrun/sampler"
)

// fakeDevice implements the two Device readings Read calls, without the
// call recording of go-nvml's mocks, which allocates. Any other method
// panics on the nil embedded Device.
type fakeDevice struct {
	Device
	millijoules uint64
	milliwatts  uint32
}

func (d *fakeDevice) GetTotalEnergyConsumption() (uint64, gonvml.Return) {
	d.millijoules += 300
	return d.millijoules, gonvml.SUCCESS
}

func (d *fakeDevice) GetPowerUsage() (uint32, gonvml.Return) {
	return d.milliwatts, gonvml.SUCCESS
}

func BenchmarkReadRound8GPUs(b *testing.B) {
	s := &Source{warn: sampler.NewWarnings(nil)}
	for i := range 8 {
		dev := &fakeDevice{millijoules: uint64(i) << 30, milliwatts: 300_000}
		board, ok := s.newBoard(dev, gpuRecord{index: i}, selection{whole: true})
		if !ok {
			b.Fatalf("GPU %d not measurable", i)
		}
		s.boards = append(s.boards, board)
	}
	readings := make([]sampler.Reading, len(s.boards))
	now := time.Now()

	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		if err := s.Read(now, readings); err != nil {
			b.Fatal(err)
		}
	}
}
