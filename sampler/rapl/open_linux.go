// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux

package rapl

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/carbonrun/carbonrun/sampler"
)

// mirrorReadAttempts is how many times Open compares the die counters of one
// package. Mirrored counters can differ in one attempt when the hardware
// updates the counter between two reads.
const mirrorReadAttempts = 3

// Open discovers the RAPL zones under <SysfsRoot>/class/powercap and the
// amd_energy hwmon counters under <SysfsRoot>/class/hwmon, applies the policy
// described in the package documentation, opens every counted counter file
// and reads the baseline of each counter. The amd_energy socket counters are
// used only when powercap has no usable package or psys zone. Open returns an
// error wrapping sampler.ErrUnavailable when neither gives a usable counter,
// or when this user has no permission to read the chosen counters.
func Open(opts Options) (*Source, error) {
	opts = withDefaults(opts)
	log := opts.Log.With(zap.String("component", "rapl"))
	counters := findAMDEnergy(filepath.Join(opts.SysfsRoot, "class", "hwmon"), opts.OpenFile, log)

	s, err := openPowercap(opts, log, counters)
	// A powercap counter that exists but is not readable is not replaced:
	// the warning already gives the remedy, and amd_energy counters are
	// readable by root only as well.
	if err == nil || errors.Is(err, fs.ErrPermission) || len(counters) == 0 {
		return s, err
	}

	log.Info("no usable powercap zone, using amd_energy hwmon counters", zap.Error(err))
	s, amdErr := openAMDEnergy(opts, log, counters)
	var powercapReason, amdReason *unavailableError
	if errors.As(err, &powercapReason) && errors.As(amdErr, &amdReason) {
		return nil, unavailable(powercapReason.reason + "; amd_energy: " + amdReason.reason)
	}
	return s, amdErr
}

// openPowercap opens the powercap RAPL zones. When they are usable, the
// amd_energy counters are listed in Ignored.
func openPowercap(opts Options, log *zap.Logger, counters []amdEnergyCounter) (*Source, error) {
	dir := filepath.Join(opts.SysfsRoot, "class", "powercap")
	zones, err := discover(dir, opts.OpenFile, log)
	if err != nil {
		return nil, err
	}

	s := &Source{log: log, warn: opts.Warn, family: &powercapFamily}
	counted := s.choose(zones)
	if !hasCPUZone(counted) {
		return nil, unavailable(fmt.Sprintf("no package or psys zone in %s (found %s)",
			dir, zoneNames(zones)))
	}

	if err := s.openDomains(counted, opts.OpenFile); err != nil {
		return nil, err
	}
	if err := s.readBaselines(); err != nil {
		s.Close()
		return nil, err
	}
	s.dropMirrors()
	s.finish()

	// An amd_energy socket counter reads the same package energy as the
	// powercap package zone of that socket, so summing both would count
	// each package twice.
	for _, c := range counters {
		if c.socket >= 0 {
			s.ignored = append(s.ignored, c.name())
		}
	}
	log.Info("rapl zones opened", zap.Strings("domains", s.names),
		zap.Strings("ignored", s.ignored))
	return s, nil
}

func withDefaults(opts Options) Options {
	if opts.SysfsRoot == "" {
		opts.SysfsRoot = DefaultSysfsRoot
	}
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	if opts.Warn == nil {
		opts.Warn = sampler.NewWarnings(opts.Log)
	}
	if opts.OpenFile == nil {
		opts.OpenFile = openOS
	}
	return opts
}

func openOS(path string) (File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// unavailableError reports a machine without usable RAPL zones or amd_energy
// counters. It wraps sampler.ErrUnavailable.
type unavailableError struct {
	reason string
}

func (e *unavailableError) Error() string {
	return "RAPL not available (container/VM?): " + e.reason + ": " +
		sampler.ErrUnavailable.Error()
}

func (e *unavailableError) Unwrap() error { return sampler.ErrUnavailable }

// unavailable builds the error for a machine without usable RAPL zones.
func unavailable(reason string) error {
	return &unavailableError{reason: reason}
}

// discover lists the RAPL zones in dir. On real sysfs, dir contains a link
// for every zone, subzones included, and each zone directory also contains
// its subzones. Both forms are accepted, and each zone id is kept once.
func discover(dir string, open func(string) (File, error), log *zap.Logger) ([]*zone, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, unavailable(dir + " does not exist")
	}
	if err != nil {
		return nil, unavailable(fmt.Sprintf("listing %s: %v", dir, err))
	}

	byID := make(map[string]*zone)
	addZones(byID, dir, entries, log)
	for _, z := range slices.Collect(maps.Values(byID)) {
		if z.sub < 0 {
			nested, err := os.ReadDir(z.dir)
			if err != nil {
				log.Debug("listing rapl zone failed", zap.String("zone", z.id), zap.Error(err))
				continue
			}
			addZones(byID, z.dir, nested, log)
		}
	}
	if len(byID) == 0 {
		return nil, unavailable("no intel-rapl or amd-rapl zones in " + dir)
	}

	zones := slices.SortedFunc(maps.Values(byID), compareZones)
	for _, z := range zones {
		z.name = readName(open, z, log)
		if z.sub >= 0 {
			z.parent = byID[z.id[:strings.LastIndex(z.id, ":")]]
		}
	}
	// Top-level zones sort first, so a subzone's parent is classified
	// before the subzone needs its package index.
	for _, z := range zones {
		z.classify()
	}
	return zones, nil
}

func addZones(byID map[string]*zone, dir string, entries []os.DirEntry, log *zap.Logger) {
	for _, e := range entries {
		id := e.Name()
		if _, seen := byID[id]; seen {
			continue
		}
		top, sub, ok := parseZoneID(id)
		if !ok {
			if strings.HasPrefix(id, "intel-rapl-mmio") {
				// On Intel client parts the MMIO zone reports the same
				// package energy as the MSR zone; counting it would
				// double the package.
				log.Debug("skipping rapl mmio zone", zap.String("zone", id))
			}
			continue
		}
		byID[id] = &zone{id: id, dir: filepath.Join(dir, id), top: top, sub: sub}
	}
}

// compareZones orders top-level zones before subzones, then by zone id.
func compareZones(a, b *zone) int {
	if (a.sub < 0) != (b.sub < 0) {
		if a.sub < 0 {
			return -1
		}
		return 1
	}
	return cmp.Or(cmp.Compare(a.top, b.top), cmp.Compare(a.sub, b.sub),
		strings.Compare(a.id, b.id))
}

func readName(open func(string) (File, error), z *zone, log *zap.Logger) string {
	name, err := readAttribute(open, filepath.Join(z.dir, "name"))
	if err != nil {
		log.Debug("reading rapl zone name failed", zap.String("zone", z.id), zap.Error(err))
	}
	return name
}

// readAttribute reads a short sysfs attribute at Open time.
func readAttribute(open func(string) (File, error), path string) (string, error) {
	f, err := open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()

	var buf [256]byte
	n, err := f.ReadAt(buf[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return strings.TrimSpace(string(buf[:n])), nil
}

// choose applies the zone policy: it returns the zones to sum and records
// the others in s.ignored.
func (s *Source) choose(zones []*zone) []*zone {
	hasPackage := slices.ContainsFunc(zones, (*zone).isCPU)

	var counted []*zone
	for _, z := range zones {
		switch z.role {
		case rolePackage, roleDie:
			counted = append(counted, z)
		case roleDRAM, rolePsys:
			// psys covers the whole platform, DRAM included: it is the CPU
			// figure only when no package zone exists, and then the dram
			// zones are already inside it.
			if hasPackage == (z.role == roleDRAM) {
				counted = append(counted, z)
			} else {
				s.ignored = append(s.ignored, z.label)
			}
		case rolePart:
			s.ignored = append(s.ignored, z.label)
		default:
			s.ignored = append(s.ignored, z.label)
			s.warn.Add(fmt.Sprintf("rapl zone %s has unknown name %q, not counted", z.id, z.name),
				zap.String("zone", z.id))
		}
	}
	return counted
}

func hasCPUZone(zones []*zone) bool {
	return slices.ContainsFunc(zones, func(z *zone) bool {
		return z.isCPU() || z.role == rolePsys
	})
}

func zoneNames(zones []*zone) string {
	names := make([]string, 0, len(zones))
	for _, z := range zones {
		names = append(names, z.id+"="+z.name)
	}
	return strings.Join(names, ", ")
}
