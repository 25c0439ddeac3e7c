// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/carbonrun/carbonrun/internal/units"
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
	site := a.opts.Site
	rep := report.Report{
		SchemaVersion:          report.SchemaVersion,
		Tool:                   report.Tool{Name: ToolName, Version: a.opts.Version},
		JobID:                  j.spec.ID,
		Hostname:               a.opts.Hostname,
		Status:                 status,
		Complete:               true,
		StartTime:              j.start,
		EndTime:                now,
		DurationSeconds:        now.Sub(j.start).Seconds(),
		TrackingMode:           j.mode,
		Region:                 report.Region{Code: site.RegionCode, Name: site.RegionName, Source: site.RegionSource, Year: site.RegionYear},
		CarbonIntensityGPerKWh: float64(site.Intensity),
		IntensitySource:        site.IntensitySource,
		PUE:                    site.PUE,
		PUESource:              site.PUESource,
		GPUScope:               GPUScopeJob,
		GPUNote:                a.opts.GPUNote,
		CPUDomains:             a.opts.CPUDomains,
		IgnoredDomains:         a.opts.IgnoredDomains,
		Components:             []report.Component{},
		DataSources:            a.dataSources(),
	}

	duration := now.Sub(j.start)
	var it, machine, measured, estimated units.Joules
	for i, c := range a.components {
		detail, ok := a.attribution(j, i)
		if !ok {
			continue
		}
		rep.Components = append(rep.Components, componentReport(c, detail, j.energy[i], j.machine[i],
			j.maxPower[i], duration))
		it += j.energy[i]
		machine += j.machine[i]
		if c.Method.Measured() {
			measured += j.energy[i]
		} else {
			estimated += j.energy[i]
		}
	}

	rep.ITEnergyKWh = float64(it.KWh())
	rep.MachineEnergyKWh = float64(machine.KWh())
	rep.FacilityEnergyKWh = rep.ITEnergyKWh * site.PUE
	rep.EmissionsKg = a.emissions(it).Kilograms()
	rep.MeasuredEnergyKWh = float64(measured.KWh())
	rep.EstimatedEnergyKWh = float64(estimated.KWh())
	rep.Warnings = a.reportWarnings(j)
	return rep
}

func componentReport(c sampler.Component, detail string, energy, machine units.Joules,
	maxPower units.Watts, duration time.Duration) report.Component {
	return report.Component{
		Kind:             string(c.Kind),
		Name:             c.Name,
		Index:            c.Index,
		UUID:             c.UUID,
		Method:           string(c.Method),
		Detail:           detail,
		EnergyJoules:     float64(energy),
		EnergyKWh:        float64(energy.KWh()),
		MachineEnergyKWh: float64(machine.KWh()),
		MeanPowerWatts:   float64(energy.Per(duration)),
		MaxPowerWatts:    float64(maxPower),
	}
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

func (a *Agent) dataSources() []report.DataSource {
	site := a.opts.Site
	pueSource := site.PUESource
	if site.PUEReference != "" {
		pueSource = site.PUEReference
	}
	return []report.DataSource{
		{
			What:   "carbon intensity",
			Value:  strconv.FormatFloat(float64(site.Intensity), 'g', -1, 64) + " g/kWh",
			Source: site.RegionSource,
			Year:   site.RegionYear,
		},
		{
			What:   "PUE",
			Value:  strconv.FormatFloat(site.PUE, 'g', -1, 64),
			Source: pueSource,
			Year:   site.PUEYear,
		},
	}
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
	path := filepath.Join(a.opts.ReportDir, rep.JobID, "report.json")
	err := os.MkdirAll(filepath.Dir(path), 0o755)
	if err == nil {
		var data []byte
		data, err = json.MarshalIndent(rep, "", "  ")
		if err == nil {
			err = writeFileAtomic(path, append(data, '\n'), 0o644)
		}
	}
	if err != nil {
		a.log.Error("writing job report failed", zap.String("job_id", rep.JobID),
			zap.String("path", path), zap.Error(err))
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("writing %s failed: %v", path, err))
		return ""
	}
	return path
}

// writeFileAtomic writes data to a temporary file in path's directory and
// renames it over path, so readers see the old file or the whole new one.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating temporary file for %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("syncing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("setting mode of %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", tmp.Name(), path, err)
	}
	return nil
}
