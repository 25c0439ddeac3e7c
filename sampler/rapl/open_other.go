// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build !linux

package rapl

import (
	"fmt"
	"runtime"

	"github.com/carbonrun/carbonrun/sampler"
)

// Open returns an error wrapping sampler.ErrUnavailable, because powercap
// RAPL zones and amd_energy hwmon counters exist on Linux only.
func Open(opts Options) (*Source, error) {
	return nil, fmt.Errorf("RAPL not available on %s: powercap and hwmon are Linux-only: %w",
		runtime.GOOS, sampler.ErrUnavailable)
}
