// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Package exporter exposes the carbon-agent state as Prometheus metrics.
// Node energy per GPU and CPU zone is in joules, as counters that keep
// rising across job boundaries, and power is in watts. Each job has its
// energy per component kind in joules and its emissions in grams CO2e, PUE
// included. The grid intensity (g/kWh), the PUE, RAPL domain health and
// sampling-round timings complete the set. Energy is never in kWh here,
// because kWh is a reporting unit.
//
// A Collector reads one in-memory snapshot per scrape, so a failed source
// never fails a scrape: its series keep their last values and
// carbonrun_rapl_domain_up and carbonrun_sampler_errors_total show the
// failure.
package exporter
