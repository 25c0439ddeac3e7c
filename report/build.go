// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package report

import (
	"strconv"
	"time"

	"github.com/carbonrun/carbonrun/internal/grid"
	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/sampler"
)

// Run is the job metadata that a report carries besides the energy totals.
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
// energies, facility energy is IT energy times PUE, and emissions are
// facility energy times the grid intensity. The site's intensity and PUE are
// added to the data sources.
func Build(run Run, totals []sampler.Total, elapsed time.Duration, site grid.Site) *Report {
	r := &Report{
		SchemaVersion:   SchemaVersion,
		Tool:            run.Tool,
		JobID:           run.JobID,
		Hostname:        run.Hostname,
		Command:         run.Command,
		Status:          run.Status,
		Complete:        run.Status != StatusIncomplete,
		ExitCode:        run.ExitCode,
		ChildSignal:     run.ChildSignal,
		StartTime:       run.Start.UTC().Round(time.Millisecond),
		EndTime:         run.End.UTC().Round(time.Millisecond),
		DurationSeconds: run.End.Sub(run.Start).Seconds(),
		TrackingMode:    run.TrackingMode,
		Region: Region{Code: site.Region.Code, Name: site.Region.Name, Source: site.Region.Source,
			Year: site.Region.Year},
		CarbonIntensityGPerKWh: float64(site.Intensity),
		IntensitySource:        site.IntensitySource,
		PUE:                    site.PUE,
		PUESource:              pueSource(site),
		GPUScope:               run.GPUScope,
		GPUNote:                run.GPUNote,
		CPUDomains:             run.CPUDomains,
		IgnoredDomains:         run.IgnoredDomains,
		Components:             []Component{},
		Warnings:               append([]string{}, run.Warnings...),
		DataSources:            append(append([]DataSource{}, run.DataSources...), siteSources(site)...),
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

// pueSource names where the PUE comes from, with the publication for a
// provider's figure.
func pueSource(site grid.Site) string {
	if site.PUEReference == "" {
		return site.PUESource
	}
	return site.PUESource + ": " + site.PUEReference
}

// siteSources lists the provenance of the grid intensity and the PUE.
func siteSources(site grid.Site) []DataSource {
	return []DataSource{
		intensitySource(site),
		{What: "PUE", Value: strconv.FormatFloat(site.PUE, 'g', 4, 64), Source: pueSource(site), Year: site.PUEYear},
	}
}

// intensitySource is the provenance row of the grid intensity. An override
// or a live value is not credited to the table that was not used.
func intensitySource(site grid.Site) DataSource {
	d := DataSource{What: "grid carbon intensity",
		Value:  strconv.FormatFloat(float64(site.Intensity), 'g', 6, 64) + " gCO2e/kWh (" + site.IntensitySource + ")",
		Source: site.Region.Source, Year: site.Region.Year}
	switch site.IntensitySource {
	case "override":
		d.Source, d.Year = "--carbon-intensity, given by the user", 0
	case "api":
		d.Source, d.Year = "grid intensity API, live value", 0
	}
	return d
}
