// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux

package rapl

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// amdEnergyDriver is the name attribute of an amd_energy hwmon device.
const amdEnergyDriver = "amd_energy"

// amdEnergyCounter is one energyN_input counter of an amd_energy hwmon device.
type amdEnergyCounter struct {
	device      string // hwmon device, such as "hwmon2"
	deviceIndex int    // N in hwmonN
	channel     int    // N in energyN_input
	path        string // energyN_input path
	labelPath   string // energyN_label path
	label       string // such as "Esocket0" or "Ecore000"; empty when unreadable
	labelErr    error  // error from reading energyN_label, or nil
	socket      int    // N in the label EsocketN, or -1 for any other label
}

// id returns the counter's hwmon device and file, such as "hwmon2/energy129_input".
func (c amdEnergyCounter) id() string {
	return c.device + "/energy" + strconv.Itoa(c.channel) + "_input"
}

// name returns the counter's entry in Ignored, such as "hwmon2/Esocket0".
func (c amdEnergyCounter) name() string {
	if c.label == "" {
		return c.id()
	}
	return c.device + "/" + c.label
}

// findAMDEnergy lists the counters of every hwmon device under dir whose name
// is amd_energy, ordered by device and channel. A missing dir means that
// there are none.
func findAMDEnergy(dir string, open func(string) (File, error),
	log *zap.Logger) []amdEnergyCounter {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			log.Debug("listing hwmon devices failed", zap.String("path", dir), zap.Error(err))
		}
		return nil
	}

	var counters []amdEnergyCounter
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "hwmon")
		index, err := strconv.Atoi(rest)
		if !ok || err != nil || index < 0 {
			continue
		}
		deviceDir := filepath.Join(dir, e.Name())
		name, err := readAttribute(open, filepath.Join(deviceDir, "name"))
		if err != nil {
			log.Debug("reading hwmon name failed", zap.String("device", e.Name()), zap.Error(err))
			continue
		}
		if name == amdEnergyDriver {
			counters = append(counters, listAMDEnergy(deviceDir, index, open, log)...)
		}
	}

	slices.SortFunc(counters, func(a, b amdEnergyCounter) int {
		return cmp.Or(cmp.Compare(a.deviceIndex, b.deviceIndex), cmp.Compare(a.channel, b.channel))
	})
	return counters
}

// listAMDEnergy lists the energyN_input counters of one amd_energy device
// and reads their labels.
func listAMDEnergy(dir string, index int, open func(string) (File, error),
	log *zap.Logger) []amdEnergyCounter {
	device := filepath.Base(dir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		log.Debug("listing amd_energy device failed", zap.String("device", device), zap.Error(err))
		return nil
	}

	var counters []amdEnergyCounter
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "energy")
		number, isInput := strings.CutSuffix(rest, "_input")
		channel, err := strconv.Atoi(number)
		if !ok || !isInput || err != nil || channel < 0 {
			continue
		}

		c := amdEnergyCounter{device: device, deviceIndex: index, channel: channel,
			path: filepath.Join(dir, e.Name()), socket: -1}
		c.labelPath = filepath.Join(dir, "energy"+number+"_label")
		c.label, c.labelErr = readAttribute(open, c.labelPath)
		if socket, found := strings.CutPrefix(c.label, "Esocket"); found {
			if n, err := strconv.Atoi(socket); err == nil && n >= 0 {
				c.socket = n
			}
		}
		counters = append(counters, c)
	}
	return counters
}

// openAMDEnergy opens the socket counters of the amd_energy hwmon devices as
// one package domain per socket. The per-core counters are parts of their
// socket's energy, so they are listed in Ignored and never summed.
func openAMDEnergy(opts Options, log *zap.Logger, counters []amdEnergyCounter) (*Source, error) {
	s := &Source{log: log, warn: opts.Warn, family: &amdEnergyFamily}
	sockets, err := s.chooseSockets(counters)
	if err != nil {
		return nil, err
	}

	if err := s.openSockets(sockets, opts.OpenFile); err != nil {
		return nil, err
	}
	if err := s.readBaselines(); err != nil {
		s.Close()
		return nil, err
	}
	s.dropMirrors()
	s.finish()

	log.Info("amd_energy counters opened", zap.Strings("domains", s.names),
		zap.Int("ignored_counters", len(s.ignored)))
	return s, nil
}

// chooseSockets returns the socket counters and records the others in
// s.ignored. Without the labels, sockets cannot be distinguished from cores,
// so a label denied by permission fails Open like an unreadable counter.
func (s *Source) chooseSockets(counters []amdEnergyCounter) ([]amdEnergyCounter, error) {
	var denied []string
	for _, c := range counters {
		if errors.Is(c.labelErr, fs.ErrPermission) {
			denied = append(denied, c.labelPath)
		}
	}
	if len(denied) > 0 {
		return nil, s.permissionDenied(denied)
	}

	var sockets []amdEnergyCounter
	for _, c := range counters {
		switch {
		case c.socket >= 0:
			sockets = append(sockets, c)
		case strings.HasPrefix(c.label, "Ecore"):
			s.ignored = append(s.ignored, c.name())
		case c.labelErr != nil:
			s.ignored = append(s.ignored, c.name())
			s.warn.Add(fmt.Sprintf("amd_energy counter %s has no readable label, not counted: %v",
				c.id(), c.labelErr), zap.String("path", c.path))
		default:
			s.ignored = append(s.ignored, c.name())
			s.warn.Add(fmt.Sprintf("amd_energy counter %s has unknown label %q, not counted",
				c.id(), c.label), zap.String("path", c.path))
		}
	}
	if len(sockets) == 0 {
		return nil, unavailable("no counter labelled Esocket")
	}
	return sockets, nil
}

// openSockets opens every socket counter. A counter that cannot be opened
// is ignored with a warning. It fails when none is left, or when this user
// cannot read some counter.
func (s *Source) openSockets(sockets []amdEnergyCounter, open func(string) (File, error)) error {
	var denied, reasons []string
	var failed []amdEnergyCounter
	for _, c := range sockets {
		f, err := open(c.path)
		switch {
		case err == nil:
			s.domains = append(s.domains, socketDomain(c, f))
		case errors.Is(err, fs.ErrPermission):
			denied = append(denied, c.path)
		default:
			failed = append(failed, c)
			reasons = append(reasons, fmt.Sprintf("opening %s: %v", c.path, err))
		}
	}

	if len(denied) > 0 {
		s.Close()
		return s.permissionDenied(denied)
	}
	if len(s.domains) == 0 {
		s.Close()
		return unavailable(strings.Join(reasons, "; "))
	}
	for i, c := range failed {
		s.ignored = append(s.ignored, c.name())
		s.warn.Add(reasons[i]+", not counted", zap.String("path", c.path))
	}
	return nil
}

// socketDomain builds the domain of one open socket counter. The counter
// takes the role of a powercap package zone, so that the read path and the
// component list treat both kinds of counter alike. Its maximum range stays
// 0 because hwmon has no range attribute for energy counters.
func socketDomain(c amdEnergyCounter, f File) *domain {
	z := &zone{id: c.id(), dir: filepath.Dir(c.path), name: c.label, top: c.socket, sub: -1,
		role: rolePackage, packageIndex: c.socket, label: "package-" + strconv.Itoa(c.socket)}
	return &domain{label: z.label, zone: z.id, path: c.path, file: f, src: z,
		detail: "amd_energy " + c.id() + " (" + c.label + ")"}
}
