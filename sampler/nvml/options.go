// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package nvml

import (
	"go.uber.org/zap"

	"github.com/carbonrun/carbonrun/sampler"
)

// Options configures Open.
type Options struct {
	// Lib is the NVML library to use. Nil loads the system's libnvidia-ml.
	Lib Library
	// Env looks up environment variables such as CUDA_VISIBLE_DEVICES and
	// LOCAL_RANK. Nil uses os.LookupEnv.
	Env func(string) (string, bool)
	// Log receives startup lines. Nil discards them.
	Log *zap.Logger
	// Warn collects warnings for the run report. Nil keeps them in a
	// collector of the source's own, which still logs them.
	Warn *sampler.Warnings
}

// Scope values name the GPUs that a Source measures.
const (
	// ScopeAll measures every GPU on the machine.
	ScopeAll = "all"
	// ScopeVisibleDevices measures the GPUs that CUDA_VISIBLE_DEVICES selects.
	ScopeVisibleDevices = "visible_devices"
	// ScopeLocalRank measures only the GPU of this process's LOCAL_RANK.
	ScopeLocalRank = "local_rank"
	// ScopeNone measures no GPU, and Note gives the reason.
	ScopeNone = "none"
)

// DeviceInfo identifies one measured GPU.
type DeviceInfo struct {
	// Index is the NVML device index, which follows PCI bus order.
	Index int
	// UUID is the GPU UUID ("GPU-..."), the parent's UUID for a MIG instance.
	UUID string
	// Name is the product name, such as "NVIDIA H100 80GB HBM3".
	Name string
}

// ShareMethod names how ProcessShares split a GPU among processes.
type ShareMethod string

// Share methods, from most to least direct.
const (
	// ShareSMUtilization splits by each process's streaming-multiprocessor
	// utilization samples since the previous call.
	ShareSMUtilization ShareMethod = "sm_utilization"
	// ShareEqualSplit gives every running compute process the same share,
	// used when the device keeps no per-process utilization samples or all
	// samples are zero.
	ShareEqualSplit ShareMethod = "equal_split"
)

// UnavailableError reports why NVML cannot measure any GPU on this machine.
// It matches sampler.ErrUnavailable with errors.Is, because a machine without
// an NVIDIA GPU is an expected condition, not a failure of the run.
type UnavailableError struct {
	// Reason is a short phrase for reports, such as "NVML library not found".
	Reason string
	// Err is the underlying NVML error, if any.
	Err error
}

// Error returns the reason, followed by the underlying error if there is one.
func (e *UnavailableError) Error() string {
	if e.Err == nil {
		return e.Reason
	}
	return e.Reason + ": " + e.Err.Error()
}

// Unwrap returns sampler.ErrUnavailable and the underlying error.
func (e *UnavailableError) Unwrap() []error {
	if e.Err == nil {
		return []error{sampler.ErrUnavailable}
	}
	return []error{sampler.ErrUnavailable, e.Err}
}
