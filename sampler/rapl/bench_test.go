// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux

package rapl_test

import (
	"testing"
	"time"

	"github.com/carbonrun/carbonrun/sampler"
	"github.com/carbonrun/carbonrun/sampler/rapl"
)

// BenchmarkReadRound reads the fixture tree's two sockets, each with a
// package and a dram zone, once per iteration.
func BenchmarkReadRound(b *testing.B) {
	src, err := rapl.Open(rapl.Options{SysfsRoot: "testdata/sys"})
	if err != nil {
		b.Fatalf("opening fixture tree: %v", err)
	}
	defer src.Close()
	if n := len(src.Components()); n != 4 {
		b.Fatalf("got %d components, want 4", n)
	}

	readings := make([]sampler.Reading, len(src.Components()))
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		if err := src.Read(now, readings); err != nil {
			b.Fatalf("reading: %v", err)
		}
	}
}
