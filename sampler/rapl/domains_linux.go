// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux

package rapl

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/carbonrun/carbonrun/sampler"
)

// openDomains opens energy_uj of every counted zone and reads its
// max_energy_range_uj. A zone without energy_uj is ignored with a warning.
// Open fails when no package or psys zone is left, or when this user cannot
// read some energy_uj.
func (s *Source) openDomains(counted []*zone, open func(string) (File, error)) error {
	var denied, reasons []string
	var missing []*zone
	for _, z := range counted {
		path := filepath.Join(z.dir, "energy_uj")
		f, err := open(path)
		switch {
		case err == nil:
			d := &domain{label: z.label, zone: z.id, path: path, file: f, src: z,
				detail: "RAPL " + z.id + "/energy_uj"}
			d.maxRangeMicrojoules = s.readMaxRange(open, z)
			s.domains = append(s.domains, d)
		case errors.Is(err, fs.ErrPermission):
			denied = append(denied, path)
		case errors.Is(err, fs.ErrNotExist):
			missing = append(missing, z)
			reasons = append(reasons, fmt.Sprintf("zone %s (%s) has no energy_uj", z.id, z.name))
		default:
			missing = append(missing, z)
			reasons = append(reasons, fmt.Sprintf("opening %s: %v", path, err))
		}
	}

	if len(denied) > 0 {
		s.Close()
		return s.permissionDenied(denied)
	}
	hasCPU := slices.ContainsFunc(s.domains, func(d *domain) bool {
		return d.src.kind() == sampler.KindCPU
	})
	if !hasCPU {
		s.Close()
		return unavailable(strings.Join(reasons, "; "))
	}
	for i, z := range missing {
		s.ignored = append(s.ignored, z.label)
		s.warn.Add(reasons[i]+", not counted", zap.String("zone", z.id))
	}
	return nil
}

// readMaxRange returns max_energy_range_uj, or 0 when it cannot be read. A
// missing range only matters when the counter wraps, so it is not an error.
func (s *Source) readMaxRange(open func(string) (File, error), z *zone) uint64 {
	text, err := readAttribute(open, filepath.Join(z.dir, "max_energy_range_uj"))
	if err == nil {
		var value uint64
		if value, err = parseMicrojoules([]byte(text)); err == nil && value > 0 {
			return value
		}
	}
	s.log.Debug("max_energy_range_uj unreadable, a wraparound will drop its interval",
		zap.String("zone", z.id), zap.Error(err))
	return 0
}

// permissionDenied records the one warning for unreadable counter files
// and returns Open's error. The error leaves the paths out, because the
// warning already names them and the remedy.
func (s *Source) permissionDenied(paths []string) error {
	files := paths[0]
	if len(paths) > 1 {
		files += " and " + strconv.Itoa(len(paths)-1) + " other " + s.family.counterFiles
	}
	s.warn.Add(fmt.Sprintf("cannot read %s: permission denied; %s", files, s.family.remedy),
		zap.Strings("paths", paths))
	return fmt.Errorf("%s: %w", s.family.deniedError,
		errors.Join(fs.ErrPermission, sampler.ErrUnavailable))
}

// readBaselines reads every counter once, so that the first Read measures
// the energy since Open. A zone that fails here is marked down and read
// again on each Read.
func (s *Source) readBaselines() error {
	var firstErr error
	for _, d := range s.domains {
		raw, err := s.readCounter(d.file)
		if errors.Is(err, fs.ErrPermission) {
			return s.permissionDenied([]string{d.path})
		}
		if err != nil {
			firstErr = cmp.Or(firstErr, fmt.Errorf("reading %s: %w", d.path, err))
			s.markDown(d, err)
			continue
		}
		d.lastMicrojoules, d.hasBaseline = raw, true
		d.up.Store(true)
	}

	if !slices.ContainsFunc(s.domains, func(d *domain) bool {
		return d.hasBaseline && d.src.kind() == sampler.KindCPU
	}) {
		return unavailable(fmt.Sprintf("no %s could be read: %v", s.family.cpuCounter, firstErr))
	}
	return nil
}

// dropMirrors keeps one zone of each group of package or die zones of the
// same package whose counters read the same. Multi-die AMD parts expose one
// zone per die, but each zone reports the whole socket's counter.
func (s *Source) dropMirrors() {
	groups := make(map[int][]*domain)
	for _, d := range s.domains {
		if d.src.isCPU() && d.hasBaseline {
			groups[d.src.packageIndex] = append(groups[d.src.packageIndex], d)
		}
	}

	dropped := make(map[*domain]bool)
	var counted, mirrors []string
	for _, pkg := range slices.Sorted(maps.Keys(groups)) {
		group := groups[pkg]
		if len(group) < 2 {
			continue
		}
		mirrored := s.findMirrors(group)
		if !slices.Contains(mirrored, true) {
			continue
		}

		var distinct []*domain
		for i, d := range group {
			if !mirrored[i] {
				distinct = append(distinct, d)
				continue
			}
			dropped[d] = true
			mirrors = append(mirrors, d.label)
			s.ignored = append(s.ignored, d.label)
			_ = d.file.Close()
		}
		if len(distinct) == 1 {
			distinct[0].label = "package-" + strconv.Itoa(pkg)
		}
		for _, d := range distinct {
			counted = append(counted, d.label+" ("+d.zone+")")
		}
	}

	if len(mirrors) > 0 {
		s.domains = slices.DeleteFunc(s.domains, func(d *domain) bool { return dropped[d] })
		s.log.Info("rapl die zones mirror one socket counter, counting one per distinct counter",
			zap.Strings("counted", counted), zap.Strings("mirrors", mirrors))
	}
}

// findMirrors reports, for each zone of group, whether an earlier zone read
// the same counter value. A counter can tick between two reads, so unequal
// pairs are compared again up to mirrorReadAttempts times.
func (s *Source) findMirrors(group []*domain) []bool {
	mirrored := make([]bool, len(group))
	values := make([]uint64, len(group))
	valid := make([]bool, len(group))
	for attempt := range mirrorReadAttempts {
		for i, d := range group {
			valid[i] = true
			if attempt == 0 {
				values[i] = d.lastMicrojoules
				continue
			}
			raw, err := s.readCounter(d.file)
			values[i], valid[i] = raw, err == nil
			if err == nil {
				d.lastMicrojoules = raw
			}
		}

		for j := range group {
			for i := range j {
				if !mirrored[j] && !mirrored[i] && valid[i] && valid[j] && values[i] == values[j] {
					mirrored[j] = true
				}
			}
		}
		if slices.Index(mirrored[1:], false) < 0 {
			break
		}
	}
	return mirrored
}

// finish orders the domains by package, CPU before DRAM, and builds the
// component list.
func (s *Source) finish() {
	seen := make(map[string]bool)
	for _, d := range s.domains {
		if seen[d.label] {
			// Two zones have the same name, so the later one gets its zone id
			// appended.
			d.label += " (" + d.zone + ")"
		}
		seen[d.label] = true
	}

	slices.SortStableFunc(s.domains, func(a, b *domain) int {
		return cmp.Or(cmp.Compare(a.src.packageIndex, b.src.packageIndex),
			strings.Compare(string(a.src.kind()), string(b.src.kind())),
			strings.Compare(a.label, b.label))
	})

	for _, d := range s.domains {
		s.names = append(s.names, d.label)
		s.components = append(s.components, sampler.Component{
			Kind:   d.src.kind(),
			Name:   d.label,
			Index:  d.src.packageIndex,
			Method: sampler.MethodEnergyCounter,
			Detail: d.detail,
		})
	}
}
