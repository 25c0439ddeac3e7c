// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package exporter

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/carbonrun/carbonrun/internal/agent"
	"github.com/carbonrun/carbonrun/sampler"
)

const namespace = "carbonrun"

// State is the agent state a Collector reads; *agent.Agent implements it.
type State interface {
	Snapshot(dst *agent.Snapshot)
}

// Collector is a prometheus.Collector over an agent's state.
type Collector struct {
	state   State
	version string

	gpuEnergy     *prometheus.Desc
	gpuPower      *prometheus.Desc
	cpuEnergy     *prometheus.Desc
	cpuPower      *prometheus.Desc
	domainUp      *prometheus.Desc
	jobEnergy     *prometheus.Desc
	jobEmissions  *prometheus.Desc
	jobsOpen      *prometheus.Desc
	gridIntensity *prometheus.Desc
	pue           *prometheus.Desc
	roundDuration *prometheus.Desc
	samplerErrors *prometheus.Desc
	buildInfo     *prometheus.Desc

	// mu guards snap, which is reused between scrapes.
	mu   sync.Mutex
	snap agent.Snapshot
}

// New returns a Collector over state. version is the value of the
// carbonrun_build_info version label.
func New(state State, version string) *Collector {
	desc := func(subsystem, name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, subsystem, name), help, labels, nil)
	}
	return &Collector{
		state:   state,
		version: version,
		gpuEnergy: desc("gpu", "energy_joules_total",
			"Energy used by the GPU since the agent started, in joules.", "gpu", "uuid", "name"),
		gpuPower: desc("gpu", "power_watts",
			"Power drawn by the GPU in the last sampling round, in watts.", "gpu", "uuid", "name"),
		cpuEnergy: desc("cpu", "energy_joules_total",
			"Energy used by the CPU, DRAM or RAM zone since the agent started, in joules.",
			"zone", "kind", "method"),
		cpuPower: desc("cpu", "power_watts",
			"Power drawn by the CPU, DRAM or RAM zone in the last sampling round, in watts.",
			"zone", "kind", "method"),
		domainUp: desc("rapl", "domain_up",
			"Whether the last read of the RAPL domain succeeded (1) or failed (0), unitless.", "domain"),
		jobEnergy: desc("job", "energy_joules_total",
			"Energy charged to the job per component kind, in joules; job_id=\"idle\" is the energy no job used.",
			"job_id", "kind"),
		jobEmissions: desc("job", "emissions_grams_total",
			"Emissions of the job including the PUE, in grams of CO2-equivalent.", "job_id"),
		jobsOpen: desc("", "jobs_open",
			"Number of jobs the agent is tracking now, a count."),
		gridIntensity: desc("grid", "intensity_grams_per_kwh",
			"Grid carbon intensity used for emissions, in grams of CO2-equivalent per kWh.", "region"),
		pue: desc("", "pue",
			"Power usage effectiveness of the facility applied to emissions, a unitless ratio."),
		roundDuration: desc("sampler", "duration_seconds",
			"Duration of one sampling round over all energy sources, in seconds."),
		samplerErrors: desc("sampler", "errors_total",
			"Number of failed reads of the energy source, a count.", "source"),
		buildInfo: desc("", "build_info",
			"Build of the carbon-agent, always 1; the version is a label.", "version"),
	}
}

// Describe sends every descriptor of the Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.gpuEnergy, c.gpuPower, c.cpuEnergy, c.cpuPower, c.domainUp, c.jobEnergy, c.jobEmissions,
		c.jobsOpen, c.gridIntensity, c.pue, c.roundDuration, c.samplerErrors, c.buildInfo,
	} {
		ch <- d
	}
}

// Collect reads one snapshot of the agent state and sends its metrics. It
// reads memory only, so it cannot fail because a source failed.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state.Snapshot(&c.snap)
	s := &c.snap

	c.collectComponents(ch, s)
	for domain, up := range s.DomainUp {
		emit(ch, c.domainUp, prometheus.GaugeValue, boolValue(up), domain)
	}
	c.collectJob(ch, s, &s.Idle)
	for k := range s.Jobs {
		c.collectJob(ch, s, &s.Jobs[k])
	}
	emit(ch, c.jobsOpen, prometheus.GaugeValue, float64(s.OpenJobs))
	emit(ch, c.gridIntensity, prometheus.GaugeValue, float64(s.Site.Intensity), s.Site.Region.Code)
	emit(ch, c.pue, prometheus.GaugeValue, s.Site.PUE)
	if m, err := prometheus.NewConstHistogram(c.roundDuration, s.Rounds.Count, s.Rounds.SumSeconds,
		s.Rounds.Buckets); err == nil {
		ch <- m
	}
	for _, src := range s.Sources {
		emit(ch, c.samplerErrors, prometheus.CounterValue, float64(src.ReadErrors), src.Name)
	}
	emit(ch, c.buildInfo, prometheus.GaugeValue, 1, c.version)
}

func (c *Collector) collectComponents(ch chan<- prometheus.Metric, s *agent.Snapshot) {
	for k := range s.Components {
		comp := &s.Components[k]
		if comp.Kind == sampler.KindGPU {
			index := strconv.Itoa(comp.Index)
			emit(ch, c.gpuEnergy, prometheus.CounterValue, float64(comp.Energy), index, comp.UUID, comp.Name)
			emit(ch, c.gpuPower, prometheus.GaugeValue, float64(comp.Power), index, comp.UUID, comp.Name)
			continue
		}
		kind, method := string(comp.Kind), string(comp.Method)
		emit(ch, c.cpuEnergy, prometheus.CounterValue, float64(comp.Energy), comp.Name, kind, method)
		emit(ch, c.cpuPower, prometheus.GaugeValue, float64(comp.Power), comp.Name, kind, method)
	}
}

func (c *Collector) collectJob(ch chan<- prometheus.Metric, s *agent.Snapshot, j *agent.JobState) {
	for slot, kind := range s.Kinds {
		if slot < len(j.Joules) {
			emit(ch, c.jobEnergy, prometheus.CounterValue, float64(j.Joules[slot]), j.ID, string(kind))
		}
	}
	emit(ch, c.jobEmissions, prometheus.CounterValue, float64(j.Emissions), j.ID)
}

// emit sends one constant metric. A label value that is not valid UTF-8
// drops that one series instead of failing the whole scrape.
func emit(ch chan<- prometheus.Metric, desc *prometheus.Desc, t prometheus.ValueType, v float64,
	labels ...string) {
	if m, err := prometheus.NewConstMetric(desc, t, v, labels...); err == nil {
		ch <- m
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
