// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build !linux

package cpu

import (
	"fmt"
	"time"

	"github.com/carbonrun/carbonrun/sampler"
)

// NewProcessShare returns sampler.ErrUnavailable: process CPU times are read
// from /proc, which only Linux has. Callers fall back to machine mode.
func NewProcessShare(opts ShareOptions) (*ProcessShare, error) {
	return nil, fmt.Errorf("process share for pid %d: %w", opts.PID, sampler.ErrUnavailable)
}

// RootExited does nothing outside Linux, where CPUShare is unavailable.
func (s *ProcessShare) RootExited(cpuTime time.Duration) {}

// CPUShare returns sampler.ErrUnavailable outside Linux.
func (s *ProcessShare) CPUShare(now time.Time) (float64, error) {
	return 0, fmt.Errorf("process share: %w", sampler.ErrUnavailable)
}

// TreeCPUTime returns sampler.ErrUnavailable outside Linux, which has no
// /proc/<pid>/stat.
func TreeCPUTime(procfsRoot string, pids []int) (time.Duration, error) {
	return 0, fmt.Errorf("process cpu time: %w", sampler.ErrUnavailable)
}
