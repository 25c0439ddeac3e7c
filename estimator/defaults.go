// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package estimator

// Ranged is a default with the spread of the evidence behind it.
type Ranged struct {
	Value  float64
	Low    float64
	High   float64
	Source string
}

// Default model FLOPs utilisation (MFU) per accelerator class: achieved
// FLOP/s per accelerator over its dense 16-bit peak. Each value is the median,
// and Low and High the minimum and maximum, of the runs in the published-runs
// table that report training FLOPs, the accelerator, its count and the
// training days (reported FLOPs / (count x days x peak)). The
// TestDefaultsMatchEvidence test recomputes them from estimator/testdata.
var (
	// DefaultMFUGPU comes from four GPU runs: GPT-3 on V100 (0.196, whose
	// days were themselves derived from an assumed throughput), XLM on V100
	// (0.212), and Evolved Transformer Medium (0.220) and Transformer Big
	// (0.314) on P100.
	DefaultMFUGPU = Ranged{
		Value: 0.22, Low: 0.20, High: 0.31,
		Source: "median (min-max) of 4 published GPU runs with reported FLOPs and hours " +
			"(Patterson et al. 2021 Tables 1 and 4; LLMCarbon validation set)",
	}
	// DefaultMFUTPU comes from four TPU runs: T5 (0.372) and GShard (0.394)
	// on TPU v3, and the Evolved Transformer search (0.550) and Medium model
	// (0.534) on TPU v2.
	DefaultMFUTPU = Ranged{
		Value: 0.46, Low: 0.37, High: 0.55,
		Source: "median (min-max) of 4 published TPU runs with reported FLOPs and hours " +
			"(Patterson et al. 2021 Tables 1 and 4)",
	}
)

// DefaultPowerFraction is the mean IT power per accelerator over its catalog
// TDP. The evidence is the 11 published runs whose authors measured power
// during training: Patterson et al. 2021 (system power per chip, host
// included) and Strubell et al. 2019 (GPU, CPU and DRAM power divided by the
// GPU count). Because both measured more than the accelerator alone, IT
// energy from this fraction covers the host's share too. Meta's per-GPU
// figures are left out because they are the TDP, not a measurement.
var DefaultPowerFraction = Ranged{
	Value: 0.90, Low: 0.59, High: 1.18,
	Source: "median (min-max) of measured power / accelerator TDP in 11 published runs " +
		"(Patterson et al. 2021; Strubell et al. 2019); the measured power includes the " +
		"host's share (CPU, memory), which is why the range exceeds 1",
}

// MaxPowerFraction is the largest power fraction a plan may give. It is
// above 1 because the fraction covers the host's share of the power too:
// the measured runs behind DefaultPowerFraction reach 1.18 of the
// accelerator TDP. Half the TDP again leaves room for hosts with more CPU
// and memory per accelerator, while values such as 5 are typing errors.
const MaxPowerFraction = 1.5

// DefaultHardwareLifeYears is the service life over which embodied emissions
// are spread. Five years is a common depreciation period for servers; it is
// an assumption, not a measured life.
const DefaultHardwareLifeYears = 5.0

// FLOPsPerParamToken is the training cost per parameter and token in the
// usual dense-transformer approximation: 2 FLOPs for the forward pass and 4
// for the backward pass (Kaplan et al. 2020, "Scaling Laws for Neural
// Language Models", section 2.1).
const FLOPsPerParamToken = 6.0

// powerCapExponent models power capping. Dynamic power scales with clock
// frequency times voltage squared, and voltage follows frequency, so power
// grows about as the cube of the clock while throughput grows linearly. A cap
// c below the mean draw p therefore slows work by (p/c)^(1/3) and changes
// energy by (c/p)^(2/3). Static power and memory-bound phases make real
// savings smaller or larger depending on the workload.
// NOTE: this is a first-order model, not a fit to measurements; measured
// savings vary by GPU and workload.
const powerCapExponent = 1.0 / 3.0

const (
	secondsPerHour = 3600.0
	hoursPerYear   = 8766.0 // 365.25 days
	flopsPerTFLOP  = 1e12
)
