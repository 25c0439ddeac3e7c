// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build !linux

package cpu

import (
	"context"
	"fmt"

	"github.com/shirou/gopsutil/v4/cpu"
)

// ModelName returns the CPU model name and physical core count that the
// kernel reports through gopsutil (sysctl machdep.cpu.brand_string on macOS),
// for a lookup in the hardware catalog. procfsRoot is ignored outside Linux.
func ModelName(procfsRoot string) (string, int, error) {
	ctx := context.Background()
	infos, err := cpu.InfoWithContext(ctx)
	if err != nil {
		return "", 0, fmt.Errorf("reading cpu model: %w", err)
	}
	cores, err := cpu.CountsWithContext(ctx, false)
	if err != nil {
		return "", 0, fmt.Errorf("counting cpu cores: %w", err)
	}

	var model string
	if len(infos) > 0 {
		model = infos[0].ModelName
	}
	return model, cores, nil
}
