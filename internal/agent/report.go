// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/carbonrun/carbonrun/report"
	"github.com/carbonrun/carbonrun/sampler"
)

// ToolName is the tool name written into agent reports.
const ToolName = "carbon-agent"

// GPUScopeJob is the gpu_scope of agent reports: the GPUs named in the job
// request, with shared GPUs split between jobs.
const GPUScopeJob = "job_gpus"

// buildReport returns j's final report after the round at now. The caller
// holds roundMu.
func (a *Agent) buildReport(j *job, now time.Time, status report.Status) report.Report {
	var totals []sampler.Total
	for i, c := range a.components {
		detail, ok := a.attribution(j, i)
		if !ok {
			continue
		}
		c.Detail = detail
		totals = append(totals, sampler.Total{Component: c, Energy: j.energy[i],
			MachineEnergy: j.machine[i], MaxPower: j.maxPower[i]})
	}
	run := report.Run{
		Tool:           report.Tool{Name: ToolName, Version: a.opts.Version},
		JobID:          j.spec.ID,
		Hostname:       a.opts.Hostname,
		Status:         status,
		Start:          j.start,
		End:            now,
		TrackingMode:   j.mode,
		GPUScope:       GPUScopeJob,
		GPUNote:        a.opts.GPUNote,
		CPUDomains:     a.opts.CPUDomains,
		IgnoredDomains: a.opts.IgnoredDomains,
		Warnings:       a.reportWarnings(j),
		DataSources:    a.opts.DataSources,
	}
	return *report.Build(run, totals, now.Sub(j.start), a.opts.Site)
}

// attribution returns the detail of component i in j's report: the
// source's own detail and how the agent split the component between jobs.
// ok is false for components that j has no part in.
func (a *Agent) attribution(j *job, i int) (string, bool) {
	c := a.components[i]
	var split string
	switch {
	case c.Kind == sampler.KindGPU:
		pos := -1
		for p, g := range j.gpus {
			if g == i {
				pos = p
			}
		}
		if pos < 0 {
			return "", false
		}
		split = gpuAttribution(j.gpuRounds[pos])
	case j.cpuTracked:
		split = "split by the job's CPU time over the machine's busy CPU time"
	default:
		return "", false
	}
	if c.Detail == "" {
		return split, true
	}
	return c.Detail + "; " + split, true
}

func gpuAttribution(r gpuRounds) string {
	shared := r.ByUtil + r.Equal
	if shared == 0 {
		return "whole device: no other job claimed it"
	}
	return fmt.Sprintf("shared with other jobs in %d of %d rounds, split by the jobs' processes' "+
		"share of device utilisation in %d and equally (no per-process utilisation) in %d",
		shared, shared+r.Alone, r.ByUtil, r.Equal)
}

func (a *Agent) reportWarnings(j *job) []string {
	warnings := append([]string{}, a.opts.Site.Warnings...)
	warnings = append(warnings, a.warn.List()...)
	warnings = append(warnings, j.warnings...)
	if j.cpuMissed > 0 {
		warnings = append(warnings, fmt.Sprintf("the job's CPU time was unreadable in %d of %d rounds "+
			"(its processes may have exited); those rounds charge it no CPU energy", j.cpuMissed, j.rounds))
	}
	if j.cpuScaled > 0 {
		warnings = append(warnings, fmt.Sprintf("in %d of %d rounds the open jobs' CPU times added up "+
			"to more than the machine's busy CPU time, so every job's CPU share was scaled down in "+
			"proportion. This happens when a job measured as a whole, such as a cgroup job, shares "+
			"processes with another job, because its CPU time cannot be split per process",
			j.cpuScaled, j.rounds))
	}
	return warnings
}

// writeReport writes rep to j's report directory and returns the path of
// its report.json, or "" when ReportDir is empty or the write failed. The
// first write picks the directory (see pickReportDir) and reserves it for
// j at once, even when the write then fails. Later writes of the same job,
// such as its end after a report at shutdown, replace the report there. A
// failure is logged and added to the report's warnings, so the report
// returned over the API still explains why no file exists. The caller
// holds roundMu.
func (a *Agent) writeReport(j *job, rep *report.Report) string {
	if a.opts.ReportDir == "" {
		return ""
	}
	if j.reportDir == "" {
		if err := a.reserveReportDir(j, rep); err != nil {
			a.log.Error("choosing job report directory failed", zap.String("job_id", j.spec.ID),
				zap.String("report_dir", a.opts.ReportDir), zap.Error(err))
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("writing the report failed: %v", err))
			return ""
		}
		// Record the reservation before the report exists: after a crash
		// between the two, the resumed job rewrites this report instead of
		// writing a second one beside it.
		a.saveCheckpoint(a.opts.Now())
	}

	dir := j.reportDir
	if err := rep.Write(dir); err != nil {
		a.log.Error("writing job report failed", zap.String("job_id", rep.JobID),
			zap.String("report_dir", dir), zap.Error(err))
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("writing the report to %s failed: %v", dir, err))
		return ""
	}
	// The agent keeps no samples per job, so the page has no power chart.
	page, err := rep.HTML(nil)
	if err == nil {
		err = report.WriteFileAtomic(filepath.Join(dir, report.HTMLFile), page, 0o644)
	}
	if err != nil {
		a.log.Warn("writing job report.html failed, report.json is complete",
			zap.String("job_id", rep.JobID), zap.Error(err))
	}

	a.mu.Lock()
	j.reportWritten = true
	a.mu.Unlock()
	return filepath.Join(dir, report.JSONFile)
}

// reserveReportDir picks j's report directory and sets j.reportDir, so
// that other jobs skip it from now on. When the directory is not
// ReportDir/<id>, it adds the reason to rep's warnings and to j's, because
// later writes rebuild the report from j. The caller holds roundMu.
func (a *Agent) reserveReportDir(j *job, rep *report.Report) error {
	dir, err := a.pickReportDir(j)
	if err != nil {
		return err
	}
	a.mu.Lock()
	j.reportDir = dir
	a.mu.Unlock()
	if filepath.Base(dir) == j.spec.ID {
		return nil
	}
	natural := filepath.Join(a.opts.ReportDir, j.spec.ID)
	moved := fmt.Sprintf("an earlier job with id %q left its report in %s, so this job's report "+
		"is written to %s", j.spec.ID, natural, dir)
	if a.reportDirTaken(j, natural) {
		moved = fmt.Sprintf("another open job writes its report to %s, so this job's report "+
			"is written to %s", natural, dir)
	}
	rep.Warnings = append(rep.Warnings, moved)
	j.warnings = append(j.warnings, moved)
	a.log.Warn("job report directory is taken, writing to a new directory",
		zap.String("job_id", j.spec.ID), zap.String("report_dir", dir))
	return nil
}

// pickReportDir returns ReportDir/<id> for j's first report, or, when an
// earlier job with the same id left a report.json there, the first of
// <id>.2, <id>.3, ... that holds none, as carbon-run does. Directories
// that other open jobs reserved or will pick are skipped too, because
// their report may not be written yet. Job ids are validated, so the name
// is one path element. The caller holds roundMu.
func (a *Agent) pickReportDir(j *job) (string, error) {
	for n := 1; ; n++ {
		name := j.spec.ID
		if n > 1 {
			name = j.spec.ID + "." + strconv.Itoa(n)
		}
		dir := filepath.Join(a.opts.ReportDir, name)
		if a.reportDirTaken(j, dir) {
			continue
		}
		_, err := os.Stat(filepath.Join(dir, report.JSONFile))
		if errors.Is(err, fs.ErrNotExist) {
			return dir, nil
		}
		if err != nil {
			return "", fmt.Errorf("checking report directory %s: %w", dir, err)
		}
	}
}

// reportDirTaken reports whether an open job other than j reserved dir, or
// has reserved none yet and has dir as its default ReportDir/<id>. The
// second case keeps job "x" from taking x.2 while a job with id "x.2" is
// open. The caller holds roundMu.
func (a *Agent) reportDirTaken(j *job, dir string) bool {
	for _, other := range a.openOrder {
		if other == j {
			continue
		}
		if other.reportDir == dir {
			return true
		}
		if other.reportDir == "" && filepath.Join(a.opts.ReportDir, other.spec.ID) == dir {
			return true
		}
	}
	return false
}

// reportDirOf returns the directory of a report.json path, or "" for "".
func reportDirOf(path string) string {
	if path == "" {
		return ""
	}
	return filepath.Dir(path)
}
