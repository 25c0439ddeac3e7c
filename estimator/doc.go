// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Package estimator predicts the energy and emissions of a training job before
// or without running it. It is the analytical model behind carbon-estimate
// (method label analytical_model).
//
// The chain is: training FLOPs (given, or 6 x active parameters x tokens) ->
// accelerator-hours (FLOPs / (peak FLOP/s x model FLOPs utilisation)) ->
// IT energy in kWh (accelerator-hours x TDP x power fraction) -> facility
// energy (x PUE) -> operational emissions in kg CO2e (x grid intensity).
// Every default carries its source and a low/high range, and every result
// carries the assumptions it used.
//
// The package does no I/O, lookups or flag handling: hardware figures and
// site figures are passed in as values, so the functions are deterministic.
package estimator
