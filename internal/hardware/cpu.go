// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package hardware

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/carbonrun/carbonrun/internal/units"
)

// memoryWattsPerGB is the power of one GB of allocated memory.
const memoryWattsPerGB = 0.3725

// memoryWattsSource cites memoryWattsPerGB.
const memoryWattsSource = "Green Algorithms data/v3.0/referenceValues.csv (memoryPower, " +
	"0.3725 W per GB allocated), citing Karyakin & Salem, DaMoN 2017, doi 10.1145/3076113.3076117"

var (
	cpuTrademark  = regexp.MustCompile(`(?i)\((r|tm)\)`)
	cpuClock      = regexp.MustCompile(`@.*$`)
	cpuCoreCount  = regexp.MustCompile(`(?i)\b\d+-cores?\b`)
	cpuGeneration = regexp.MustCompile(`(?i)^\d+(st|nd|rd|th) gen\b`)
)

// MatchCPU maps a model name as /proc/cpuinfo writes it ("Intel(R)
// Xeon(R) Platinum 8168 CPU @ 2.70GHz", "AMD EPYC 7763 64-Core Processor")
// to its catalog row. Both names are normalised the same way: (R) and (TM)
// marks, a leading "12th Gen", the words CPU and Processor, an "n-Core"
// count and everything from "@" on are dropped, and case and spacing are
// ignored. The result must equal a catalog name exactly. There is no fuzzy
// match, because a neighbouring model's TDP would be a wrong figure
// presented as a known one.
func MatchCPU(modelName string) (CPU, bool) {
	c := loadCatalog()
	i, ok := c.cpuIndex[normaliseCPUName(modelName)]
	if !ok {
		return CPU{}, false
	}
	return c.cpus[i], true
}

func normaliseCPUName(name string) string {
	name = cpuTrademark.ReplaceAllString(name, " ")
	name = cpuClock.ReplaceAllString(name, " ")
	name = cpuCoreCount.ReplaceAllString(name, " ")
	name = strings.ToLower(strings.Join(strings.Fields(name), " "))
	name = cpuGeneration.ReplaceAllString(name, " ")
	var words []string
	for _, w := range strings.Fields(name) {
		if w != "cpu" && w != "processor" {
			words = append(words, w)
		}
	}
	return strings.Join(words, " ")
}

// DefaultWattsPerCore returns the power per core to assume for a CPU that
// is not in the catalog, and a sentence saying how it was derived. The
// value is the median of TDP divided by core count over the catalog's
// server rows (Intel Xeon and AMD EPYC with a core count). It is computed
// when the catalog is loaded, so it follows the embedded data.
func DefaultWattsPerCore() (units.Watts, string) {
	c := loadCatalog()
	return c.wattsPerCore, c.wattsPerCoreNote
}

// MemoryWattsPerGB returns the power drawn per GB of memory in use, in
// W/GB, and its source. The figure is 0.3725 W/GB from Green Algorithms,
// which cites Karyakin & Salem (DaMoN 2017).
func MemoryWattsPerGB() (float64, string) {
	return memoryWattsPerGB, memoryWattsSource
}

// isServerCPU reports whether a catalog row is a server part.
func isServerCPU(c CPU) bool {
	return strings.Contains(c.Name, "Xeon") || strings.Contains(c.Name, "EPYC")
}

func medianWattsPerCore(cpus []CPU) (units.Watts, string, error) {
	var perCore []float64
	for _, c := range cpus {
		if isServerCPU(c) && c.Cores > 0 && c.TDP > 0 {
			perCore = append(perCore, float64(c.TDP)/float64(c.Cores))
		}
	}
	if len(perCore) == 0 {
		return 0, "", errors.New("no server CPU rows with TDP and cores")
	}
	slices.Sort(perCore)
	n := len(perCore)
	median := perCore[n/2]
	if n%2 == 0 {
		median = (perCore[n/2-1] + perCore[n/2]) / 2
	}
	note := fmt.Sprintf("median TDP per core (%.2f W) of the %d Intel Xeon and AMD EPYC rows "+
		"with a core count in the embedded CPU catalog (TDPs from CodeCarbon cpu_power.csv)", median, n)
	return units.Watts(median), note, nil
}
