// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package hardware

import (
	"embed"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/carbonrun/carbonrun/internal/csvtable"
	"github.com/carbonrun/carbonrun/internal/units"
)

//go:embed data/gpus.csv data/cpus.csv
var dataFS embed.FS

// Precision is a numeric format whose peak throughput the catalog lists.
type Precision string

// Precisions in the catalog.
const (
	FP32 Precision = "fp32"
	TF32 Precision = "tf32"
	BF16 Precision = "bf16"
	FP16 Precision = "fp16"
	FP8  Precision = "fp8"
)

// Precisions lists the catalog's precisions in column order.
var Precisions = []Precision{FP32, TF32, BF16, FP16, FP8}

// GPU is one accelerator row of the catalog. Zero numeric fields mean the
// sources gave no figure.
type GPU struct {
	// Name is the catalog name, such as "NVIDIA H100 SXM".
	Name string
	// Vendor is NVIDIA, AMD, Google or Intel.
	Vendor string
	// FormFactor is the board or module type: SXM4, PCIe, OAM, TPU ...
	FormFactor string
	// TDP is the vendor's board power limit. For Google TPU v3 and v4 it is
	// Google's measured maximum power, because Google publishes no TDP.
	TDP units.Watts
	// MemoryGB is the on-package memory in GB (GiB for TPUs).
	MemoryGB float64
	// PeakTFLOPS is the dense theoretical peak per precision, in TFLOPS.
	// Precisions without a published figure are absent.
	PeakTFLOPS map[Precision]float64
	// ReleaseYear is the year the part launched.
	ReleaseYear int
	// EmbodiedKgCO2e is the manufacturing footprint in kg CO2e.
	EmbodiedKgCO2e float64
	// Source names the sources of the row's figures (keys in
	// data/PROVENANCE.md).
	Source string
}

// CPU is one processor row of the catalog.
type CPU struct {
	// Name is the catalog name, such as "Intel Xeon Platinum 8168".
	Name   string
	Vendor string
	// TDP is the vendor's thermal design power (base power for recent
	// Intel parts).
	TDP units.Watts
	// Cores and Threads are 0 where the sources gave no count.
	Cores   int
	Threads int
	// Source names the sources of the row's figures.
	Source string
}

// catalog is the parsed content of the embedded CSV files.
type catalog struct {
	gpus []GPU
	// gpuKeys[i] is the parsed name of gpus[i].
	gpuKeys []gpuKey
	cpus    []CPU
	// cpuIndex maps a normalised CPU name to its index in cpus.
	cpuIndex map[string]int
	// wattsPerCore and wattsPerCoreNote are DefaultWattsPerCore's result.
	wattsPerCore     units.Watts
	wattsPerCoreNote string
}

// loadCatalog parses the embedded catalog once. The files are part of the
// binary and checked by the package tests, so a parse error is a build
// defect and panics.
var loadCatalog = sync.OnceValue(func() *catalog {
	c, err := parseCatalog()
	if err != nil {
		panic(fmt.Sprintf("hardware: embedded data: %v", err))
	}
	return c
})

func parseCatalog() (*catalog, error) {
	c := &catalog{cpuIndex: make(map[string]int)}
	if err := c.parseGPUs(); err != nil {
		return nil, err
	}
	if err := c.parseCPUs(); err != nil {
		return nil, err
	}
	w, note, err := medianWattsPerCore(c.cpus)
	if err != nil {
		return nil, err
	}
	c.wattsPerCore, c.wattsPerCoreNote = w, note
	return c, nil
}

var gpuHeader = []string{
	"name", "vendor", "form_factor", "tdp_watts", "memory_gb",
	"peak_tflops_fp32", "peak_tflops_tf32", "peak_tflops_bf16", "peak_tflops_fp16", "peak_tflops_fp8",
	"release_year", "embodied_kg_co2e", "source",
}

func (c *catalog) parseGPUs() error {
	return readCSV("gpus.csv", gpuHeader, func(row []string) error {
		var f fields
		g := GPU{
			Name:           row[0],
			Vendor:         row[1],
			FormFactor:     row[2],
			TDP:            units.Watts(f.float("tdp_watts", row[3])),
			MemoryGB:       f.float("memory_gb", row[4]),
			PeakTFLOPS:     make(map[Precision]float64),
			ReleaseYear:    int(f.float("release_year", row[10])),
			EmbodiedKgCO2e: f.float("embodied_kg_co2e", row[11]),
			Source:         row[12],
		}
		for i, p := range Precisions {
			if row[5+i] != "" {
				g.PeakTFLOPS[p] = f.float("peak_tflops_"+string(p), row[5+i])
			}
		}
		if f.err != nil {
			return fmt.Errorf("gpu %q: %w", g.Name, f.err)
		}
		key := parseGPUName(g.Name)
		if key.variant == "" {
			key.variant = normaliseVariant(strings.ToLower(g.FormFactor))
		}
		key.memoryGB = g.MemoryGB
		for i, k := range c.gpuKeys {
			if k == key {
				return fmt.Errorf("gpu %q has the same key as %q", g.Name, c.gpus[i].Name)
			}
		}
		c.gpus = append(c.gpus, g)
		c.gpuKeys = append(c.gpuKeys, key)
		return nil
	})
}

func (c *catalog) parseCPUs() error {
	header := []string{"name", "vendor", "tdp_watts", "cores", "threads", "source"}
	return readCSV("cpus.csv", header, func(row []string) error {
		var f fields
		cpu := CPU{
			Name:    row[0],
			Vendor:  row[1],
			TDP:     units.Watts(f.float("tdp_watts", row[2])),
			Cores:   int(f.float("cores", row[3])),
			Threads: int(f.float("threads", row[4])),
			Source:  row[5],
		}
		if f.err != nil {
			return fmt.Errorf("cpu %q: %w", cpu.Name, f.err)
		}
		key := normaliseCPUName(cpu.Name)
		if i, dup := c.cpuIndex[key]; dup {
			return fmt.Errorf("cpu %q has the same key as %q", cpu.Name, c.cpus[i].Name)
		}
		c.cpuIndex[key] = len(c.cpus)
		c.cpus = append(c.cpus, cpu)
		return nil
	})
}

// fields parses optional numeric cells and keeps the first error.
type fields struct{ err error }

// float returns 0 for an empty cell.
func (f *fields) float(column, cell string) float64 {
	if cell == "" || f.err != nil {
		return 0
	}
	v, err := strconv.ParseFloat(cell, 64)
	if err != nil {
		f.err = fmt.Errorf("column %s: %w", column, err)
	}
	return v
}

// readCSV reads data/name, checks its header and calls fn for every row.
func readCSV(name string, header []string, fn func(row []string) error) error {
	return csvtable.Read(dataFS, "data/"+name, header, fn)
}

// GPUs returns a copy of every accelerator row in file order.
func GPUs() []GPU {
	src := loadCatalog().gpus
	out := make([]GPU, len(src))
	for i, g := range src {
		out[i] = g.clone()
	}
	return out
}

// CPUs returns a copy of every CPU row in file order.
func CPUs() []CPU {
	return slices.Clone(loadCatalog().cpus)
}

// clone copies g with its own PeakTFLOPS map, so callers cannot change
// the catalog.
func (g GPU) clone() GPU {
	g.PeakTFLOPS = maps.Clone(g.PeakTFLOPS)
	return g
}
