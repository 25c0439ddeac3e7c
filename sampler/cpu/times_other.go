// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build !linux

package cpu

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"

	"github.com/carbonrun/carbonrun/sampler"
)

// MachineCPUTime returns the cumulative busy and total CPU time of the whole
// machine as gopsutil reads it from the kernel (host_statistics on
// macOS). procfsRoot is ignored outside Linux.
//
// Busy time is user + nice + system + irq + softirq. Total time adds idle,
// iowait and steal, where the system reports them.
func MachineCPUTime(procfsRoot string) (busy, total time.Duration, err error) {
	times, err := cpu.TimesWithContext(context.Background(), false)
	if err != nil {
		return 0, 0, fmt.Errorf("reading machine cpu times: %w", err)
	}
	if len(times) == 0 {
		return 0, 0, fmt.Errorf("reading machine cpu times: no aggregate entry: %w",
			sampler.ErrUnavailable)
	}

	t := times[0]
	busySeconds := t.User + t.Nice + t.System + t.Irq + t.Softirq
	totalSeconds := busySeconds + t.Idle + t.Iowait + t.Steal
	return secondsToDuration(busySeconds), secondsToDuration(totalSeconds), nil
}

func secondsToDuration(seconds float64) time.Duration {
	return time.Duration(math.Round(seconds * float64(time.Second)))
}
