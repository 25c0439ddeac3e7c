// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Package sampler turns hardware energy readings into per-component energy in
// joules. A Source reads one family of hardware (Linux powercap RAPL in
// sampler/rapl, NVIDIA NVML in sampler/nvml, utilisation x TDP in
// sampler/cpu) and keeps a cumulative, never decreasing energy per component.
// A Sampler reads every source once per round, applies the optional
// process-share attribution to CPU components and keeps the running totals
// that reports and exporters read.
//
// Every component carries the Method that produced its figure, so measured
// and estimated energy are never mixed silently.
package sampler
