// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package report

import (
	"time"

	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/sampler"
)

// Site is the grid and facility that a run's energy is charged to.
type Site struct {
	Region          Region
	Intensity       units.GramsPerKWh
	IntensitySource string // table, api, override or fallback
	PUE             float64
	PUESource       string
}

// Run is what a job contributes to its report besides the energy totals.
type Run struct {
	Tool           Tool
	JobID          string
	Hostname       string
	Command        []string
	Status         Status
	ExitCode       *int
	ChildSignal    string
	Start          time.Time
	End            time.Time
	TrackingMode   string
	GPUScope       string
	GPUNote        string
	CPUDomains     []string
	IgnoredDomains []string
	Warnings       []string
	DataSources    []DataSource
}

// Build assembles a report from a run, the sampler's totals over elapsed
// time and the site. IT energy is the sum of the attributed component
// energies; facility energy is IT energy times PUE; emissions are facility
// energy times the grid intensity.
func Build(run Run, totals []sampler.Total, elapsed time.Duration, site Site) *Report {
	r := &Report{
		SchemaVersion:          SchemaVersion,
		Tool:                   run.Tool,
		JobID:                  run.JobID,
		Hostname:               run.Hostname,
		Command:                run.Command,
		Status:                 run.Status,
		Complete:               run.Status != StatusIncomplete,
		ExitCode:               run.ExitCode,
		ChildSignal:            run.ChildSignal,
		StartTime:              run.Start.UTC().Round(time.Millisecond),
		EndTime:                run.End.UTC().Round(time.Millisecond),
		DurationSeconds:        run.End.Sub(run.Start).Seconds(),
		TrackingMode:           run.TrackingMode,
		Region:                 site.Region,
		CarbonIntensityGPerKWh: float64(site.Intensity),
		IntensitySource:        site.IntensitySource,
		PUE:                    site.PUE,
		PUESource:              site.PUESource,
		GPUScope:               run.GPUScope,
		GPUNote:                run.GPUNote,
		CPUDomains:             run.CPUDomains,
		IgnoredDomains:         run.IgnoredDomains,
		Components:             []Component{},
		Warnings:               append([]string{}, run.Warnings...),
		DataSources:            run.DataSources,
	}

	var it, machine, measured units.Joules
	for _, t := range totals {
		r.Components = append(r.Components, component(t, elapsed))
		it += t.Energy
		machine += t.MachineEnergy
		if t.Method.Measured() {
			measured += t.Energy
		}
	}
	r.ITEnergyKWh = float64(it.KWh())
	r.MachineEnergyKWh = float64(machine.KWh())
	r.MeasuredEnergyKWh = float64(measured.KWh())
	r.EstimatedEnergyKWh = float64((it - measured).KWh())
	facility := units.KWh(r.ITEnergyKWh * site.PUE)
	r.FacilityEnergyKWh = float64(facility)
	r.EmissionsKg = site.Intensity.Emissions(facility).Kilograms()
	return r
}

func component(t sampler.Total, elapsed time.Duration) Component {
	return Component{
		Kind:             string(t.Kind),
		Name:             t.Name,
		Index:            t.Index,
		UUID:             t.UUID,
		Method:           string(t.Method),
		Detail:           t.Detail,
		EnergyJoules:     float64(t.Energy),
		EnergyKWh:        float64(t.Energy.KWh()),
		MachineEnergyKWh: float64(t.MachineEnergy.KWh()),
		MeanPowerWatts:   float64(t.Energy.Per(elapsed)),
		MaxPowerWatts:    float64(t.MaxPower),
	}
}
