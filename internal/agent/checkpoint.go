// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/report"
	"github.com/carbonrun/carbonrun/sampler"
)

// CheckpointFile is the name of the checkpoint in the state directory.
const CheckpointFile = "agent-state.json"

// checkpointVersion changes when the checkpoint layout changes; a
// checkpoint of another version is ignored with a warning.
const checkpointVersion = 1

// checkpoint is the saved state of the open jobs, the retained ended jobs
// and the node counters. Per-component slices are aligned with Components,
// so a restart on a node whose sources changed maps what it can by
// component identity.
type checkpoint struct {
	Version    int               `json:"version"`
	SavedAt    time.Time         `json:"saved_at"`
	Components []componentKey    `json:"components"`
	NodeJoules []units.Joules    `json:"node_joules"`
	IdleJoules []units.Joules    `json:"idle_joules"`
	Jobs       []checkpointedJob `json:"jobs"`
	// Ended holds the ended jobs still within JobRetention, oldest end
	// first. Their series keep the node total equal to the jobs' and idle's
	// sum, and their ids stay rejected, across a restart. Checkpoints
	// written before this field existed have none.
	Ended []checkpointedEndedJob `json:"ended,omitempty"`
}

// checkpointedEndedJob is an ended job's final view as the API returned it:
// id, start and end time, energy per kind, emissions and report path.
type checkpointedEndedJob struct {
	View JobView `json:"view"`
}

type componentKey struct {
	Kind  sampler.Kind `json:"kind"`
	Name  string       `json:"name"`
	Index int          `json:"index"`
	UUID  string       `json:"uuid,omitempty"`
}

type checkpointedJob struct {
	Spec          JobSpec        `json:"spec"`
	Mode          string         `json:"mode"`
	CgroupDir     string         `json:"cgroup_dir,omitempty"`
	Start         time.Time      `json:"start"`
	GPUs          []int          `json:"gpus,omitempty"`
	GPURounds     []gpuRounds    `json:"gpu_rounds,omitempty"`
	EnergyJoules  []units.Joules `json:"energy_joules"`
	MachineJoules []units.Joules `json:"machine_joules"`
	MaxPowerWatts []units.Watts  `json:"max_power_watts"`
	Rounds        int            `json:"rounds"`
	CPUMissed     int            `json:"cpu_missed"`
	CPUScaled     int            `json:"cpu_scaled,omitempty"`
	Warnings      []string       `json:"warnings,omitempty"`
	// ReportDir is the directory of the job's report, set once a report
	// was written, such as at the shutdown before the restart.
	ReportDir string `json:"report_dir,omitempty"`
}

func keyOf(c sampler.Component) componentKey {
	return componentKey{Kind: c.Kind, Name: c.Name, Index: c.Index, UUID: c.UUID}
}

// checkpointLocked writes the checkpoint. The caller holds roundMu, which
// keeps every counter still.
func (a *Agent) checkpointLocked(now time.Time) error {
	if a.opts.StateDir == "" {
		return nil
	}
	cp := checkpoint{
		Version:    checkpointVersion,
		SavedAt:    now,
		NodeJoules: a.node,
		IdleJoules: a.idle,
		Jobs:       make([]checkpointedJob, 0, len(a.openOrder)),
	}
	for _, c := range a.components {
		cp.Components = append(cp.Components, keyOf(c))
	}
	for _, j := range a.openOrder {
		cp.Jobs = append(cp.Jobs, checkpointedJob{
			Spec: j.spec, Mode: j.mode, CgroupDir: j.cgroupDir, Start: j.start,
			GPUs: j.gpus, GPURounds: j.gpuRounds,
			EnergyJoules: j.energy, MachineJoules: j.machine, MaxPowerWatts: j.maxPower,
			Rounds: j.rounds, CPUMissed: j.cpuMissed, CPUScaled: j.cpuScaled, Warnings: j.warnings,
			ReportDir: j.reportDir,
		})
	}
	for _, e := range a.endedOrder {
		cp.Ended = append(cp.Ended, checkpointedEndedJob{View: e.view})
	}
	data, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("encoding checkpoint: %w", err)
	}
	if err := os.MkdirAll(a.opts.StateDir, 0o700); err != nil {
		return fmt.Errorf("creating state directory: %w", err)
	}
	if err := report.WriteFileAtomic(filepath.Join(a.opts.StateDir, CheckpointFile), data, 0o600); err != nil {
		return err
	}
	a.lastSaved = now
	return nil
}

// resume loads the checkpoint, if any, and reopens its jobs with their
// counters. A missing checkpoint is normal; an unreadable one is reported
// and skipped, so a damaged file never keeps the agent from starting.
func (a *Agent) resume() error {
	if a.opts.StateDir == "" {
		return nil
	}
	path := filepath.Join(a.opts.StateDir, CheckpointFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading checkpoint: %w", err)
	}
	var cp checkpoint
	if err := json.Unmarshal(data, &cp); err != nil || cp.Version != checkpointVersion {
		a.warn.Add("agent checkpoint unreadable or of another version, starting without its jobs",
			zap.String("path", path), zap.Int("version", cp.Version), zap.Error(err))
		return nil
	}

	index := make(map[componentKey]int, len(a.components))
	for i, c := range a.components {
		index[keyOf(c)] = i
	}
	remap := make([]int, len(cp.Components)) // checkpoint position -> component, or -1
	for p, key := range cp.Components {
		remap[p] = -1
		if i, ok := index[key]; ok {
			remap[p] = i
		}
	}
	restoreInto(a.node, cp.NodeJoules, remap)
	restoreInto(a.idle, cp.IdleJoules, remap)

	restart := a.opts.Now()
	for _, saved := range cp.Jobs {
		a.resumeJob(saved, remap, cp.SavedAt, restart)
	}
	for _, saved := range cp.Ended {
		a.restoreEndedJob(saved)
	}
	// pruneEnded drops from the front, so it needs the oldest end first.
	slices.SortStableFunc(a.endedOrder, func(x, y *endedJob) int {
		return x.view.EndTime.Compare(y.view.EndTime)
	})
	a.pruneEnded(restart)
	a.lastSaved = restart
	a.log.Info("resumed open jobs from checkpoint", zap.String("path", path), zap.Int("jobs", len(a.open)),
		zap.Int("ended_jobs_retained", len(a.endedOrder)), zap.Time("saved_at", cp.SavedAt))
	return nil
}

// restoreEndedJob keeps an ended job of the checkpoint until JobRetention
// after its end. Its energy per kind is mapped to this node's kinds by
// name, and energy of a kind the node no longer has is dropped.
func (a *Agent) restoreEndedJob(saved checkpointedEndedJob) {
	id := saved.View.ID
	if err := validateID(id); err != nil || a.open[id] != nil || a.ended[id] != nil {
		a.warn.Add("skipping an ended job of the checkpoint with an invalid or repeated id",
			zap.String("job_id", id))
		return
	}
	e := &endedJob{view: saved.View, kindJoules: make([]units.Joules, len(a.kinds))}
	for s, k := range a.kinds {
		e.kindJoules[s] = units.Joules(saved.View.EnergyJoules[string(k)])
	}
	e.emissions = units.GramsCO2e(saved.View.EmissionsGrams)
	a.ended[id] = e
	a.endedOrder = append(a.endedOrder, e)
}

func (a *Agent) resumeJob(saved checkpointedJob, remap []int, savedAt, restart time.Time) {
	if err := validateID(saved.Spec.ID); err != nil || a.open[saved.Spec.ID] != nil {
		a.warn.Add("skipping a job of the checkpoint with an invalid or repeated id",
			zap.String("job_id", saved.Spec.ID))
		return
	}
	n := len(a.components)
	j := &job{
		spec: saved.Spec, mode: saved.Mode, cgroupDir: saved.CgroupDir, start: saved.Start,
		cpuTracked: saved.Mode != TrackingGPU,
		energy:     make([]units.Joules, n), machine: make([]units.Joules, n),
		maxPower: make([]units.Watts, n), rounds: saved.Rounds, cpuMissed: saved.CPUMissed,
		cpuScaled: saved.CPUScaled, warnings: saved.Warnings, reportDir: saved.ReportDir,
	}
	if filepath.Dir(saved.ReportDir) != filepath.Clean(a.opts.ReportDir) {
		// The agent restarted with another --report-dir: the job's report
		// moves there, to a directory of its own.
		j.reportDir = ""
	}

	if j.reportDir != "" {
		// A directory is reserved before its first write, which may have
		// failed, so only a report.json there shows that one was written.
		_, err := os.Stat(filepath.Join(j.reportDir, report.JSONFile))
		j.reportWritten = err == nil
	}

	restoreInto(j.energy, saved.EnergyJoules, remap)
	restoreInto(j.machine, saved.MachineJoules, remap)
	restoreInto(j.maxPower, saved.MaxPowerWatts, remap)
	for k, p := range saved.GPUs {
		if p < 0 || p >= len(remap) || remap[p] < 0 {
			j.warnings = append(j.warnings, "a GPU of this job was missing after the agent restarted")
			continue
		}
		j.gpus = append(j.gpus, remap[p])
		var r gpuRounds
		if k < len(saved.GPURounds) {
			r = saved.GPURounds[k]
		}
		j.gpuRounds = append(j.gpuRounds, r)
	}
	j.warnings = append(j.warnings, fmt.Sprintf("the agent restarted: energy between its checkpoint at %s "+
		"and its restart at %s is not counted", savedAt.Format(time.RFC3339), restart.Format(time.RFC3339)))
	a.open[j.spec.ID] = j
	a.openOrder = append(a.openOrder, j)
}

// restoreInto copies saved values to their current component positions.
func restoreInto[T ~float64](dst, saved []T, remap []int) {
	for p, v := range saved {
		if p < len(remap) && remap[p] >= 0 {
			dst[remap[p]] = v
		}
	}
}
