// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build !(linux && cgo)

package nvml

import (
	"fmt"
	"time"

	"github.com/carbonrun/carbonrun/sampler"
)

var _ sampler.Source = (*Source)(nil)

// Library is a placeholder for the NVML API, which go-nvml provides only on
// Linux with cgo. In this build only a nil Library exists.
type Library interface {
	nvmlRequiresLinuxAndCgo()
}

// Source measures no GPU: NVML needs Linux and cgo.
type Source struct{}

// Open reports that NVML is unavailable in this build, with an
// *UnavailableError that matches sampler.ErrUnavailable.
func Open(Options) (*Source, error) {
	return nil, &UnavailableError{Reason: "NVML needs Linux and a cgo build"}
}

// Components returns no component.
func (*Source) Components() []sampler.Component { return nil }

// Read does nothing.
func (*Source) Read(time.Time, []sampler.Reading) error { return nil }

// Close does nothing.
func (*Source) Close() error { return nil }

// Scope returns ScopeNone.
func (*Source) Scope() string { return ScopeNone }

// Note returns why no GPU is measured.
func (*Source) Note() string { return "NVML needs Linux and a cgo build" }

// Devices returns no device.
func (*Source) Devices() []DeviceInfo { return nil }

// ProcessShares reports sampler.ErrUnavailable.
func (*Source) ProcessShares(int) (map[uint32]float64, ShareMethod, error) {
	return nil, "", fmt.Errorf("process shares: NVML needs Linux and a cgo build: %w",
		sampler.ErrUnavailable)
}
