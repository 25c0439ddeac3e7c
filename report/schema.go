// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package report

import "time"

// SchemaVersion is the version of the report.json layout. It changes when a
// field is renamed or removed; added fields keep the version.
const SchemaVersion = 1

// Status is the way a run ended.
type Status string

// Run statuses.
const (
	// StatusIncomplete marks a checkpoint written while the run goes on.
	StatusIncomplete Status = "incomplete"
	// StatusCompleted means the command exited by itself, with any exit code.
	StatusCompleted Status = "completed"
	// StatusTerminated means carbon-run received SIGINT or SIGTERM and
	// forwarded it to the command.
	StatusTerminated Status = "terminated"
	// StatusChildKilled means the command died of a signal that carbon-run
	// did not send, such as the kernel's OOM killer.
	StatusChildKilled Status = "child_killed"
	// StatusShutdown means the agent ended the job because it shut down.
	StatusShutdown Status = "ended_by_shutdown"
	// StatusEnded means the job was ended through the agent's job API.
	StatusEnded Status = "ended"
)

// Report is the per-job energy and emissions report, written as report.json.
// Every energy figure carries its unit in its name, and every component
// carries the method that produced it.
type Report struct {
	SchemaVersion int    `json:"schema_version"`
	Tool          Tool   `json:"tool"`
	JobID         string `json:"job_id"`
	Hostname      string `json:"hostname,omitempty"`
	// Hostnames lists every node of a merged report.
	Hostnames []string `json:"hostnames,omitempty"`
	Command   []string `json:"command,omitempty"`

	Status Status `json:"status"`
	// Complete is false in checkpoints written while the run goes on.
	Complete bool `json:"complete"`
	// ExitCode is the command's exit code, or 128+N when signal N killed it;
	// nil while the command runs and for agent jobs.
	ExitCode    *int   `json:"exit_code"`
	ChildSignal string `json:"child_signal,omitempty"`

	StartTime       time.Time `json:"start_time"`
	EndTime         time.Time `json:"end_time"`
	DurationSeconds float64   `json:"duration_seconds"`
	TrackingMode    string    `json:"tracking_mode"`

	Region                 Region   `json:"region"`
	CarbonIntensityGPerKWh float64  `json:"carbon_intensity_g_per_kwh"`
	IntensitySource        string   `json:"intensity_source"`
	PUE                    float64  `json:"pue"`
	PUESource              string   `json:"pue_source"`
	ITEnergyKWh            float64  `json:"it_energy_kwh"`
	MachineEnergyKWh       float64  `json:"machine_energy_kwh"`
	FacilityEnergyKWh      float64  `json:"facility_energy_kwh"`
	EmissionsKg            float64  `json:"emissions_kg"`
	MeasuredEnergyKWh      float64  `json:"measured_energy_kwh"`
	EstimatedEnergyKWh     float64  `json:"estimated_energy_kwh"`
	GPUScope               string   `json:"gpu_scope"`
	GPUNote                string   `json:"gpu_note,omitempty"`
	CPUDomains             []string `json:"cpu_domains,omitempty"`
	IgnoredDomains         []string `json:"ignored_domains,omitempty"`

	Components []Component `json:"components"`
	Warnings   []string    `json:"warnings"`
	// DataSources names the source and year of every constant the figures
	// depend on: grid intensity, PUE, TDPs, memory power.
	DataSources []DataSource `json:"data_sources,omitempty"`
}

// Tool identifies the program that wrote a report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Region is the electricity grid whose intensity the report uses.
type Region struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Source string `json:"source"`
	Year   int    `json:"year,omitempty"`
}

// Component is the energy of one measured or estimated part of the machine.
type Component struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Index  int    `json:"index"`
	UUID   string `json:"uuid,omitempty"`
	Method string `json:"method"`
	Detail string `json:"detail,omitempty"`
	// Host is the node the component belongs to in a merged report.
	Host string `json:"host,omitempty"`

	EnergyJoules     float64 `json:"energy_joules"`
	EnergyKWh        float64 `json:"energy_kwh"`
	MachineEnergyKWh float64 `json:"machine_energy_kwh"`
	MeanPowerWatts   float64 `json:"mean_power_watts"`
	MaxPowerWatts    float64 `json:"max_power_watts"`
}

// DataSource is the provenance of one constant used in a report.
type DataSource struct {
	What   string `json:"what"`
	Value  string `json:"value"`
	Source string `json:"source"`
	Year   int    `json:"year,omitempty"`
}
