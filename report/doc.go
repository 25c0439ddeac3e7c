// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Package report builds the per-job energy and emissions report and writes it
// as report.json, report.md and samples.csv. Energy arrives in joules from
// the sampler and becomes kWh here, the reporting unit; emissions are
// facility energy (IT energy x PUE) times the grid intensity. Every file is
// written atomically: a temporary file in the same directory, synced, then
// renamed over the target, so a reader or a SIGKILL never sees half a file.
package report
