// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package report

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/carbonrun/carbonrun/internal/units"
)

// Errors that Merge returns, for use with errors.Is. All but ErrNoReports
// come wrapped in a *MergeError that names the report.
var (
	// ErrNoReports means Merge was given no reports.
	ErrNoReports = errors.New("no reports to merge")
	// ErrJobIDMismatch means the reports belong to different jobs.
	ErrJobIDMismatch = errors.New("job ids differ")
	// ErrSchemaVersionMismatch means the reports use different schema versions.
	ErrSchemaVersionMismatch = errors.New("schema versions differ")
	// ErrSchemaVersionUnsupported means a report's schema version is not SchemaVersion.
	ErrSchemaVersionUnsupported = errors.New("unsupported schema version")
	// ErrDuplicateReport means the same node's run appears twice, which would
	// count its energy twice.
	ErrDuplicateReport = errors.New("duplicate report")
	// ErrDuplicateHost means a host, or a component of one, appears in more
	// than one report, such as a merged report given with one of its own
	// inputs. MergeOptions.Force merges such reports with a warning.
	ErrDuplicateHost = errors.New("host in more than one report")
	// ErrInvalidReport means a report lacks its job id or has a negative or
	// non-finite energy or emissions figure.
	ErrInvalidReport = errors.New("invalid report")
)

// Mixed is the value of a merged text field, such as tracking_mode or the
// region code, whose value differs between the input reports.
const Mixed = "mixed"

// mismatchTolerance is the relative difference between a node's stored
// emissions and facility energy × intensity above which Merge warns.
const mismatchTolerance = 1e-6

// MergeOptions changes how MergeWithOptions checks and labels its input.
type MergeOptions struct {
	// JobID is the job id of the merged report. When set, reports whose job
	// ids differ are merged under it.
	JobID string
	// Force merges reports whose job ids differ, and reports that share a
	// host or component, with a warning. The merged report keeps the first
	// report's job id unless JobID is set.
	Force bool
	// Names labels each report in error and warning messages, such as its
	// file path. A report without a name is called "report N", counting from 0.
	Names []string
}

// MergeError is the reason Merge rejected one of its input reports.
type MergeError struct {
	// Index is the position of the rejected report in the input slice.
	Index int
	// Name is the report's label from MergeOptions.Names, or "report N".
	Name string
	// JobID is the job id stored in the rejected report.
	JobID string
	// Err is one of the Err* values of this package, with detail.
	Err error
}

// Error returns the message, naming the report and its job id.
func (e *MergeError) Error() string {
	return fmt.Sprintf("%s (job %q): %v", e.Name, e.JobID, e.Err)
}

// Unwrap returns the underlying error.
func (e *MergeError) Unwrap() error { return e.Err }

// Merge combines the reports of one job's nodes into one report, with
// default options. See MergeWithOptions.
func Merge(reports []Report) (Report, error) {
	return MergeWithOptions(reports, MergeOptions{})
}

// MergeWithOptions combines the reports of one job's nodes into one report.
//
// Energies add up. Emissions are computed per node, as that node's facility
// energy times its own carbon intensity, and then summed, so nodes on
// different grids or with different PUEs are merged correctly. The merged
// carbon intensity and PUE are then ratios over the whole job, and a warning
// reports the per-node values when the nodes differ. The time span runs from the earliest start
// to the latest end. Components are concatenated with Host set to their
// node's hostname, and warnings are kept, prefixed with the hostname.
// Status is completed only when every node completed, Complete is true only
// when every report is complete, and ExitCode is the first non-zero exit
// code, 0 when all are 0, and nil when no report has one.
//
// It returns a *MergeError when a report is invalid on its own: schema
// version missing or unsupported, no job id, or a negative or non-finite
// figure. It also returns one when the reports have different job ids
// (unless opts.Force or opts.JobID is set) or schema versions, when one
// node's run appears twice, and when a host or component appears in two
// reports (unless opts.Force is set).
func MergeWithOptions(reports []Report, opts MergeOptions) (Report, error) {
	if len(reports) == 0 {
		return Report{}, ErrNoReports
	}
	m := merger{in: reports, opts: opts, seenWarnings: map[string]bool{}}
	if err := m.check(); err != nil {
		return Report{}, err
	}

	m.mergeIdentity()
	m.mergeTimes()
	m.mergeOutcome()
	m.mergeEnergy()
	m.mergeSite()
	m.mergeDetails()
	m.out.Warnings = append(m.out.Warnings, m.ownWarnings...)
	return m.out, nil
}

// merger holds the state of one MergeWithOptions call.
type merger struct {
	in           []Report
	opts         MergeOptions
	out          Report
	seenWarnings map[string]bool
	// ownWarnings are the warnings that merging itself produces. They follow
	// the nodes' warnings in the merged report.
	ownWarnings []string
}

// name returns the label of input report i for messages.
func (m *merger) name(i int) string {
	if i < len(m.opts.Names) && m.opts.Names[i] != "" {
		return m.opts.Names[i]
	}
	return "report " + strconv.Itoa(i)
}

// host returns the node name of input report i for messages, falling back
// to its label when the report has no hostname.
func (m *merger) host(i int) string {
	if h := m.in[i].Hostname; h != "" {
		return h
	}
	return m.name(i)
}

func (m *merger) reject(i int, err error) error {
	return &MergeError{Index: i, Name: m.name(i), JobID: m.in[i].JobID, Err: err}
}

func (m *merger) check() error {
	// Each report is checked alone first, so that an invalid file is the
	// one named, not a valid file it differs from.
	for i, r := range m.in {
		if err := validateReport(r); err != nil {
			return m.reject(i, err)
		}
	}
	first := m.in[0]
	for i, r := range m.in {
		if r.SchemaVersion != first.SchemaVersion {
			return m.reject(i, fmt.Errorf("%w (%s has %d, %s has %d)", ErrSchemaVersionMismatch,
				m.name(i), r.SchemaVersion, m.name(0), first.SchemaVersion))
		}
		if r.JobID != first.JobID && !m.opts.Force && m.opts.JobID == "" {
			return m.reject(i, fmt.Errorf("%w (%s has job %q)", ErrJobIDMismatch, m.name(0), first.JobID))
		}
	}
	if err := m.checkDuplicates(); err != nil {
		return err
	}
	return m.checkSharedHosts()
}

// figureField is a numeric report field with its JSON name, for messages.
type figureField struct {
	name  string
	value float64
}

// validateReport checks one report on its own: a supported schema version,
// a job id, and energy and emissions figures that are finite and not
// negative.
func validateReport(r Report) error {
	if r.SchemaVersion == 0 {
		return fmt.Errorf("%w: schema_version is missing (want %d)", ErrSchemaVersionUnsupported,
			SchemaVersion)
	}
	if r.SchemaVersion != SchemaVersion {
		return fmt.Errorf("%w %d (want %d)", ErrSchemaVersionUnsupported, r.SchemaVersion,
			SchemaVersion)
	}
	if r.JobID == "" {
		return fmt.Errorf("%w: job_id is missing", ErrInvalidReport)
	}
	fields := []figureField{
		{"it_energy_kwh", r.ITEnergyKWh},
		{"machine_energy_kwh", r.MachineEnergyKWh},
		{"facility_energy_kwh", r.FacilityEnergyKWh},
		{"emissions_kg", r.EmissionsKg},
		{"measured_energy_kwh", r.MeasuredEnergyKWh},
		{"estimated_energy_kwh", r.EstimatedEnergyKWh},
		{"carbon_intensity_g_per_kwh", r.CarbonIntensityGPerKWh},
		{"pue", r.PUE},
	}
	for i, c := range r.Components {
		prefix := fmt.Sprintf("components[%d].", i)
		fields = append(fields, figureField{prefix + "energy_joules", c.EnergyJoules},
			figureField{prefix + "energy_kwh", c.EnergyKWh},
			figureField{prefix + "machine_energy_kwh", c.MachineEnergyKWh})
	}
	for _, f := range fields {
		if f.value < 0 || math.IsNaN(f.value) || math.IsInf(f.value, 0) {
			return fmt.Errorf("%w: %s is %v, want a finite number not below 0",
				ErrInvalidReport, f.name, f.value)
		}
	}
	return nil
}

// checkDuplicates rejects a node run given twice, which is usually the same
// file passed twice. It warns about runs of one host that overlap in time,
// because in machine tracking mode both runs measured the whole node and the
// merged energy counts the overlap twice.
func (m *merger) checkDuplicates() error {
	for j := range m.in {
		for i := 0; i < j; i++ {
			a, b := m.in[i], m.in[j]
			if a.Hostname == "" || a.Hostname != b.Hostname {
				continue
			}
			if a.JobID == b.JobID && a.StartTime.Equal(b.StartTime) && a.EndTime.Equal(b.EndTime) {
				return m.reject(j, fmt.Errorf("%w: same host %q, job and times as %s",
					ErrDuplicateReport, a.Hostname, m.name(i)))
			}
			if a.StartTime.Before(b.EndTime) && b.StartTime.Before(a.EndTime) {
				m.warn(fmt.Sprintf("%s and %s measured host %q over overlapping times; "+
					"in machine tracking mode that host's energy is counted twice",
					m.name(i), m.name(j), a.Hostname))
			}
		}
	}
	return nil
}

// checkSharedHosts rejects a host, or a component (host, kind, index and
// name), that appears in two reports, unless opts.Force is set, in which
// case it warns. Merging a merged report with one of its own inputs would
// otherwise count that node's energy twice. Components without a host are
// skipped, because reports without hostnames cannot be told apart.
func (m *merger) checkSharedHosts() error {
	hostOwner := map[string]int{}
	sharedHost := map[string]bool{}
	for j, r := range m.in {
		for _, host := range reportHosts(r) {
			i, seen := hostOwner[host]
			if !seen {
				hostOwner[host] = j
				continue
			}
			if i == j {
				continue
			}
			sharedHost[host] = true
			if err := m.shared(i, j, fmt.Sprintf("host %q", host)); err != nil {
				return err
			}
		}
	}

	componentOwner := map[string]int{}
	for j, r := range m.in {
		for _, c := range r.Components {
			host := c.Host
			if host == "" {
				host = r.Hostname
			}
			// A shared host was reported above, so its components are not
			// listed one by one.
			if host == "" || sharedHost[host] {
				continue
			}
			key := fmt.Sprintf("%s/%s/%d/%s", host, c.Kind, c.Index, c.Name)
			i, seen := componentOwner[key]
			if !seen {
				componentOwner[key] = j
				continue
			}
			if i == j {
				continue
			}
			what := fmt.Sprintf("component %s %d %q of host %q", c.Kind, c.Index, c.Name, host)
			if err := m.shared(i, j, what); err != nil {
				return err
			}
		}
	}
	return nil
}

// shared rejects report j for containing what report i contains too, or
// warns when opts.Force is set.
func (m *merger) shared(i, j int, what string) error {
	if !m.opts.Force {
		return m.reject(j, fmt.Errorf("%w: %s is also in %s, so its energy would be counted "+
			"twice", ErrDuplicateHost, what, m.name(i)))
	}
	m.warn(fmt.Sprintf("%s and %s both contain %s; merged because of --force, so its energy "+
		"is counted twice", m.name(i), m.name(j), what))
	return nil
}

// reportHosts returns the hosts a report covers: its hostnames when it is
// a merged report, else its hostname.
func reportHosts(r Report) []string {
	if len(r.Hostnames) > 0 {
		return r.Hostnames
	}
	if r.Hostname != "" {
		return []string{r.Hostname}
	}
	return nil
}

// warn adds a warning that merging produced, once.
func (m *merger) warn(msg string) {
	if m.seenWarnings[msg] {
		return
	}
	m.seenWarnings[msg] = true
	m.ownWarnings = append(m.ownWarnings, msg)
}

func (m *merger) mergeIdentity() {
	first := m.in[0]
	m.out.SchemaVersion = first.SchemaVersion
	m.out.Tool = first.Tool
	m.out.JobID = first.JobID
	m.out.Command = first.Command

	ids := distinct(m.in, func(r Report) string { return r.JobID })
	if m.opts.JobID != "" {
		m.out.JobID = m.opts.JobID
	}
	if len(ids) > 1 {
		m.warn(fmt.Sprintf("merged the reports of jobs %s under job id %q",
			strings.Join(ids, ", "), m.out.JobID))
	}

	for _, r := range m.in {
		if len(r.Hostnames) > 0 {
			m.out.Hostnames = appendNew(m.out.Hostnames, r.Hostnames...)
		} else if r.Hostname != "" {
			m.out.Hostnames = appendNew(m.out.Hostnames, r.Hostname)
		}
	}
}

// mergeTimes spans the reports: earliest start to latest end. Zero times,
// which a report never written by carbonrun may carry, are skipped.
func (m *merger) mergeTimes() {
	for _, r := range m.in {
		if !r.StartTime.IsZero() && (m.out.StartTime.IsZero() || r.StartTime.Before(m.out.StartTime)) {
			m.out.StartTime = r.StartTime
		}
		if r.EndTime.After(m.out.EndTime) {
			m.out.EndTime = r.EndTime
		}
	}
	if !m.out.StartTime.IsZero() && m.out.EndTime.After(m.out.StartTime) {
		m.out.DurationSeconds = m.out.EndTime.Sub(m.out.StartTime).Seconds()
	}
}

// statusRank orders statuses from the least to the most in need of
// attention. A merged report with mixed statuses takes the highest.
var statusRank = map[Status]int{
	StatusCompleted:   0,
	StatusEnded:       1,
	StatusShutdown:    2,
	StatusTerminated:  3,
	StatusChildKilled: 4,
	StatusIncomplete:  5,
}

// rank returns the position of s in statusRank. A status that this version
// does not know ranks just below incomplete.
func rank(s Status) int {
	if r, ok := statusRank[s]; ok {
		return r
	}
	return statusRank[StatusIncomplete] - 1
}

func (m *merger) mergeOutcome() {
	m.out.Status = m.in[0].Status
	m.out.Complete = true
	for _, r := range m.in {
		if rank(r.Status) > rank(m.out.Status) {
			m.out.Status = r.Status
		}
		m.out.Complete = m.out.Complete && r.Complete
	}
	if statuses := distinct(m.in, func(r Report) string { return string(r.Status) }); len(statuses) > 1 {
		m.warn(fmt.Sprintf("statuses differ between nodes (%s), so the merged status is %s",
			m.perNode(func(r Report) string { return string(r.Status) }), m.out.Status))
	}

	for _, r := range m.in {
		if r.ExitCode == nil {
			continue
		}
		if m.out.ExitCode == nil || (*m.out.ExitCode == 0 && *r.ExitCode != 0) {
			code := *r.ExitCode
			m.out.ExitCode = &code
			m.out.ChildSignal = r.ChildSignal
		}
	}
}

// mergeEnergy adds the energies and computes emissions per node, because
// nodes may sit on different grids: summing energy first and multiplying by
// one node's intensity would misstate the others.
func (m *merger) mergeEnergy() {
	var emissions units.GramsCO2e
	for i, r := range m.in {
		m.out.ITEnergyKWh += r.ITEnergyKWh
		m.out.MachineEnergyKWh += r.MachineEnergyKWh
		m.out.FacilityEnergyKWh += r.FacilityEnergyKWh
		m.out.MeasuredEnergyKWh += r.MeasuredEnergyKWh
		m.out.EstimatedEnergyKWh += r.EstimatedEnergyKWh

		nodeEmissions := units.GramsPerKWh(r.CarbonIntensityGPerKWh).Emissions(units.KWh(r.FacilityEnergyKWh))
		emissions += nodeEmissions
		stored, recomputed := r.EmissionsKg, nodeEmissions.Kilograms()
		if math.Abs(stored-recomputed) > mismatchTolerance*math.Max(math.Abs(stored), math.Abs(recomputed)) {
			m.warn(fmt.Sprintf("%s: emissions_kg %g differs from facility energy × carbon intensity "+
				"(%g kg); the merged report uses the recomputed value", m.host(i), stored, recomputed))
		}
	}
	m.out.EmissionsKg = emissions.Kilograms()
}

// mergeSite sets the grid and PUE fields. When the nodes agree, their values
// are kept. When they differ, intensity becomes emissions per facility kWh and
// PUE becomes facility energy per IT energy, both over the whole job.
func (m *merger) mergeSite() {
	first := m.in[0]
	m.out.Region = first.Region
	m.out.CarbonIntensityGPerKWh = first.CarbonIntensityGPerKWh
	m.out.IntensitySource = m.sameOrMixed(func(r Report) string { return r.IntensitySource })
	m.out.PUE = first.PUE
	m.out.PUESource = m.sameOrMixed(func(r Report) string { return r.PUESource })

	if codes := distinct(m.in, func(r Report) string { return r.Region.Code }); len(codes) > 1 {
		m.out.Region = Region{Code: Mixed, Name: strings.Join(codes, ", ")}
	}

	intensity := func(r Report) string { return formatFloat(r.CarbonIntensityGPerKWh) + " g/kWh" }
	if len(distinct(m.in, intensity)) > 1 {
		m.out.CarbonIntensityGPerKWh = m.meanIntensity()
		m.warn(fmt.Sprintf("carbon intensity differs between nodes (%s), so emissions are computed per "+
			"node and summed, and carbon_intensity_g_per_kwh is the job's emissions per facility kWh",
			m.perNode(intensity)))
	}

	pue := func(r Report) string { return formatFloat(r.PUE) }
	if len(distinct(m.in, pue)) > 1 {
		if m.out.ITEnergyKWh > 0 {
			m.out.PUE = m.out.FacilityEnergyKWh / m.out.ITEnergyKWh
		}
		m.warn(fmt.Sprintf("PUE differs between nodes (%s), so facility energy is summed per node "+
			"and pue is the job's facility energy per IT energy", m.perNode(pue)))
	}
}

// meanIntensity returns the merged report's emissions per facility kWh in
// g/kWh. Without facility energy there is nothing to weight by, so it
// returns the plain mean of the nodes' intensities.
func (m *merger) meanIntensity() float64 {
	if m.out.FacilityEnergyKWh > 0 {
		grams := m.out.EmissionsKg * 1e3
		return grams / m.out.FacilityEnergyKWh
	}
	var sum float64
	for _, r := range m.in {
		sum += r.CarbonIntensityGPerKWh
	}
	return sum / float64(len(m.in))
}

// mergeDetails concatenates components, warnings and provenance.
func (m *merger) mergeDetails() {
	m.out.TrackingMode = m.sameOrMixed(func(r Report) string { return r.TrackingMode })
	if m.out.TrackingMode == Mixed {
		m.warn(fmt.Sprintf("tracking modes differ between nodes (%s), so it_energy_kwh adds "+
			"process and whole-machine figures", m.perNode(func(r Report) string { return r.TrackingMode })))
	}
	m.out.GPUScope = m.sameOrMixed(func(r Report) string { return r.GPUScope })

	m.out.Components = []Component{}
	m.out.Warnings = []string{}
	for _, r := range m.in {
		for _, c := range r.Components {
			if r.Hostname != "" {
				c.Host = r.Hostname
			}
			m.out.Components = append(m.out.Components, c)
		}
		for _, w := range r.Warnings {
			m.addNodeWarning(r.Hostname, w)
		}
		if r.GPUNote != "" && len(m.in) > 1 {
			m.out.GPUNote = joinNote(m.out.GPUNote, prefixHost(r.Hostname, r.GPUNote))
		} else if r.GPUNote != "" {
			m.out.GPUNote = r.GPUNote
		}
		m.out.CPUDomains = appendNew(m.out.CPUDomains, r.CPUDomains...)
		m.out.IgnoredDomains = appendNew(m.out.IgnoredDomains, r.IgnoredDomains...)
		m.out.DataSources = appendNewSources(m.out.DataSources, r.DataSources)
	}
}

// addNodeWarning keeps a node's warning, prefixed with its host so that the
// reader knows which node it concerns, and drops exact repeats.
func (m *merger) addNodeWarning(host, w string) {
	msg := prefixHost(host, w)
	if m.seenWarnings[msg] {
		return
	}
	m.seenWarnings[msg] = true
	m.out.Warnings = append(m.out.Warnings, msg)
}

// perNode lists each node with its value of field, such as "a completed,
// b terminated".
func (m *merger) perNode(field func(Report) string) string {
	parts := make([]string, len(m.in))
	for i, r := range m.in {
		parts[i] = m.host(i) + " " + field(r)
	}
	return strings.Join(parts, ", ")
}

// sameOrMixed returns field's value when all reports agree, else Mixed.
func (m *merger) sameOrMixed(field func(Report) string) string {
	values := distinct(m.in, field)
	if len(values) > 1 {
		return Mixed
	}
	return values[0]
}

// distinct returns the values of field over the reports, in input order,
// each once.
func distinct(reports []Report, field func(Report) string) []string {
	var values []string
	for _, r := range reports {
		values = appendNew(values, field(r))
	}
	return values
}

// appendNew appends the values not already in list.
func appendNew(list []string, values ...string) []string {
	for _, v := range values {
		if !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}

func appendNewSources(list, sources []DataSource) []DataSource {
	for _, s := range sources {
		if !slices.Contains(list, s) {
			list = append(list, s)
		}
	}
	return list
}

func prefixHost(host, msg string) string {
	if host == "" {
		return msg
	}
	return host + ": " + msg
}

func joinNote(note, more string) string {
	if note == "" {
		return more
	}
	return note + "; " + more
}

// formatFloat prints f in the shortest form that reads back as f.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
