// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux && cgo

package nvml

import (
	"errors"
	"fmt"

	gonvml "github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/carbonrun/carbonrun/sampler"
)

// Library is the part of the NVML API that Open calls. go-nvml's
// nvml.Interface and its mock.Interface both satisfy it.
type Library interface {
	Init() gonvml.Return
	Shutdown() gonvml.Return
	DeviceGetCount() (int, gonvml.Return)
	DeviceGetHandleByIndex(index int) (gonvml.Device, gonvml.Return)
}

// Device is the part of an NVML device handle that the source calls. Every
// gonvml.Device, including go-nvml's mock.Device, satisfies it.
type Device interface {
	GetUUID() (string, gonvml.Return)
	GetName() (string, gonvml.Return)
	// GetTotalEnergyConsumption returns millijoules since the driver loaded.
	GetTotalEnergyConsumption() (uint64, gonvml.Return)
	// GetPowerUsage returns the board power in milliwatts.
	GetPowerUsage() (uint32, gonvml.Return)

	GetMigMode() (current, pending int, ret gonvml.Return)
	GetMaxMigDeviceCount() (int, gonvml.Return)
	GetMigDeviceHandleByIndex(index int) (gonvml.Device, gonvml.Return)
	GetAttributes() (gonvml.DeviceAttributes, gonvml.Return)
	GetGpuInstanceId() (int, gonvml.Return)
	GetComputeInstanceId() (int, gonvml.Return)
	GetGpuInstanceProfileInfo(profile int) (gonvml.GpuInstanceProfileInfo, gonvml.Return)

	GetProcessUtilization(lastSeenTimestamp uint64) ([]gonvml.ProcessUtilizationSample, gonvml.Return)
	GetComputeRunningProcesses() ([]gonvml.ProcessInfo, gonvml.Return)
}

// defaultLibrary returns the system's NVML. go-nvml opens libnvidia-ml.so.1
// with dlopen in Init and returns ERROR_LIBRARY_NOT_FOUND when it is missing,
// so building it never fails. Open makes no other NVML call before Init
// succeeds, because go-nvml's C symbols are unresolved until then.
func defaultLibrary() (Library, error) {
	return gonvml.New(), nil
}

// initLibrary calls Init and turns the expected failures of a machine
// without a usable NVIDIA driver into an UnavailableError.
func initLibrary(lib Library) error {
	switch ret := lib.Init(); ret {
	case gonvml.SUCCESS:
		return nil
	case gonvml.ERROR_LIBRARY_NOT_FOUND:
		return &UnavailableError{Reason: "NVML library not found"}
	case gonvml.ERROR_DRIVER_NOT_LOADED:
		return &UnavailableError{Reason: "NVIDIA driver not loaded"}
	case gonvml.ERROR_NO_PERMISSION:
		return &UnavailableError{Reason: "no permission to use NVML", Err: returnError(ret)}
	default:
		return &UnavailableError{Reason: "NVML initialization failed", Err: returnError(ret)}
	}
}

// returnError turns an NVML return code into a Go error: nil for SUCCESS,
// sampler.ErrNotSupported for ERROR_NOT_SUPPORTED, and otherwise an error
// carrying NVML's description, so that no caller sees nvml.Return.
func returnError(ret gonvml.Return) error {
	switch ret {
	case gonvml.SUCCESS:
		return nil
	case gonvml.ERROR_NOT_SUPPORTED:
		return sampler.ErrNotSupported
	}
	return errors.New(ret.Error())
}

// deviceError adds the GPU index and what was read to an NVML return code.
func deviceError(index int, what string, ret gonvml.Return) error {
	return fmt.Errorf("nvml device %d %s: %w", index, what, returnError(ret))
}
