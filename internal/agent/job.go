// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/carbonrun/carbonrun/internal/jobid"
	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/report"
	"github.com/carbonrun/carbonrun/sampler"
)

// IdleJobID is the id of the pseudo job that receives the energy no open
// job is charged with. It cannot be used for a real job.
const IdleJobID = "idle"

// Tracking modes of a job, as they appear in reports.
const (
	TrackingProcess = "process" // a process tree rooted at the given PIDs
	TrackingCgroup  = "cgroup"  // a cgroup directory, given or found from a Slurm job id
	TrackingGPU     = "gpu"     // GPUs only, no CPU share
)

// Limits on a job request.
const (
	maxJobPIDs    = 1024
	maxSlurmIDLen = 20
)

// JobSpec is a job start request. Exactly one of PIDs, Cgroup and
// SlurmJobID selects the job's processes; GPUs may come with any of them or
// alone.
type JobSpec struct {
	ID string `json:"id"`
	// PIDs are the roots of the job's process trees.
	PIDs []int `json:"pids,omitempty"`
	// Cgroup is the job's cgroup directory, absolute under /sys/fs/cgroup
	// or relative to it.
	Cgroup string `json:"cgroup,omitempty"`
	// SlurmJobID selects the cgroup directory job_<id> that Slurm creates.
	SlurmJobID string `json:"slurm_job_id,omitempty"`
	// GPUs are device indices ("0") or UUIDs ("GPU-...") the job uses.
	GPUs []string `json:"gpus,omitempty"`
}

// GPURef identifies one GPU of a job.
type GPURef struct {
	Index int    `json:"index"`
	UUID  string `json:"uuid,omitempty"`
	Name  string `json:"name,omitempty"`
}

// JobView is the state of a job as the API returns it.
type JobView struct {
	ID string `json:"id"`
	// Status is "open", "ended" or, for the idle pseudo job, "idle".
	Status          string    `json:"status"`
	TrackingMode    string    `json:"tracking_mode,omitempty"`
	StartTime       time.Time `json:"start_time,omitzero"`
	EndTime         time.Time `json:"end_time,omitzero"`
	DurationSeconds float64   `json:"duration_seconds"`
	PIDs            []int     `json:"pids,omitempty"`
	Cgroup          string    `json:"cgroup,omitempty"`
	SlurmJobID      string    `json:"slurm_job_id,omitempty"`
	GPUs            []GPURef  `json:"gpus,omitempty"`
	// EnergyJoules is the energy charged so far, keyed by component kind.
	EnergyJoules      map[string]float64 `json:"energy_joules"`
	TotalEnergyJoules float64            `json:"total_energy_joules"`
	// EmissionsGrams includes the PUE.
	EmissionsGrams float64 `json:"emissions_grams"`
	// ReportPath is the job's report.json. An open job has one after the
	// agent wrote a report at shutdown, which its end rewrites.
	ReportPath string `json:"report_path,omitempty"`
}

// FinalReport is the report that ending a job returns, with the directory
// it was written to.
type FinalReport struct {
	report.Report
	// ReportDir is ReportDir/<id>, or ReportDir/<id>.2, <id>.3, ... when
	// an earlier job with the same id left its report in <id> or another
	// open job reserved <id>. It is empty when reports are not written or
	// the write failed.
	ReportDir string `json:"report_dir,omitempty"`
}

// JobList is the list of open jobs with the idle pseudo job.
type JobList struct {
	Jobs []JobView `json:"jobs"`
	Idle JobView   `json:"idle"`
}

// job is an open job. Its counters change only under roundMu and mu.
type job struct {
	spec       JobSpec
	mode       string
	cgroupDir  string
	gpus       []int // component indices
	cpuTracked bool
	start      time.Time

	energy   []units.Joules // charged energy per component
	machine  []units.Joules // whole-component energy over the job's life
	maxPower []units.Watts
	// gpuRounds counts, per entry of gpus, how each round was split.
	gpuRounds []gpuRounds
	cpuPrev   time.Duration
	cpuPrevOK bool
	cpuMissed int
	// cpuScaled counts the rounds whose CPU shares were scaled down
	// because the open jobs' CPU times added up to more than the machine's.
	cpuScaled int
	rounds    int
	warnings  []string
	// reportDir is the directory of the job's report, empty until the
	// first report write chooses and reserves it. Later writes reuse it.
	// Writers hold roundMu and mu, because API views read it under mu.
	reportDir string
	// reportWritten is set once a report.json was written to reportDir.
	reportWritten bool
}

// gpuRounds counts the rounds of one GPU by how its energy was split.
type gpuRounds struct {
	Alone  int `json:"alone"`
	ByUtil int `json:"by_utilisation"`
	Equal  int `json:"equal"`
}

// endedJob is the final state of a job, kept for JobRetention after it ended.
type endedJob struct {
	view JobView
	// kindJoules is aligned with Agent.kinds.
	kindJoules []units.Joules
	emissions  units.GramsCO2e
}

// Start validates spec, resolves its processes and GPUs on this node and
// opens the job. The job's energy counts from a round taken now.
func (a *Agent) Start(spec JobSpec) (JobView, error) {
	j, err := a.prepare(spec)
	if err != nil {
		return JobView{}, err
	}

	a.roundMu.Lock()
	defer a.roundMu.Unlock()
	if err := a.admit(spec.ID); err != nil {
		return JobView{}, err
	}
	now := a.opts.Now()
	a.round(now)
	j.start = now
	a.baselineCPU(j)
	a.warnSharedProcesses(j)

	a.mu.Lock()
	a.open[j.spec.ID] = j
	a.openOrder = append(a.openOrder, j)
	a.mu.Unlock()
	// The API acknowledges the start once Start returns, so the job must
	// survive a crash from then on, not only from the next periodic
	// checkpoint.
	a.saveCheckpoint(now)
	a.log.Info("job started", zap.String("job_id", j.spec.ID), zap.String("tracking_mode", j.mode),
		zap.Ints("gpu_components", j.gpus))
	return a.viewOpen(j, now), nil
}

// prepare checks a request and builds the job without touching agent state.
func (a *Agent) prepare(spec JobSpec) (*job, error) {
	if err := validateID(spec.ID); err != nil {
		return nil, err
	}
	j := &job{spec: spec}
	if err := a.resolveProcesses(j); err != nil {
		return nil, err
	}
	if err := a.resolveGPUs(j); err != nil {
		return nil, err
	}
	n := len(a.components)
	j.energy = make([]units.Joules, n)
	j.machine = make([]units.Joules, n)
	j.maxPower = make([]units.Watts, n)
	j.gpuRounds = make([]gpuRounds, len(j.gpus))
	return j, nil
}

// validateID checks a job id before it becomes a map key or a path element.
func validateID(id string) error {
	if err := jobid.Validate(id); err != nil {
		return newRequestError(ErrInvalidRequest, "%v", err)
	}
	if id == IdleJobID {
		return newRequestError(ErrInvalidRequest,
			"job id %q is reserved for the energy no job uses: choose another id", id)
	}
	return nil
}

func (a *Agent) resolveProcesses(j *job) error {
	spec := j.spec
	selectors := 0
	for _, set := range []bool{len(spec.PIDs) > 0, spec.Cgroup != "", spec.SlurmJobID != ""} {
		if set {
			selectors++
		}
	}
	switch {
	case selectors > 1:
		return newRequestError(ErrInvalidRequest,
			"job %q gives more than one of pids, cgroup and slurm_job_id: give exactly one", spec.ID)
	case selectors == 0 && len(spec.GPUs) == 0:
		return newRequestError(ErrInvalidRequest,
			"job %q names no processes and no GPUs: give pids, cgroup or slurm_job_id, and gpus if it uses any",
			spec.ID)
	case len(spec.PIDs) > 0:
		j.mode = TrackingProcess
		return a.checkPIDs(spec)
	case spec.Cgroup != "":
		dir, err := resolveCgroup(a.opts.SysfsRoot, spec.Cgroup)
		j.mode, j.cgroupDir = TrackingCgroup, dir
		return err
	case spec.SlurmJobID != "":
		if !isDigits(spec.SlurmJobID, maxSlurmIDLen) {
			return newRequestError(ErrInvalidRequest,
				"slurm_job_id %q is not a Slurm job id: give the number in SLURM_JOB_ID", spec.SlurmJobID)
		}
		dir, err := findSlurmCgroup(a.opts.SysfsRoot, spec.SlurmJobID)
		j.mode, j.cgroupDir = TrackingCgroup, dir
		return err
	default:
		j.mode = TrackingGPU
		return nil
	}
}

func (a *Agent) checkPIDs(spec JobSpec) error {
	if len(spec.PIDs) > maxJobPIDs {
		return newRequestError(ErrInvalidRequest,
			"job %q lists %d pids: give at most %d process tree roots, or its cgroup",
			spec.ID, len(spec.PIDs), maxJobPIDs)
	}
	for _, pid := range spec.PIDs {
		if pid <= 0 {
			return newRequestError(ErrInvalidRequest, "pid %d is not a process id: give positive PIDs", pid)
		}
		if err := a.checkClaimable(pid); err != nil {
			return err
		}
		if !a.opts.Processes.Exists(pid) {
			return newRequestError(ErrUnresolvable,
				"process %d does not exist on this node: start the job while its processes run, "+
					"and give PIDs as seen from the agent's procfs (%s)", pid, a.opts.ProcfsRoot)
		}
	}
	return nil
}

// checkClaimable rejects the PIDs whose process tree is not a job: init,
// whose tree is every process of the machine, and the agent itself.
func (a *Agent) checkClaimable(pid int) error {
	const fix = "give the PIDs of the job's own processes, or its cgroup or slurm_job_id"
	switch pid {
	case 1:
		return newRequestError(ErrProcessNotAllowed, "pid 1 is init, whose process tree is the whole machine, "+
			"so the job would claim the CPU energy of every process: %s", fix)
	case a.selfPID:
		return newRequestError(ErrProcessNotAllowed, "pid %d is the carbon-agent process itself, "+
			"not a job process: %s", pid, fix)
	}
	return nil
}

func (a *Agent) resolveGPUs(j *job) error {
	for _, ref := range j.spec.GPUs {
		i, ok := a.gpuByRef[strings.TrimSpace(ref)]
		if !ok {
			return newRequestError(ErrUnresolvable,
				"gpu %q not found on this node: give a device index or UUID from %s",
				ref, a.gpuRefList())
		}
		if !slices.Contains(j.gpus, i) {
			j.gpus = append(j.gpus, i)
		}
	}
	slices.Sort(j.gpus)
	j.cpuTracked = j.mode != TrackingGPU
	return nil
}

func (a *Agent) gpuRefList() string {
	var refs []string
	for _, c := range a.components {
		if c.Kind == sampler.KindGPU {
			refs = append(refs, strconv.Itoa(c.Index)+" ("+c.UUID+")")
		}
	}
	if len(refs) == 0 {
		return "the node's GPU list, which is empty"
	}
	return strings.Join(refs, ", ")
}

// admit checks that id can open now. The caller holds roundMu.
func (a *Agent) admit(id string) error {
	if a.isStopping() {
		return newRequestError(ErrShuttingDown, "agent is shutting down: start the job on the restarted agent")
	}
	if _, ok := a.open[id]; ok {
		return newRequestError(ErrJobConflict, "job %q is already open: end it first or choose another id", id)
	}
	if e, ok := a.ended[id]; ok {
		return newRequestError(ErrJobConflict,
			"job %q ended at %s and its id is kept for %s: choose another id",
			id, e.view.EndTime.Format(time.RFC3339), a.opts.JobRetention)
	}
	if len(a.open) >= a.opts.MaxOpenJobs {
		return newRequestError(ErrTooManyJobs,
			"%d jobs are open, the limit: end finished jobs before starting more", len(a.open))
	}
	return nil
}

func (a *Agent) isStopping() bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.stopping
}

// End ends an open job and returns its final report, which is also written
// to report.json in the job's report directory (see FinalReport). Ending a
// job twice fails with ErrJobConflict while the id is retained, and with
// ErrJobNotFound after.
func (a *Agent) End(id string) (FinalReport, error) {
	if err := validateID(id); err != nil {
		return FinalReport{}, err
	}
	a.roundMu.Lock()
	defer a.roundMu.Unlock()
	if a.isStopping() {
		// Shutdown closed the sources and checkpointed the job as open.
		return FinalReport{}, newRequestError(ErrShuttingDown,
			"agent is shutting down: end job %q on the restarted agent, which resumes it", id)
	}
	j, ok := a.open[id]
	if !ok {
		if e, ended := a.ended[id]; ended {
			return FinalReport{}, newRequestError(ErrJobConflict,
				"job %q already ended at %s: its report was returned then%s",
				id, e.view.EndTime.Format(time.RFC3339), reportHint(e.view.ReportPath))
		}
		return FinalReport{}, newRequestError(ErrJobNotFound,
			"job %q not found: list open jobs with GET /v1/jobs", id)
	}
	now := a.opts.Now()
	a.round(now)
	rep := a.endLocked(j, now)
	// Without this checkpoint, a crash before the next periodic one would
	// reopen the job that the API just reported as ended.
	a.saveCheckpoint(now)
	return rep, nil
}

func reportHint(path string) string {
	if path == "" {
		return ""
	}
	return " and written to " + path
}

// endLocked closes j after the round at now, writes its report and keeps
// its final counters for JobRetention. The caller holds roundMu.
func (a *Agent) endLocked(j *job, now time.Time) FinalReport {
	rep := a.buildReport(j, now, report.StatusEnded)
	path := a.writeReport(j, &rep)

	view := a.viewOpen(j, now)
	view.Status, view.EndTime, view.ReportPath = "ended", now, path
	e := &endedJob{view: view, kindJoules: a.kindTotals(j.energy, nil)}
	e.emissions = a.emissions(sumJoules(j.energy))

	a.mu.Lock()
	delete(a.open, j.spec.ID)
	a.openOrder = slices.DeleteFunc(a.openOrder, func(o *job) bool { return o == j })
	a.ended[j.spec.ID] = e
	a.endedOrder = append(a.endedOrder, e)
	a.pruneEnded(now)
	a.mu.Unlock()

	a.log.Info("job ended", zap.String("job_id", j.spec.ID),
		zap.Float64("energy_joules", float64(sumJoules(j.energy))), zap.String("report_path", path))
	return FinalReport{Report: rep, ReportDir: reportDirOf(path)}
}

// pruneEnded drops ended jobs older than JobRetention, and the oldest ones
// beyond MaxEndedJobs. The caller holds mu.
func (a *Agent) pruneEnded(now time.Time) {
	drop := 0
	for drop < len(a.endedOrder) {
		e := a.endedOrder[drop]
		if now.Sub(e.view.EndTime) < a.opts.JobRetention && len(a.endedOrder)-drop <= a.opts.MaxEndedJobs {
			break
		}
		delete(a.ended, e.view.ID)
		drop++
	}
	if drop > 0 {
		// Copy so that the dropped entries do not stay reachable from the
		// backing array.
		a.endedOrder = append([]*endedJob(nil), a.endedOrder[drop:]...)
	}
}

// Job returns the view of an open job, a retained ended job or, for
// IdleJobID, the idle pseudo job.
func (a *Agent) Job(id string) (JobView, error) {
	if id == IdleJobID {
		a.mu.RLock()
		defer a.mu.RUnlock()
		return a.viewIdle(), nil
	}
	if err := validateID(id); err != nil {
		return JobView{}, err
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	if j, ok := a.open[id]; ok {
		return a.viewOpen(j, a.opts.Now()), nil
	}
	if e, ok := a.ended[id]; ok {
		return e.view, nil
	}
	return JobView{}, newRequestError(ErrJobNotFound, "job %q not found: list open jobs with GET /v1/jobs", id)
}

// Jobs returns the open jobs in start order and the idle pseudo job.
func (a *Agent) Jobs() JobList {
	a.mu.RLock()
	defer a.mu.RUnlock()
	now := a.opts.Now()
	list := JobList{Jobs: make([]JobView, 0, len(a.openOrder)), Idle: a.viewIdle()}
	for _, j := range a.openOrder {
		list.Jobs = append(list.Jobs, a.viewOpen(j, now))
	}
	return list
}

// viewOpen builds the view of an open job. The caller holds roundMu or mu.
func (a *Agent) viewOpen(j *job, now time.Time) JobView {
	v := JobView{
		ID:              j.spec.ID,
		Status:          "open",
		TrackingMode:    j.mode,
		StartTime:       j.start,
		DurationSeconds: now.Sub(j.start).Seconds(),
		PIDs:            j.spec.PIDs,
		Cgroup:          j.cgroupDir,
		SlurmJobID:      j.spec.SlurmJobID,
	}
	if j.reportWritten {
		v.ReportPath = filepath.Join(j.reportDir, report.JSONFile)
	}
	for _, i := range j.gpus {
		c := a.components[i]
		v.GPUs = append(v.GPUs, GPURef{Index: c.Index, UUID: c.UUID, Name: c.Name})
	}
	a.fillEnergy(&v, j.energy)
	return v
}

func (a *Agent) viewIdle() JobView {
	v := JobView{ID: IdleJobID, Status: "idle"}
	a.fillEnergy(&v, a.idle)
	return v
}

func (a *Agent) fillEnergy(v *JobView, energy []units.Joules) {
	totals := a.kindTotals(energy, nil)
	v.EnergyJoules = make(map[string]float64, len(a.kinds))
	for s, k := range a.kinds {
		v.EnergyJoules[string(k)] = float64(totals[s])
	}
	total := sumJoules(energy)
	v.TotalEnergyJoules = float64(total)
	v.EmissionsGrams = float64(a.emissions(total))
}

// kindTotals sums per-component energy into dst, aligned with a.kinds.
func (a *Agent) kindTotals(energy []units.Joules, dst []units.Joules) []units.Joules {
	dst = slices.Grow(dst[:0], len(a.kinds))[:len(a.kinds)]
	clear(dst)
	for i, e := range energy {
		if s := a.kindSlot[i]; s >= 0 {
			dst[s] += e
		}
	}
	return dst
}

// emissions converts IT energy to CO2e with the site's PUE and intensity.
func (a *Agent) emissions(it units.Joules) units.GramsCO2e {
	facility := units.KWh(float64(it.KWh()) * a.opts.Site.PUE)
	return a.opts.Site.Intensity.Emissions(facility)
}

func sumJoules(energy []units.Joules) units.Joules {
	var total units.Joules
	for _, e := range energy {
		total += e
	}
	return total
}

func isDigits(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
