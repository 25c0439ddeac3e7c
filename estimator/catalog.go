// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package estimator

import (
	"regexp"

	"github.com/carbonrun/carbonrun/internal/hardware"
)

// provenancePath is the file that lists every source key of the hardware
// catalog with its repository, commit or web page.
const provenancePath = "internal/hardware/data/PROVENANCE.md"

// sourceNames maps the catalog's source keys to the repository, document or
// web page that the provenance file names for them. Keys whose entry there
// names no page (such as METERPRETER or HAWKVELT) stay as they are.
var sourceNames = map[string]string{
	"STAS00":           "stas00/ml-engineering accelerator tables",
	"LIGHTNING":        "PyTorch Lightning throughput.py (NVIDIA datasheets)",
	"IMPACT":           "mlco2/impact gpus.csv",
	"GA_TDP_GPU":       "Green Algorithms TDP_gpu.csv",
	"NV_PB11133":       "NVIDIA H100 PCIe product brief PB-11133",
	"ECER_A40":         "ecer.com copy of the NVIDIA A40 datasheet",
	"UPB_PC2":          "upb-pc2.atlassian.net A100 page",
	"TECHPOWERUP_A100": "techpowerup.com A100 SXM4 page",
	"IOTECH":           "io-tech.fi V100 PCIe article",
	"TWEAKTOWN":        "tweaktown.com V100 news",
	"HF_HARDWARE":      "huggingface.co/hardware/a30",
	"SYSRQMTS":         "sysrqmts.com A10 comparison",
	"BASETEN":          "baseten.co A10 vs A10G blog",
	"GROKIPEDIA_L4":    "grokipedia.com L4 vs L40S page",
	"GPUBLOG":          "gpu.blog H100 page",
	"ANANDTECH_MI210":  "anandtech.com/show/17326",
	"EVGA_WCCF":        "forum repost of wccftech",
	"HMCTECH":          "hmc-tech.com MI210 page",
	"GCP_TPU_V3":       "cloud.google.com/tpu/docs/v3",
	"GCP_TPU_V4":       "cloud.google.com/tpu/docs/v4",
	"HF_GPU_SPEC":      "huggingface.co/datasets/ohdoking/gpu_spec",
	"TECH4GAMERS":      "tech4gamers.com P100 article",
	"OREOGRACE":        "blog repost of a P100 launch review",
	"CPUTRONIC_P100":   "cputronic.com Tesla P100 PCIe page",
	"TECKKNOW":         "teckknow.com GTX 1080 page",
	"CPUTRONIC_1080":   "cputronic.com GTX 1080 page",
	"AIWIKI_H800":      "aiwiki.ai H800 article",
	"PHILISUN":         "philisun.com H800 vs H100 page",
	"ELEKTRONIKNET":    "elektroniknet.de TPUv2 gallery",
	"NORRIE_2021":      "Norrie et al. 2021, IEEE Micro",
}

// sourceKey matches a catalog source key: upper-case letters, digits and
// underscores, at least four characters so that words like TDP stay.
var sourceKey = regexp.MustCompile(`\b[A-Z][A-Z0-9_]{3,}\b`)

// describeSources rewrites a catalog source field for people: each key
// that the provenance file describes becomes the name of its source, and
// a pointer to that file follows for the keys that remain.
func describeSources(source string) string {
	if source == "" {
		return ""
	}
	readable := sourceKey.ReplaceAllStringFunc(source, func(key string) string {
		if name, ok := sourceNames[key]; ok {
			return name
		}
		return key
	})
	return readable + " (sources: " + provenancePath + ")"
}

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
		Source:         describeSources(g.Source),
	}
}
