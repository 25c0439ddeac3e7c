// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Package hardware is the embedded catalog of accelerators and CPUs that
// the sampler's TDP fallback and the analytical estimator share: board
// power (TDP) in watts, memory, dense peak TFLOPS per precision and core
// counts. The figures come from data/gpus.csv and data/cpus.csv, and each
// row names its sources. data/PROVENANCE.md describes every source, the
// meaning of each column and the values known to be uncertain.
package hardware
