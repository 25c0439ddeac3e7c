// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/carbonrun/carbonrun/internal/grid"
	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/report"
	"github.com/carbonrun/carbonrun/sampler"
)

// Defaults for the zero values of Options. Starts and ends are checkpointed
// at once. The periodic checkpoint only saves counters, so a crash loses at
// most DefaultCheckpointInterval of energy, the same bound as carbon-run's.
const (
	DefaultInterval           = time.Second
	DefaultCheckpointInterval = 30 * time.Second
	DefaultJobRetention       = 5 * time.Minute
	DefaultMaxOpenJobs        = 4096
	DefaultMaxEndedJobs       = 4096
)

// CPUTimer reads cumulative CPU time, the basis of the CPU energy split.
type CPUTimer interface {
	// TreeCPUTime returns the CPU time used so far by pids and their
	// descendants.
	TreeCPUTime(pids []int) (time.Duration, error)
	// CgroupCPUTime returns the CPU time used so far by the processes of
	// the cgroup directory cgroupDir.
	CgroupCPUTime(cgroupDir string) (time.Duration, error)
	// MachineCPUTime returns the busy CPU time of the whole machine,
	// summed over all CPUs.
	MachineCPUTime() (time.Duration, error)
}

// ProcessTable finds the processes of a job.
type ProcessTable interface {
	// Exists reports whether a process with this PID exists.
	Exists(pid int) bool
	// TreePIDs returns pids and their live descendants.
	TreePIDs(pids []int) ([]int, error)
	// CgroupPIDs returns the processes of the cgroup directory cgroupDir.
	CgroupPIDs(cgroupDir string) ([]int, error)
}

// GPUShareReader returns each process's share of a GPU's utilisation,
// keyed by PID. Without one, a GPU claimed by several jobs is split equally.
type GPUShareReader interface {
	GPUShares(index int) (map[uint32]float64, error)
}

// DomainReporter reports whether each energy domain of a source could be
// read in the last round, keyed by domain name. The RAPL source implements
// it.
type DomainReporter interface {
	DomainUp() map[string]bool
}

// NamedSource is a source with a name of its own for the per-source error
// counter. Sources without a Name method are named after their Go package.
type NamedSource interface {
	Name() string
}

// Options configures an Agent.
type Options struct {
	// Sources are the node's energy sources. The agent owns them and closes
	// them in Shutdown.
	Sources []sampler.Source
	// CPU reads CPU times. Nil leaves every job's CPU share at zero, so all
	// CPU, DRAM and RAM energy is reported as idle.
	CPU CPUTimer
	// Processes finds job processes; nil means ProcFS{Root: ProcfsRoot}.
	Processes ProcessTable
	// GPUShares splits shared GPUs; nil means the first source that
	// implements GPUShareReader, if any.
	GPUShares GPUShareReader
	// SysfsRoot and ProcfsRoot are the sysfs and procfs mount points;
	// empty means /sys and /proc.
	SysfsRoot  string
	ProcfsRoot string
	// Site gives the carbon intensity and PUE.
	Site grid.Site
	// ReportDir receives <job-id>/report.json for every ended job; empty
	// writes no files.
	ReportDir string
	// StateDir holds the checkpoint of open jobs; empty disables
	// checkpoints and resume.
	StateDir string
	// Interval is the time between sampling rounds.
	Interval time.Duration
	// CheckpointInterval is the least time between two checkpoints.
	CheckpointInterval time.Duration
	// JobRetention is how long an ended job's series and id stay.
	JobRetention time.Duration
	// MaxOpenJobs and MaxEndedJobs bound the job maps.
	MaxOpenJobs  int
	MaxEndedJobs int
	// Now returns the current time with a monotonic reading; nil means
	// time.Now.
	Now func() time.Time
	// NewTicker returns the channel that drives Run and a function that
	// stops it; nil means a time.Ticker.
	NewTicker func(d time.Duration) (<-chan time.Time, func())
	// Log receives startup, shutdown and degraded-operation messages.
	Log *zap.Logger
	// Warn collects warnings for reports; nil means a new collector on Log.
	Warn *sampler.Warnings
	// DataSources gives the provenance of the sources' estimates, such as a
	// CPU TDP or the memory power per GB, for every job report.
	DataSources []report.DataSource
	// Version and Hostname go into reports.
	Version  string
	Hostname string
	// GPUScope, GPUNote, CPUDomains and IgnoredDomains describe the node's
	// sources and are copied into reports.
	GPUScope       string
	GPUNote        string
	CPUDomains     []string
	IgnoredDomains []string
}

// Agent runs the node's sampling loop and keeps the open jobs' energy. Its
// methods are safe for concurrent use.
type Agent struct {
	opts       Options
	log        *zap.Logger
	warn       *sampler.Warnings
	sources    []*countedSource
	sampler    *sampler.Sampler
	components []sampler.Component
	// kindSlot maps each component to its position in kinds.
	kinds    []sampler.Kind
	kindSlot []int
	gpuByRef map[string]int
	// selfPID is the agent's own PID as seen in ProcfsRoot.
	selfPID int

	// roundMu serialises rounds, job starts and job ends, and guards the
	// sampler and the per-round scratch state. Holders take mu to change
	// anything that readers see.
	roundMu   sync.Mutex
	scratch   roundScratch
	lastSaved time.Time
	lastRound time.Time
	sampled   bool
	// longestRound is the longest round so far, at most Interval.
	longestRound time.Duration
	cpuPrev      time.Duration
	cpuPrevOK    bool
	domainSeen   map[string]bool

	mu         sync.RWMutex
	node       []units.Joules
	power      []units.Watts
	idle       []units.Joules
	open       map[string]*job
	openOrder  []*job
	ended      map[string]*endedJob
	endedOrder []*endedJob
	domainUp   map[string]bool
	rounds     roundStats
	stopping   bool
}

// New returns an Agent over the sources in opts and resumes the open jobs
// of the checkpoint in opts.StateDir, if there is one. It logs each of
// opts.Site.Warnings once at Warn level; reports carry them too.
func New(opts Options) (*Agent, error) {
	opts = withDefaults(opts)
	a := &Agent{
		opts:       opts,
		log:        opts.Log,
		warn:       opts.Warn,
		selfPID:    selfPID(opts.ProcfsRoot),
		open:       make(map[string]*job),
		ended:      make(map[string]*endedJob),
		domainUp:   make(map[string]bool),
		domainSeen: make(map[string]bool),
		gpuByRef:   make(map[string]int),
		rounds:     newRoundStats(),
	}
	plain := make([]sampler.Source, 0, len(opts.Sources))
	for _, src := range opts.Sources {
		c := &countedSource{Source: src, name: sourceName(src)}
		a.sources = append(a.sources, c)
		plain = append(plain, c)
		a.components = append(a.components, src.Components()...)
		if a.opts.GPUShares == nil {
			if r, ok := src.(GPUShareReader); ok {
				a.opts.GPUShares = r
			}
		}
	}
	a.sampler = sampler.New(plain, nil, a.warn)
	a.indexComponents()
	for _, w := range opts.Site.Warnings {
		a.log.Warn(w)
	}

	if err := a.resume(); err != nil {
		return nil, err
	}
	return a, nil
}

func withDefaults(opts Options) Options {
	if opts.SysfsRoot == "" {
		opts.SysfsRoot = "/sys"
	}
	if opts.ProcfsRoot == "" {
		opts.ProcfsRoot = "/proc"
	}
	if opts.Processes == nil {
		opts.Processes = ProcFS{Root: opts.ProcfsRoot}
	}

	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = DefaultCheckpointInterval
	}
	if opts.JobRetention <= 0 {
		opts.JobRetention = DefaultJobRetention
	}
	if opts.MaxOpenJobs <= 0 {
		opts.MaxOpenJobs = DefaultMaxOpenJobs
	}
	if opts.MaxEndedJobs <= 0 {
		opts.MaxEndedJobs = DefaultMaxEndedJobs
	}

	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewTicker == nil {
		opts.NewTicker = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}

	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	if opts.Warn == nil {
		opts.Warn = sampler.NewWarnings(opts.Log)
	}
	if opts.Hostname == "" {
		opts.Hostname, _ = os.Hostname()
	}
	if opts.Site.PUE < 1 {
		opts.Site.PUE = 1
	}
	return opts
}

// selfPID returns the agent's PID in the PID namespace of the procfs at
// root, which differs from os.Getpid when the agent reads a host procfs
// from a container. It falls back to os.Getpid when root has no self link.
func selfPID(root string) int {
	target, err := os.Readlink(filepath.Join(root, "self"))
	if err == nil {
		if pid, err := strconv.Atoi(target); err == nil {
			return pid
		}
	}
	return os.Getpid()
}

// indexComponents fills the kind slots and the GPU lookup by index and UUID.
func (a *Agent) indexComponents() {
	n := len(a.components)
	a.node = make([]units.Joules, n)
	a.power = make([]units.Watts, n)
	a.idle = make([]units.Joules, n)
	a.kindSlot = make([]int, n)
	for _, k := range []sampler.Kind{sampler.KindGPU, sampler.KindCPU, sampler.KindDRAM, sampler.KindRAM} {
		for _, c := range a.components {
			if c.Kind == k {
				a.kinds = append(a.kinds, k)
				break
			}
		}
	}
	for i, c := range a.components {
		a.kindSlot[i] = -1
		for s, k := range a.kinds {
			if c.Kind == k {
				a.kindSlot[i] = s
			}
		}
		if c.Kind == sampler.KindGPU {
			a.gpuByRef[fmt.Sprint(c.Index)] = i
			if c.UUID != "" {
				a.gpuByRef[c.UUID] = i
			}
		}
	}
	a.scratch = newRoundScratch(n)
}

// Run samples every Interval until ctx is done. It takes one baseline round
// first. Call Shutdown after Run returns to report and checkpoint the open
// jobs.
func (a *Agent) Run(ctx context.Context) error {
	ticks, stop := a.opts.NewTicker(a.opts.Interval)
	defer stop()
	a.Sample()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticks:
			a.Sample()
		}
	}
}

// Sample runs one sampling round at Options.Now and writes a checkpoint
// when CheckpointInterval has passed since the last one. Run calls it on
// every tick; tests call it directly.
func (a *Agent) Sample() {
	a.roundMu.Lock()
	defer a.roundMu.Unlock()
	now := a.opts.Now()
	a.round(now)
	if now.Sub(a.lastSaved) >= a.opts.CheckpointInterval {
		a.saveCheckpoint(now)
	}
}

// saveCheckpoint writes the checkpoint if StateDir is set. A failure is a
// warning: the agent keeps measuring, but a restart would lose the jobs
// opened since the last checkpoint. The caller holds roundMu.
func (a *Agent) saveCheckpoint(now time.Time) {
	if a.opts.StateDir == "" {
		return
	}
	if err := a.checkpointLocked(now); err != nil {
		a.warn.Add("writing the agent checkpoint failed, a restart would lose open jobs",
			zap.Error(err))
	}
}

// Checkpoint writes the open jobs and their counters to the state
// directory now.
func (a *Agent) Checkpoint() error {
	a.roundMu.Lock()
	defer a.roundMu.Unlock()
	return a.checkpointLocked(a.opts.Now())
}

// Shutdown takes a last round, writes every open job's report with status
// ended_by_shutdown, checkpoints the jobs and closes the sources. The jobs
// stay open in the checkpoint: an agent restarted on the same StateDir
// resumes them, and their end rewrites the same report with status ended.
// The shutdown report keeps the energy measured so far if no agent comes
// back. Job requests after Shutdown fail with ErrShuttingDown.
func (a *Agent) Shutdown() error {
	a.roundMu.Lock()
	defer a.roundMu.Unlock()
	a.mu.Lock()
	if a.stopping {
		a.mu.Unlock()
		return nil
	}
	a.stopping = true
	a.mu.Unlock()

	now := a.opts.Now()
	a.round(now)
	var errs []error
	for _, j := range a.openOrder {
		a.writeShutdownReport(j, now)
	}
	if a.opts.StateDir != "" {
		if err := a.checkpointLocked(now); err != nil {
			errs = append(errs, err)
		}
	}
	if err := a.sampler.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing energy sources: %w", err))
	}
	a.log.Info("agent stopped", zap.Int("jobs_open", len(a.openOrder)),
		zap.Bool("jobs_checkpointed", a.opts.StateDir != ""))
	return errors.Join(errs...)
}

// writeShutdownReport writes j's report as of now with status
// ended_by_shutdown, and leaves j open. The caller holds roundMu.
func (a *Agent) writeShutdownReport(j *job, now time.Time) {
	rep := a.buildReport(j, now, report.StatusShutdown)
	if a.opts.StateDir != "" {
		rep.Warnings = append(rep.Warnings, "the agent shut down while the job was open: this report "+
			"covers the job until then, and an agent restarted on the same state directory resumes "+
			"the job and rewrites this report when the job ends")
	}
	path := a.writeReport(j, &rep)
	a.log.Info("job report written at shutdown", zap.String("job_id", j.spec.ID),
		zap.Float64("energy_joules", float64(sumJoules(j.energy))), zap.String("report_path", path))
}
