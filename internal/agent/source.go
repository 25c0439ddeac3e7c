// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"github.com/carbonrun/carbonrun/sampler"
)

// countedSource counts the failed reads of a source for the
// carbonrun_sampler_errors_total metric.
type countedSource struct {
	sampler.Source
	name   string
	errors atomic.Uint64
}

func (c *countedSource) Read(now time.Time, dst []sampler.Reading) error {
	err := c.Source.Read(now, dst)
	if err != nil {
		c.errors.Add(1)
	}
	return err
}

// sourceName returns the source's own name, or the last element of its Go
// package path ("rapl", "nvml", "cpu").
func sourceName(src sampler.Source) string {
	if n, ok := src.(NamedSource); ok {
		return n.Name()
	}
	t := reflect.TypeOf(src)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	path := t.PkgPath()
	if path == "" {
		return t.Name()
	}
	return path[strings.LastIndexByte(path, '/')+1:]
}

// RoundBucketsSeconds are the upper bounds of the round duration histogram.
var RoundBucketsSeconds = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// roundStats is a histogram of round durations in seconds.
type roundStats struct {
	count  uint64
	sum    float64
	counts []uint64 // per bucket, not cumulative
}

func newRoundStats() roundStats {
	return roundStats{counts: make([]uint64, len(RoundBucketsSeconds))}
}

func (r *roundStats) observe(seconds float64) {
	r.count++
	r.sum += seconds
	for i, bound := range RoundBucketsSeconds {
		if seconds <= bound {
			r.counts[i]++
			return
		}
	}
}
