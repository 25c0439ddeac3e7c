// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package estimator

import "github.com/carbonrun/carbonrun/internal/hardware"

// FromCatalog converts a hardware catalog row into the figures the model
// uses. Google rows form the TPU class; every other vendor is a GPU.
func FromCatalog(g hardware.GPU) Accelerator {
	peaks := make(map[Precision]float64, len(g.PeakTFLOPS))
	for p, v := range g.PeakTFLOPS {
		peaks[p] = v
	}
	class := ClassGPU
	if g.Vendor == "Google" {
		class = ClassTPU
	}
	return Accelerator{
		Name:           g.Name,
		Class:          class,
		TDP:            g.TDP,
		PeakTFLOPS:     peaks,
		EmbodiedKgCO2e: g.EmbodiedKgCO2e,
		Source:         g.Source,
	}
}
