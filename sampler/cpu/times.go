// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package cpu

import (
	"context"
	"time"

	"github.com/shirou/gopsutil/v4/common"
)

// DefaultProcfsRoot is the procfs mount point used when an option leaves it empty.
const DefaultProcfsRoot = "/proc"

// TimesFunc returns the machine's cumulative CPU time, summed over all CPUs,
// as MachineCPUTime does. Both values only grow between calls unless CPUs
// go offline.
type TimesFunc func() (busy, total time.Duration, err error)

// procfsContext points gopsutil at procfsRoot instead of /proc or $HOST_PROC.
func procfsContext(procfsRoot string) context.Context {
	env := common.EnvMap{common.HostProcEnvKey: procfsRoot}
	return context.WithValue(context.Background(), common.EnvKey, env)
}

func procfsOrDefault(procfsRoot string) string {
	if procfsRoot == "" {
		return DefaultProcfsRoot
	}
	return procfsRoot
}

// clampFraction limits f to [0, 1] and turns NaN into 0.
func clampFraction(f float64) float64 {
	if !(f > 0) {
		return 0
	}
	return min(f, 1)
}
