// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build !linux

package rapl

import (
	"fmt"
	"runtime"

	"github.com/carbonrun/carbonrun/sampler"
)

// Open returns an error wrapping sampler.ErrUnavailable: powercap RAPL
// exists on Linux only.
func Open(opts Options) (*Source, error) {
	return nil, fmt.Errorf("RAPL not available on %s: powercap is Linux-only: %w",
		runtime.GOOS, sampler.ErrUnavailable)
}
