// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package rapl

import (
	"strconv"
	"strings"

	"github.com/carbonrun/carbonrun/sampler"
)

// role is the part of the machine that a zone measures, taken from its name.
type role int

const (
	roleUnknown role = iota
	rolePackage      // package-N
	roleDie          // package-N-die-M
	roleDRAM         // dram
	rolePsys         // psys, the whole platform
	rolePart         // core or uncore, parts of the package energy
)

// zone is one powercap RAPL zone found under class/powercap.
type zone struct {
	id     string // powercap zone id, such as "intel-rapl:0:2"
	dir    string
	name   string // contents of the zone's name attribute
	top    int    // N in intel-rapl:N[:M]
	sub    int    // M in intel-rapl:N:M, or -1 for a top-level zone
	parent *zone  // top-level zone of a subzone, when found

	role         role
	packageIndex int
	label        string
}

// parseZoneID splits a powercap directory name such as "intel-rapl:0" or
// "amd-rapl:1:2" into its zone numbers. Other control types, including
// intel-rapl-mmio, and the control type directory itself are rejected.
func parseZoneID(id string) (top, sub int, ok bool) {
	rest, found := strings.CutPrefix(id, "intel-rapl:")
	if !found {
		rest, found = strings.CutPrefix(id, "amd-rapl:")
	}
	if !found {
		return 0, 0, false
	}

	first, second, nested := strings.Cut(rest, ":")
	top, err := strconv.Atoi(first)
	if err != nil || top < 0 {
		return 0, 0, false
	}
	if !nested {
		return top, -1, true
	}
	sub, err = strconv.Atoi(second)
	if err != nil || sub < 0 {
		return 0, 0, false
	}
	return top, sub, true
}

// classify sets the zone's role, package index and domain name from its
// name attribute. Subzones take the package index of their parent.
func (z *zone) classify() {
	z.packageIndex = z.top
	if z.parent != nil && z.parent.role == rolePackage {
		z.packageIndex = z.parent.packageIndex
	}

	switch {
	case z.name == "psys":
		z.role, z.label = rolePsys, "psys"
	case z.name == "dram":
		z.role, z.label = roleDRAM, "dram-"+strconv.Itoa(z.packageIndex)
	case z.sub >= 0 && (z.name == "core" || z.name == "uncore"):
		z.role, z.label = rolePart, z.name+"-"+strconv.Itoa(z.packageIndex)
	case z.sub < 0:
		z.classifyPackage()
	default:
		z.role, z.label = roleUnknown, z.name+"-"+strconv.Itoa(z.packageIndex)
	}
	if z.name == "" {
		z.label = z.id
	}
}

// classifyPackage recognises the top-level names package-N and
// package-N-die-M; anything else is an unknown zone.
func (z *zone) classifyPackage() {
	z.role, z.label = roleUnknown, z.name

	rest, ok := strings.CutPrefix(z.name, "package-")
	if !ok {
		return
	}
	pkg, die, hasDie := strings.Cut(rest, "-die-")
	index, err := strconv.Atoi(pkg)
	if err != nil || index < 0 {
		return
	}
	if hasDie {
		if d, err := strconv.Atoi(die); err != nil || d < 0 {
			return
		}
	}

	z.packageIndex = index
	z.role = rolePackage
	if hasDie {
		z.role = roleDie
	}
}

// kind returns the component kind of a counted zone.
func (z *zone) kind() sampler.Kind {
	if z.role == roleDRAM {
		return sampler.KindDRAM
	}
	return sampler.KindCPU
}

// isCPU reports whether the zone is a package or die zone.
func (z *zone) isCPU() bool { return z.role == rolePackage || z.role == roleDie }
