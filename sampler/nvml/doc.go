// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Package nvml measures the energy of NVIDIA GPUs through NVML, the NVIDIA
// Management Library (libnvidia-ml.so.1, loaded at run time by go-nvml).
//
// Each measured GPU is one sampler.Component of kind gpu. Its energy comes
// from the board's total energy counter (nvmlDeviceGetTotalEnergyConsumption,
// millijoules since the driver loaded, Volta and newer) when the device
// supports it, and otherwise from power samples (nvmlDeviceGetPowerUsage,
// milliwatts) integrated with the trapezoid rule. Milliwatts and millijoules
// become units.Watts and units.Joules in this package only.
//
// The measured devices are the ones a CUDA program in the same environment
// uses: CUDA_VISIBLE_DEVICES by index, GPU UUID or MIG UUID, or one GPU per
// rank when a torchrun-style launcher sets LOCAL_RANK. A MIG instance is
// measured as its share of the parent board, by GPU slices.
//
// NVML is used through the narrow Library and Device interfaces, which
// go-nvml's mocks satisfy. The package needs Linux and cgo; elsewhere Open
// reports sampler.ErrUnavailable.
//
// NVML API reference: https://docs.nvidia.com/deploy/nvml-api/
package nvml
