// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux

package cpu

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/carbonrun/carbonrun/sampler"
)

// MachineCPUTime returns the cumulative busy and total CPU time of the whole
// machine from the aggregate "cpu" line of <procfsRoot>/stat, whose values
// are clock ticks of USER_HZ.
//
// Busy time is user + nice + system + irq + softirq. Guest time is already
// part of user time, so it is not added again. Total time adds idle, iowait
// and steal. Steal time is not busy because the hypervisor ran another guest
// on the physical CPU during it.
func MachineCPUTime(procfsRoot string) (busy, total time.Duration, err error) {
	path := filepath.Join(procfsOrDefault(procfsRoot), "stat")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, fmt.Errorf("reading machine cpu times: %w: %w", err, sampler.ErrUnavailable)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("reading machine cpu times: %w", err)
	}

	busyTicks, totalTicks, err := parseStatCPULine(data)
	if err != nil {
		return 0, 0, fmt.Errorf("parsing %s: %w", path, err)
	}
	return time.Duration(busyTicks) * tick, time.Duration(totalTicks) * tick, nil
}

// Columns of the aggregate "cpu" line of /proc/stat, from proc(5).
const (
	statUser = iota
	statNice
	statSystem
	statIdle
	statIowait
	statIrq
	statSoftirq
	statSteal
	statColumns
)

// parseStatCPULine sums the first line of /proc/stat. Kernels before 2.6.11
// print fewer than eight columns, and the missing ones count as zero.
func parseStatCPULine(data []byte) (busyTicks, totalTicks uint64, err error) {
	line, _, _ := bytes.Cut(data, []byte{'\n'})
	fields := bytes.Fields(line)
	if len(fields) < 1+statIowait || string(fields[0]) != "cpu" {
		return 0, 0, fmt.Errorf("first line %q is not the aggregate cpu line", line)
	}

	var ticks [statColumns]uint64
	for i := range min(len(fields)-1, statColumns) {
		v, err := strconv.ParseUint(string(fields[i+1]), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("cpu column %d: %w", i+1, err)
		}
		ticks[i] = v
	}

	busyTicks = ticks[statUser] + ticks[statNice] + ticks[statSystem] +
		ticks[statIrq] + ticks[statSoftirq]
	totalTicks = busyTicks + ticks[statIdle] + ticks[statIowait] + ticks[statSteal]
	return busyTicks, totalTicks, nil
}
