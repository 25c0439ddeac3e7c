// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build !linux

package cpu

import (
	"errors"
	"testing"

	"github.com/carbonrun/carbonrun/sampler"
)

// TestProcessShareUnavailable_CR35 checks that outside Linux the process
// share reports sampler.ErrUnavailable, so carbon-run measures the machine
// with the TDP source instead of failing.
func TestProcessShareUnavailable_CR35(t *testing.T) {
	if _, err := NewProcessShare(ShareOptions{PID: 1}); !errors.Is(err, sampler.ErrUnavailable) {
		t.Errorf("NewProcessShare error = %v, want sampler.ErrUnavailable", err)
	}
	if _, err := TreeCPUTime("", []int{1}); !errors.Is(err, sampler.ErrUnavailable) {
		t.Errorf("TreeCPUTime error = %v, want sampler.ErrUnavailable", err)
	}
}
