// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"fmt"
	"path/filepath"
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
	return warnings
}

// writeReport writes rep to ReportDir/<job-id>/report.json and returns the
// path, or "" when ReportDir is empty or the write failed. A failure is
// logged and added to the report's warnings, so the report returned over
// the API still explains why no file exists.
func (a *Agent) writeReport(rep *report.Report) string {
	if a.opts.ReportDir == "" {
		return ""
	}
	// The job id was validated, so it is a single path element.
	dir := filepath.Join(a.opts.ReportDir, rep.JobID)
	if err := rep.Write(dir); err != nil {
		a.log.Error("writing job report failed", zap.String("job_id", rep.JobID),
			zap.String("report_dir", dir), zap.Error(err))
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("writing the report to %s failed: %v", dir, err))
		return ""
	}
	return filepath.Join(dir, report.JSONFile)
}
