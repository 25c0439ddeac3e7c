// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package rapl

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/sampler"
)

// DefaultSysfsRoot is the sysfs mount point that Open uses when
// Options.SysfsRoot is empty.
const DefaultSysfsRoot = "/sys"

// permissionRemedy is the fix, given in warnings, for an energy_uj that only
// root can read. It avoids running carbonrun as root.
const permissionRemedy = "energy_uj is readable by root only since Linux 5.10; " +
	"make it readable with a udev rule or a tmpfiles.d/sysfs.conf entry " +
	"(chmod 0444 on intel-rapl:*/energy_uj), " +
	"or grant carbonrun the CAP_DAC_READ_SEARCH capability"

// amdEnergyPermissionRemedy is the fix, given in warnings, for amd_energy
// files that only root can read. The driver creates energy*_input and
// energy*_label with mode 0440, owner and group root (amd_energy_is_visible
// in amd_energy.c).
const amdEnergyPermissionRemedy = "the amd_energy driver makes energy*_input and " +
	"energy*_label readable by root only (mode 0440); make them readable with a udev " +
	"rule or a tmpfiles.d/sysfs.conf entry (chmod 0444 on hwmon*/energy*_input and " +
	"hwmon*/energy*_label), or grant carbonrun the CAP_DAC_READ_SEARCH capability"

// counterFamily holds the words that warnings and errors use for one kind of
// energy counter file, so that one read path serves both kinds.
type counterFamily struct {
	subject      string // noun for one counter in messages, such as "rapl zone"
	counterFiles string // plural name of the counter files
	cpuCounter   string // counters of which Open needs at least one readable
	remedy       string // fix for a counter that only root can read
	deniedError  string // Open's error when a counter is not readable
	// decreaseCode and decreaseReason make up the warning for a counter
	// that went down and whose interval is therefore dropped.
	decreaseCode   string
	decreaseReason string
}

// powercapFamily describes the energy_uj files of powercap RAPL zones.
var powercapFamily = counterFamily{
	subject:      "rapl zone",
	counterFiles: "energy_uj files",
	cpuCounter:   "package or psys energy_uj",
	remedy:       permissionRemedy,
	deniedError:  "RAPL counters are not readable (permission denied)",
	decreaseCode: "rapl_wrap_uncorrectable",
	decreaseReason: "energy_uj wrapped but max_energy_range_uj is missing, unreadable " +
		"or below the last reading, so intervals that wrap count 0 J",
}

// amdEnergyFamily describes the energy*_input files of amd_energy hwmon
// devices. The hwmon interface defines no range attribute for energy
// counters, so a decrease cannot be corrected the way a RAPL wraparound is.
var amdEnergyFamily = counterFamily{
	subject:      "amd_energy counter",
	counterFiles: "amd_energy files",
	cpuCounter:   "amd_energy socket counter",
	remedy:       amdEnergyPermissionRemedy,
	deniedError:  "amd_energy counters are not readable (permission denied)",
	decreaseCode: "amd_energy_counter_reset",
	decreaseReason: "went down, as it does when the amd_energy driver is reloaded or " +
		"its counter overflows; the driver exposes no counter range, so intervals " +
		"in which the counter goes down count 0 J",
}

// File is an open sysfs attribute file. *os.File implements it.
type File interface {
	ReadAt(p []byte, off int64) (int, error)
	Close() error
}

// Options configures Open.
type Options struct {
	// SysfsRoot is the sysfs mount point. Empty means DefaultSysfsRoot.
	SysfsRoot string
	// Log receives startup and per-read debug lines. Nil discards them.
	Log *zap.Logger
	// Warn collects the warnings for the run's report. Nil keeps them in a
	// private collector that only logs them.
	Warn *sampler.Warnings
	// OpenFile opens a sysfs attribute for reading. Nil means os.Open.
	// Tests set it to inject read errors such as EINVAL and EACCES.
	OpenFile func(path string) (File, error)
}

// Source is a sampler.Source over the RAPL zones, or the amd_energy socket
// counters, that the package policy counts. One goroutine calls Read, while
// Domains, Ignored and DomainUp may be called from any goroutine.
type Source struct {
	log        *zap.Logger
	warn       *sampler.Warnings
	family     *counterFamily
	domains    []*domain
	components []sampler.Component
	names      []string
	ignored    []string
	closed     bool

	// buf receives each energy_uj read, so that Read does not allocate.
	buf [32]byte
}

// domain is one counted RAPL zone or amd_energy counter and the state of
// its counter.
type domain struct {
	label string // domain name, such as "package-0" or "dram-1"
	// zone is the powercap zone id, such as "intel-rapl:0:2", or the hwmon
	// counter, such as "hwmon2/energy129_input".
	zone   string
	path   string // energy_uj or energy*_input path
	detail string // sampler.Component.Detail
	file   File
	src    *zone

	// maxRangeMicrojoules is max_energy_range_uj, or 0 when it could not
	// be read, so that a wraparound cannot be corrected.
	maxRangeMicrojoules uint64
	lastMicrojoules     uint64
	totalMicrojoules    uint64
	hasBaseline         bool
	lastRead            time.Time
	reading             sampler.Reading

	up         atomic.Bool
	warnedDown bool
	warnedWrap bool
}

// errClosed reports a Read after Close.
var errClosed = errors.New("reading rapl: source is closed")

// Components lists one component per counted domain, in Read order.
func (s *Source) Components() []sampler.Component { return s.components }

// Domains returns the names of the summed domains, such as "package-0" and
// "dram-0", in Components order.
func (s *Source) Domains() []string { return append([]string(nil), s.names...) }

// Ignored returns the names of the zones that were found but not summed:
// core and uncore parts of a package, psys next to packages, mirrored die
// zones, zones without energy_uj and zones with unknown names. It also lists
// the amd_energy counters that are not summed, named like "hwmon2/Ecore000":
// per-core counters and counters without a socket label when the socket
// counters are summed, and the socket counters when powercap zones are.
func (s *Source) Ignored() []string { return append([]string(nil), s.ignored...) }

// DomainUp returns whether the last read of each summed domain succeeded,
// keyed by domain name.
func (s *Source) DomainUp() map[string]bool {
	up := make(map[string]bool, len(s.domains))
	for _, d := range s.domains {
		up[d.label] = d.up.Load()
	}
	return up
}

// Read reads every domain's energy_uj once and stores the cumulative energy
// in joules since Open and the mean power over the interval since the
// domain's previous read. A domain that cannot be read keeps its previous
// reading, is marked down and gets one warning; Read still returns nil.
func (s *Source) Read(now time.Time, dst []sampler.Reading) error {
	if s.closed {
		return errClosed
	}
	if len(dst) != len(s.domains) {
		return fmt.Errorf("reading rapl: got %d readings for %d components",
			len(dst), len(s.domains))
	}

	for i, d := range s.domains {
		s.readDomain(d, now)
		dst[i] = d.reading
	}
	return nil
}

// Close closes every energy_uj file. Read fails after Close.
func (s *Source) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true

	var first error
	for _, d := range s.domains {
		if err := d.file.Close(); err != nil && first == nil {
			first = fmt.Errorf("closing %s %q: %w", s.family.subject, d.zone, err)
		}
	}
	return first
}

func (s *Source) readDomain(d *domain, now time.Time) {
	raw, err := s.readCounter(d.file)
	if err != nil {
		s.markDown(d, err)
		return
	}
	if !d.up.Load() {
		d.up.Store(true)
		s.log.Debug("rapl zone readable again", zap.String("domain", d.label))
	}

	if !d.hasBaseline {
		// The zone was unreadable at Open; this read is its baseline.
		d.lastMicrojoules, d.hasBaseline, d.lastRead = raw, true, now
		return
	}

	deltaMicrojoules, ok := d.advance(raw)
	if !ok {
		s.dropWrap(d, raw)
	}
	d.totalMicrojoules += deltaMicrojoules
	d.reading.Energy = units.Microjoules(d.totalMicrojoules)
	d.reading.Power = 0
	if !d.lastRead.IsZero() {
		d.reading.Power = units.Microjoules(deltaMicrojoules).Per(now.Sub(d.lastRead))
	}
	d.lastRead = now
}

// advance moves the counter to raw and returns the energy since the previous
// reading. energy_uj wraps to 0 after max_energy_range_uj, so a smaller
// value means one wraparound. Without max_energy_range_uj the interval
// cannot be measured, so ok is false. amd_energy counters have no range, so
// every decrease of theirs returns ok false.
func (d *domain) advance(raw uint64) (deltaMicrojoules uint64, ok bool) {
	last := d.lastMicrojoules
	d.lastMicrojoules = raw
	if raw >= last {
		return raw - last, true
	}
	if d.maxRangeMicrojoules == 0 || last > d.maxRangeMicrojoules {
		return 0, false
	}
	return d.maxRangeMicrojoules - last + raw, true
}

// readCounter reads one energy_uj or energy*_input value into s.buf without allocating.
// sysfs regenerates an attribute's text on every read at offset 0.
func (s *Source) readCounter(f File) (uint64, error) {
	n, err := f.ReadAt(s.buf[:], 0)
	if err != nil && !(errors.Is(err, io.EOF) && n > 0) {
		return 0, err
	}
	return parseMicrojoules(s.buf[:n])
}

func (s *Source) markDown(d *domain, err error) {
	d.up.Store(false)
	if d.warnedDown {
		s.log.Debug("rapl zone still unreadable", zap.String("domain", d.label), zap.Error(err))
		return
	}
	d.warnedDown = true

	msg := fmt.Sprintf("%s %s (%s) unreadable, keeping its last energy: %v",
		s.family.subject, d.zone, d.label, err)
	if errors.Is(err, fs.ErrPermission) {
		msg += "; " + s.family.remedy
	}
	s.warn.Add(msg, zap.String("domain", d.label), zap.String("path", d.path))
}

func (s *Source) dropWrap(d *domain, raw uint64) {
	if d.warnedWrap {
		s.log.Debug("rapl wraparound dropped", zap.String("domain", d.label),
			zap.Uint64("energy_microjoules", raw))
		return
	}
	d.warnedWrap = true

	msg := fmt.Sprintf("%s: %s (%s) %s", s.family.decreaseCode, d.zone, d.label,
		s.family.decreaseReason)
	s.warn.Add(msg, zap.String("domain", d.label),
		zap.Uint64("energy_microjoules", raw))
}
