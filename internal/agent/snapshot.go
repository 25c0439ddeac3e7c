// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"github.com/carbonrun/carbonrun/internal/grid"
	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/sampler"
)

// Snapshot is the agent state that the metrics exporter reads. Snapshot
// reuses the slices of the value it fills, so a scrape loop allocates
// little after the first call.
type Snapshot struct {
	// Components holds every component of the node with its cumulative
	// energy since the agent started (or since the checkpoint's agent
	// started, after a resume) and its last power.
	Components []ComponentState
	// Kinds lists the component kinds of the node in the order gpu, cpu,
	// dram, ram; JobState.Joules is aligned with it.
	Kinds []sampler.Kind
	// Jobs holds the open jobs in start order, then the ended jobs that are
	// still retained.
	Jobs []JobState
	// Idle is the energy no open job was charged with.
	Idle     JobState
	OpenJobs int
	Site     grid.Site
	// DomainUp is the read state of each energy domain of sources that
	// report one.
	DomainUp map[string]bool
	// Sources holds each source's name and failed read count.
	Sources []SourceState
	// Rounds is the histogram of round durations.
	Rounds RoundHistogram
}

// ComponentState is one component's cumulative energy and last power.
type ComponentState struct {
	sampler.Component
	Energy units.Joules
	Power  units.Watts
}

// JobState is one job's cumulative energy per kind and its emissions.
type JobState struct {
	ID     string
	Open   bool
	Joules []units.Joules
	// Emissions includes the PUE.
	Emissions units.GramsCO2e
}

// SourceState is a source's name and the number of its failed reads.
type SourceState struct {
	Name       string
	ReadErrors uint64
}

// RoundHistogram is the distribution of round durations in seconds.
type RoundHistogram struct {
	Count      uint64
	SumSeconds float64
	// Buckets maps each upper bound of RoundBucketsSeconds to the
	// cumulative count of rounds at most that long.
	Buckets map[float64]uint64
}

// Snapshot fills dst with the current state.
func (a *Agent) Snapshot(dst *Snapshot) {
	a.mu.RLock()
	defer a.mu.RUnlock()

	dst.Components = dst.Components[:0]
	for i, c := range a.components {
		dst.Components = append(dst.Components, ComponentState{Component: c, Energy: a.node[i], Power: a.power[i]})
	}
	dst.Kinds = append(dst.Kinds[:0], a.kinds...)

	jobs := dst.Jobs[:cap(dst.Jobs)]
	n := 0
	next := func() *JobState {
		if n == len(jobs) {
			jobs = append(jobs, JobState{})
			jobs = jobs[:cap(jobs)]
		}
		n++
		return &jobs[n-1]
	}
	for _, j := range a.openOrder {
		s := next()
		s.ID, s.Open = j.spec.ID, true
		s.Joules = a.kindTotals(j.energy, s.Joules)
		s.Emissions = a.emissions(sumJoules(j.energy))
	}
	for _, e := range a.endedOrder {
		s := next()
		s.ID, s.Open = e.view.ID, false
		s.Joules = append(s.Joules[:0], e.kindJoules...)
		s.Emissions = e.emissions
	}
	dst.Jobs = jobs[:n]

	dst.Idle.ID, dst.Idle.Open = IdleJobID, false
	dst.Idle.Joules = a.kindTotals(a.idle, dst.Idle.Joules)
	dst.Idle.Emissions = a.emissions(sumJoules(a.idle))
	dst.OpenJobs = len(a.openOrder)
	dst.Site = a.opts.Site

	if dst.DomainUp == nil {
		dst.DomainUp = make(map[string]bool, len(a.domainUp))
	}
	clear(dst.DomainUp)
	for k, v := range a.domainUp {
		dst.DomainUp[k] = v
	}

	dst.Sources = dst.Sources[:0]
	for _, src := range a.sources {
		dst.Sources = append(dst.Sources, SourceState{Name: src.name, ReadErrors: src.errors.Load()})
	}
	a.fillRounds(&dst.Rounds)
}

func (a *Agent) fillRounds(h *RoundHistogram) {
	h.Count, h.SumSeconds = a.rounds.count, a.rounds.sum
	if h.Buckets == nil {
		h.Buckets = make(map[float64]uint64, len(RoundBucketsSeconds))
	}
	var cumulative uint64
	for i, bound := range RoundBucketsSeconds {
		cumulative += a.rounds.counts[i]
		h.Buckets[bound] = cumulative
	}
}
