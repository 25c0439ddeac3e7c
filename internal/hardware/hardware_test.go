// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package hardware

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEmbeddedCatalogValid(t *testing.T) {
	if _, err := parseCatalog(); err != nil {
		t.Fatalf("parsing embedded catalog: %v", err)
	}

	gpus := GPUs()
	if len(gpus) < 30 {
		t.Errorf("got %d GPU rows, want at least 30", len(gpus))
	}
	for _, g := range gpus {
		if g.Name == "" || g.Vendor == "" || g.FormFactor == "" || g.Source == "" {
			t.Errorf("GPU row %+v: want name, vendor, form factor and source set", g)
		}
		if g.TDP < 0 || g.TDP > 2000 {
			t.Errorf("%s TDP = %g W, want empty or in (0, 2000]", g.Name, g.TDP)
		}
		if g.MemoryGB <= 0 {
			t.Errorf("%s memory = %g GB, want positive", g.Name, g.MemoryGB)
		}
		if len(g.PeakTFLOPS) == 0 {
			t.Errorf("%s has no peak TFLOPS", g.Name)
		}
		for p, v := range g.PeakTFLOPS {
			if v <= 0 || !slices.Contains(Precisions, p) {
				t.Errorf("%s peak %s = %g TFLOPS, want a known precision and a positive value", g.Name, p, v)
			}
		}
		if g.ReleaseYear != 0 && (g.ReleaseYear < 2010 || g.ReleaseYear > 2030) {
			t.Errorf("%s release year = %d, want empty or in [2010, 2030]", g.Name, g.ReleaseYear)
		}
		if g.EmbodiedKgCO2e < 0 {
			t.Errorf("%s embodied = %g kg CO2e, want not negative", g.Name, g.EmbodiedKgCO2e)
		}
		got, err := LookupGPU(g.Name)
		if err != nil || got.Name != g.Name {
			t.Errorf("LookupGPU(%q) = %q, %v, want its own row", g.Name, got.Name, err)
		}
	}

	cpus := CPUs()
	if len(cpus) < 100 {
		t.Errorf("got %d CPU rows, want at least 100", len(cpus))
	}
	for _, c := range cpus {
		if c.Name == "" || c.Vendor == "" || c.Source == "" {
			t.Errorf("CPU row %+v: want name, vendor and source set", c)
		}
		if c.TDP <= 0 || c.TDP > 1000 {
			t.Errorf("%s TDP = %g W, want in (0, 1000]", c.Name, c.TDP)
		}
		if c.Cores < 0 || c.Threads < 0 || c.Threads != 0 && c.Threads < c.Cores {
			t.Errorf("%s cores = %d threads = %d, want threads >= cores", c.Name, c.Cores, c.Threads)
		}
		got, ok := MatchCPU(c.Name)
		if !ok || got.Name != c.Name {
			t.Errorf("MatchCPU(%q) = %q, %v, want its own row", c.Name, got.Name, ok)
		}
	}
}

func TestLookupGPU(t *testing.T) {
	tests := []struct {
		input string
		want  string
	}{
		{"NVIDIA H100 SXM", "NVIDIA H100 SXM"},
		{"nvidia h100 sxm", "NVIDIA H100 SXM"},
		{"H100", "NVIDIA H100 SXM"},
		{"h100-sxm", "NVIDIA H100 SXM"},
		{"H100_SXM5", "NVIDIA H100 SXM"},
		{"H100 PCIe", "NVIDIA H100 PCIe"},
		{"h100-nvl", "NVIDIA H100 NVL"},
		{"A100", "NVIDIA A100 SXM4 80GB"},
		{"A100-80GB", "NVIDIA A100 SXM4 80GB"},
		{"NVIDIA A100-80GB", "NVIDIA A100 SXM4 80GB"},
		{"A100 40GB", "NVIDIA A100 SXM4 40GB"},
		{"A100 PCIe", "NVIDIA A100 PCIe 80GB"},
		{"a100-pcie-40gb", "NVIDIA A100 PCIe 40GB"},
		{"A100 80 GB", "NVIDIA A100 SXM4 80GB"},
		{"A10", "NVIDIA A10"},
		{"A10G", "NVIDIA A10G"},
		{"V100", "NVIDIA V100 SXM2 32GB"},
		{"V100 PCIe", "NVIDIA V100 PCIe 16GB"},
		{"P100", "NVIDIA Tesla P100 SXM2 16GB"},
		{"H200", "NVIDIA H200 SXM"},
		{"HGX H100", "NVIDIA H100 SXM"},
		{"RTX 4090", "NVIDIA GeForce RTX 4090"},
		{"GTX 1080", "NVIDIA GeForce GTX 1080"},
		{"MI300X", "AMD Instinct MI300X"},
		{"amd instinct mi250x", "AMD Instinct MI250X"},
		{"TPU v4", "Google TPU v4 (per chip)"},
		{"tpuv3", "Google TPU v3 (per chip)"},
		{"Gaudi 3", "Intel Gaudi3"},
		{"GB200", "NVIDIA GB200 (per Blackwell GPU)"},
	}
	for _, tc := range tests {
		t.Run(tc.input, func(t *testing.T) {
			got, err := LookupGPU(tc.input)
			if err != nil {
				t.Fatalf("LookupGPU(%q): %v", tc.input, err)
			}
			if got.Name != tc.want {
				t.Errorf("LookupGPU(%q) = %q, want %q", tc.input, got.Name, tc.want)
			}
		})
	}
}

func TestLookupGPUFigures(t *testing.T) {
	g, err := LookupGPU("H100")
	if err != nil {
		t.Fatalf("LookupGPU(H100): %v", err)
	}
	want := GPU{
		Name: "NVIDIA H100 SXM", Vendor: "NVIDIA", FormFactor: "SXM5", TDP: 700, MemoryGB: 80,
		PeakTFLOPS:  map[Precision]float64{FP32: 67, TF32: 494.5, BF16: 989, FP16: 989, FP8: 1979},
		ReleaseYear: 2022,
		Source:      "STAS00 + LIGHTNING (flops); STAS00 (memory); METERPRETER + HAWKVELT (tdp); GPUBLOG (year)",
	}
	if diff := cmp.Diff(want, g); diff != "" {
		t.Errorf("LookupGPU(H100) mismatch (-want +got):\n%s", diff)
	}

	// Empty cells stay absent rather than zero.
	t4, err := LookupGPU("T4")
	if err != nil {
		t.Fatalf("LookupGPU(T4): %v", err)
	}
	if _, ok := t4.PeakTFLOPS[BF16]; ok {
		t.Errorf("T4 peak TFLOPS = %v, want no bf16 entry", t4.PeakTFLOPS)
	}
}

func TestPublishedRunHardware(t *testing.T) {
	// Accelerator names as published training-run reports write them.
	tests := []struct {
		input string
		want  string
	}{
		{"NVIDIA H100-80GB", "NVIDIA H100 SXM"},
		{"NVIDIA H100 (HGX 8-GPU nodes, Jupiter cluster)", "NVIDIA H100 SXM"},
		{"NVIDIA H100 (Augusta cluster)", "NVIDIA H100 SXM"},
		{"NVIDIA H100", "NVIDIA H100 SXM"},
		{"NVIDIA V100", "NVIDIA V100 SXM2 32GB"},
		{"NVIDIA P100", "NVIDIA Tesla P100 SXM2 16GB"},
		{"NVIDIA A100-80GB", "NVIDIA A100 SXM4 80GB"},
		{"NVIDIA A100", "NVIDIA A100 SXM4 80GB"},
		{"Google TPU v2", "Google TPU v2 (per chip)"},
		{"Google TPU v3", "Google TPU v3 (per chip)"},
		{"NVIDIA GTX 1080 (Table 3 lists P100x3)", "NVIDIA GeForce GTX 1080"},
		{"AMD MI250X (LUMI)", "AMD Instinct MI250X"},
		{"NVIDIA H800", "NVIDIA H800 SXM"},
	}
	for _, tc := range tests {
		got, err := LookupGPU(tc.input)
		if err != nil || got.Name != tc.want {
			t.Errorf("LookupGPU(%q) = %q, %v, want %q", tc.input, got.Name, err, tc.want)
		}
	}
}

func TestLookupGPUUnknown(t *testing.T) {
	tests := []struct {
		input string
		want  []string
	}{
		{"H101", []string{"NVIDIA H100 SXM"}},
		{"A100-90GB", []string{"NVIDIA A100 SXM4 80GB", "NVIDIA A100 SXM4 40GB", "NVIDIA A100 PCIe 80GB"}},
		{"H200 NVL", []string{"NVIDIA H200 SXM"}},
		{"mi300", []string{"AMD Instinct MI300X"}},
		{"", nil},
		{"quantum toaster", nil},
	}
	for _, tc := range tests {
		t.Run(tc.input, func(t *testing.T) {
			_, err := LookupGPU(tc.input)
			var unknown *UnknownHardwareError
			if !errors.As(err, &unknown) {
				t.Fatalf("LookupGPU(%q) error = %v, want *UnknownHardwareError", tc.input, err)
			}
			if unknown.Input != tc.input {
				t.Errorf("Input = %q, want %q", unknown.Input, tc.input)
			}
			if len(unknown.Suggestions) > 3 {
				t.Errorf("suggestions = %v, want at most 3", unknown.Suggestions)
			}
			for _, s := range tc.want {
				if !slices.Contains(unknown.Suggestions, s) {
					t.Errorf("suggestions = %v, want %q among them", unknown.Suggestions, s)
				}
			}
			msg := err.Error()
			for _, part := range append([]string{`"` + tc.input + `"`, "H100"}, tc.want...) {
				if !strings.Contains(msg, part) {
					t.Errorf("message %q, want it to contain %q", msg, part)
				}
			}
		})
	}
}

func TestMatchGPU(t *testing.T) {
	tests := []struct {
		nvmlName string
		want     string // empty: no match
	}{
		{"NVIDIA H100 80GB HBM3", "NVIDIA H100 SXM"},
		{"NVIDIA H100 PCIe", "NVIDIA H100 PCIe"},
		{"NVIDIA H100 NVL", "NVIDIA H100 NVL"},
		{"NVIDIA H200", "NVIDIA H200 SXM"},
		{"NVIDIA A100-SXM4-80GB", "NVIDIA A100 SXM4 80GB"},
		{"NVIDIA A100-SXM4-40GB", "NVIDIA A100 SXM4 40GB"},
		{"NVIDIA A100-PCIE-40GB", "NVIDIA A100 PCIe 40GB"},
		{"NVIDIA A100 80GB PCIe", "NVIDIA A100 PCIe 80GB"},
		{"Tesla V100-SXM2-32GB", "NVIDIA V100 SXM2 32GB"},
		{"Tesla V100-PCIE-16GB", "NVIDIA V100 PCIe 16GB"},
		{"Tesla T4", "NVIDIA T4"},
		{"Tesla P100-PCIE-16GB", "NVIDIA Tesla P100 PCIe 16GB"},
		{"NVIDIA A10G", "NVIDIA A10G"},
		{"NVIDIA L4", "NVIDIA L4"},
		{"NVIDIA L40S", "NVIDIA L40S"},
		{"NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 4090"},
		{"NVIDIA RTX A6000", "NVIDIA RTX A6000"},
		{"NVIDIA B200", "NVIDIA B200"},
		{"Tesla V100-SXM2-16GB", ""},
		{"NVIDIA GH200 480GB", ""},
		{"NVIDIA H200 NVL", ""},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.nvmlName, func(t *testing.T) {
			got, ok := MatchGPU(tc.nvmlName)
			if ok != (tc.want != "") || got.Name != tc.want {
				t.Errorf("MatchGPU(%q) = %q, %v, want %q", tc.nvmlName, got.Name, ok, tc.want)
			}
		})
	}
}

func TestMatchCPU(t *testing.T) {
	tests := []struct {
		modelName string
		want      string // empty: no match
		tdpWatts  float64
	}{
		{"Intel(R) Xeon(R) Platinum 8168 CPU @ 2.70GHz", "Intel Xeon Platinum 8168", 205},
		{"AMD EPYC 7763 64-Core Processor", "AMD EPYC 7763", 280},
		{"Intel(R) Xeon(R) Platinum 8480+", "Intel Xeon Platinum 8480+", 350},
		{"Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz", "Intel Xeon Gold 6248R", 205},
		{"AMD EPYC 9654 96-Core Processor", "AMD EPYC 9654", 360},
		{"13th Gen Intel(R) Core(TM) i9-13900K", "Intel Core i9-13900K", 125},
		{"12th Gen Intel(R) Core(TM) i7-12700K", "Intel Core i7-12700K", 190},
		{"AMD Ryzen 9 5950X 16-Core Processor", "AMD Ryzen 9 5950X", 105},
		{"AMD Ryzen Threadripper PRO 5995WX 64-Cores", "AMD Ryzen Threadripper PRO 5995WX", 280},
		{"  intel(r)   xeon(r) platinum 8168 cpu @ 2.70ghz ", "Intel Xeon Platinum 8168", 205},
		// No fuzzy guessing: near neighbours and unknown parts do not match.
		{"Intel(R) Xeon(R) Platinum 8169 CPU @ 2.70GHz", "", 0},
		{"Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz", "", 0},
		{"AMD EPYC 7B13", "", 0},
		{"AMD EPYC Processor (with IBPB)", "", 0},
		{"", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.modelName, func(t *testing.T) {
			got, ok := MatchCPU(tc.modelName)
			if ok != (tc.want != "") || got.Name != tc.want {
				t.Fatalf("MatchCPU(%q) = %q, %v, want %q", tc.modelName, got.Name, ok, tc.want)
			}
			if float64(got.TDP) != tc.tdpWatts {
				t.Errorf("MatchCPU(%q) TDP = %g W, want %g W", tc.modelName, got.TDP, tc.tdpWatts)
			}
		})
	}
}

func TestDefaultWattsPerCore(t *testing.T) {
	// Recompute the median over server rows independently of the loader.
	var perCore []float64
	for _, c := range CPUs() {
		server := strings.HasPrefix(c.Name, "Intel Xeon") || strings.HasPrefix(c.Name, "AMD EPYC")
		if server && c.Cores > 0 {
			perCore = append(perCore, float64(c.TDP)/float64(c.Cores))
		}
	}
	slices.Sort(perCore)
	n := len(perCore)
	want := (perCore[(n-1)/2] + perCore[n/2]) / 2

	got, note := DefaultWattsPerCore()
	if math.Abs(float64(got)-want) > 1e-9 {
		t.Errorf("DefaultWattsPerCore() = %g W, want %g W", got, want)
	}
	if got < 3 || got > 15 {
		t.Errorf("DefaultWattsPerCore() = %g W, want a server-like value in [3, 15]", got)
	}
	for _, part := range []string{"median", "Xeon", "EPYC", "catalog"} {
		if !strings.Contains(note, part) {
			t.Errorf("note %q, want it to contain %q", note, part)
		}
	}
}

func TestMemoryWattsPerGB(t *testing.T) {
	got, source := MemoryWattsPerGB()
	if got != 0.3725 {
		t.Errorf("MemoryWattsPerGB() = %g W, want 0.3725 W", got)
	}
	for _, part := range []string{"Green Algorithms", "Karyakin", "2017"} {
		if !strings.Contains(source, part) {
			t.Errorf("source %q, want it to contain %q", source, part)
		}
	}
}

func TestCatalogCopies(t *testing.T) {
	g, err := LookupGPU("H100")
	if err != nil {
		t.Fatalf("LookupGPU(H100): %v", err)
	}
	g.PeakTFLOPS[BF16] = 1
	GPUs()[0].PeakTFLOPS[FP32] = 1
	CPUs()[0].TDP = 1

	again, _ := LookupGPU("H100")
	if again.PeakTFLOPS[BF16] != 989 {
		t.Errorf("H100 bf16 = %g after a caller changed its copy, want 989", again.PeakTFLOPS[BF16])
	}
	if GPUs()[0].PeakTFLOPS[FP32] == 1 || CPUs()[0].TDP == 1 {
		t.Error("changing a returned row changed the catalog")
	}
}

func BenchmarkMatchGPU(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := MatchGPU("NVIDIA H100 80GB HBM3"); !ok {
			b.Fatal("no match")
		}
	}
}

func BenchmarkMatchCPU(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := MatchCPU("Intel(R) Xeon(R) Platinum 8168 CPU @ 2.70GHz"); !ok {
			b.Fatal("no match")
		}
	}
}
