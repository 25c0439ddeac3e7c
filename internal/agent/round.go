// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/sampler"
)

// gpuSplit is the rule that divided a shared GPU's round between jobs.
type gpuSplit int

const (
	splitByUtil gpuSplit = iota // by the jobs' processes' utilisation
	splitEqual                  // equally, utilisation unavailable
)

// roundScratch is the per-round state reused across rounds. Only the holder
// of roundMu touches it.
type roundScratch struct {
	// claims lists, per GPU component, the open jobs that claimed it.
	claims [][]*job
	// fractions holds, per shared GPU component, each claimant's fraction.
	fractions [][]float64
	split     []gpuSplit
	// cpuShares holds each open job's CPU share, aligned with openOrder.
	cpuShares []float64
	// procs is this round's process table, valid when procsRead is set.
	// procsErr is the error of this round's read, if any.
	procs     procTable
	procsRead bool
	procsErr  error
}

// processTableReader is a CPUTimer that can read every process's CPU time
// in one pass. With one, a round reads the process table once and takes
// every process job's tree CPU time from it, in place of one TreeCPUTime
// call per job, each of which would scan every process. SystemCPU
// implements it.
type processTableReader interface {
	readProcessTable(dst *procTable) error
}

func newRoundScratch(components int) roundScratch {
	return roundScratch{
		claims:    make([][]*job, components),
		fractions: make([][]float64, components),
		split:     make([]gpuSplit, components),
	}
}

// round reads every source at now and charges the energy since the last
// round to the open jobs and idle. The caller holds roundMu. Hardware and
// procfs reads happen before mu is taken, so scrapes and API reads wait
// only for the arithmetic.
func (a *Agent) round(now time.Time) {
	began := time.Now()
	totals := a.sampler.Sample(now)
	var dt time.Duration
	if a.sampled {
		dt = now.Sub(a.lastRound)
	}
	a.readCPUShares()
	a.planGPUs()
	domains := a.readDomains()

	a.mu.Lock()
	a.apply(totals, dt)
	if domains != nil {
		a.domainUp = domains
	}
	a.rounds.observe(time.Since(began).Seconds())
	a.pruneEnded(now)
	a.mu.Unlock()
	a.lastRound, a.sampled = now, true
}

// readCPUShares sets each open job's share of this round's CPU energy: its
// CPU time over the machine's busy CPU time, clamped to [0, 1]. When the
// shares add up to more than 1, because jobs overlap or CPU times are read
// at slightly different moments, they are scaled down together.
func (a *Agent) readCPUShares() {
	shares := a.scratch.cpuShares[:0]
	machineDelta, machineOK := a.machineCPUDelta()
	a.readProcessTable()
	var sum float64
	for _, j := range a.openOrder {
		delta, ok := a.readJobCPU(j)
		share := 0.0
		if ok && machineOK && machineDelta > 0 {
			share = min(max(float64(delta)/float64(machineDelta), 0), 1)
		}
		if !ok && j.cpuTracked {
			j.cpuMissed++
		}
		shares = append(shares, share)
		sum += share
	}
	if sum > 1 {
		for k := range shares {
			shares[k] /= sum
		}
	}
	a.scratch.cpuShares = shares
}

func (a *Agent) machineCPUDelta() (time.Duration, bool) {
	if a.opts.CPU == nil {
		a.warn.Add("no CPU time source, all CPU energy is reported as idle")
		return 0, false
	}
	busy, err := a.opts.CPU.MachineCPUTime()
	if err != nil {
		a.warn.Add("machine CPU time unreadable, charging CPU energy to idle", zap.Error(err))
		a.cpuPrevOK = false
		return 0, false
	}
	delta, ok := busy-a.cpuPrev, a.cpuPrevOK
	a.cpuPrev, a.cpuPrevOK = busy, true
	return delta, ok
}

// readProcessTable reads this round's process table when the CPU timer is
// a processTableReader and an open process job needs its CPU time. Rounds
// without such a job read no process at all.
func (a *Agent) readProcessTable() {
	s := &a.scratch
	s.procsRead, s.procsErr = false, nil
	reader, ok := a.opts.CPU.(processTableReader)
	if !ok || !slices.ContainsFunc(a.openOrder, isProcessJob) {
		return
	}
	s.procsErr = reader.readProcessTable(&s.procs)
	s.procsRead = s.procsErr == nil
}

func isProcessJob(j *job) bool {
	return j.mode == TrackingProcess && j.cpuTracked
}

// readJobCPU reads j's CPU time and returns the increase since the previous
// read. ok is false for the first read, after a failed read and for jobs
// without processes.
func (a *Agent) readJobCPU(j *job) (delta time.Duration, ok bool) {
	if !j.cpuTracked || a.opts.CPU == nil {
		return 0, false
	}
	var cpu time.Duration
	var err error
	switch {
	case j.mode != TrackingProcess:
		cpu, err = a.opts.CPU.CgroupCPUTime(j.cgroupDir)
	case a.scratch.procsErr != nil:
		err = a.scratch.procsErr
	case a.scratch.procsRead:
		cpu, err = a.scratch.procs.treeCPUTime(j.spec.PIDs)
	default:
		cpu, err = a.opts.CPU.TreeCPUTime(j.spec.PIDs)
	}
	if err != nil {
		// Expected when the job's processes have exited before its end.
		a.log.Debug("job CPU time unreadable", zap.String("job_id", j.spec.ID), zap.Error(err))
		j.cpuPrevOK = false
		return 0, false
	}
	if j.cpuPrevOK {
		delta, ok = max(cpu-j.cpuPrev, 0), true
	}
	j.cpuPrev, j.cpuPrevOK = cpu, true
	return delta, ok
}

// planGPUs lists the claimants of every GPU and, for GPUs claimed by more
// than one job, each claimant's fraction.
func (a *Agent) planGPUs() {
	s := &a.scratch
	for i := range s.claims {
		s.claims[i] = s.claims[i][:0]
	}
	for _, j := range a.openOrder {
		for _, i := range j.gpus {
			s.claims[i] = append(s.claims[i], j)
		}
	}
	for i, claimants := range s.claims {
		if len(claimants) > 1 {
			s.fractions[i], s.split[i] = a.gpuFractions(i, claimants, s.fractions[i][:0])
		}
	}
}

// gpuFractions splits a shared GPU by the utilisation of each claimant's
// processes over the utilisation of all processes on the device, so that
// the share of processes outside the claimants goes to idle. Without
// per-process utilisation the claimants share equally.
func (a *Agent) gpuFractions(i int, claimants []*job, dst []float64) ([]float64, gpuSplit) {
	equal := func() ([]float64, gpuSplit) {
		dst = dst[:0]
		for range claimants {
			dst = append(dst, 1/float64(len(claimants)))
		}
		return dst, splitEqual
	}

	if a.opts.GPUShares == nil {
		return equal()
	}
	byPID, err := a.opts.GPUShares.GPUShares(a.components[i].Index)
	if err != nil {
		a.log.Debug("gpu process utilisation unreadable, splitting equally",
			zap.Int("gpu", a.components[i].Index), zap.Error(err))
		return equal()
	}

	var total, claimed float64
	for _, v := range byPID {
		total += max(v, 0)
	}
	for _, j := range claimants {
		var share float64
		for _, pid := range a.jobPIDs(j) {
			share += max(byPID[uint32(pid)], 0)
		}
		dst = append(dst, share)
		claimed += share
	}
	if total <= 0 || claimed <= 0 {
		return equal()
	}
	// Jobs that list the same process would count it twice.
	scale := 1 / max(total, claimed)
	for k := range dst {
		dst[k] *= scale
	}
	return dst, splitByUtil
}

func (a *Agent) jobPIDs(j *job) []int {
	var pids []int
	var err error
	switch j.mode {
	case TrackingProcess:
		pids, err = a.opts.Processes.TreePIDs(j.spec.PIDs)
	case TrackingCgroup:
		pids, err = a.opts.Processes.CgroupPIDs(j.cgroupDir)
	}
	if err != nil {
		a.log.Debug("job processes unreadable", zap.String("job_id", j.spec.ID), zap.Error(err))
	}
	return pids
}

// readDomains merges the domain states of the sources that report them; nil
// when none does.
func (a *Agent) readDomains() map[string]bool {
	var merged map[string]bool
	for _, src := range a.sources {
		r, ok := src.Source.(DomainReporter)
		if !ok {
			continue
		}
		if merged == nil {
			merged = make(map[string]bool)
		}
		for name, up := range r.DomainUp() {
			merged[name] = up
			if !up && !a.domainSeen[name] {
				// The source itself warns once per domain; this is detail.
				a.log.Debug("energy domain down", zap.String("domain", name))
			}
			a.domainSeen[name] = !up
		}
	}
	return merged
}

// apply charges each component's round energy. The caller holds roundMu
// and mu.
func (a *Agent) apply(totals []sampler.Total, dt time.Duration) {
	for i := range totals {
		delta := totals[i].Delta
		a.node[i] += delta
		a.power[i] = totals[i].Power
		if a.components[i].Kind == sampler.KindGPU {
			a.applyGPU(i, delta, dt)
		} else {
			a.applyCPU(i, delta, dt)
		}
	}
	if dt > 0 {
		for _, j := range a.openOrder {
			j.rounds++
		}
	}
}

func (a *Agent) applyGPU(i int, delta units.Joules, dt time.Duration) {
	claimants := a.scratch.claims[i]
	if len(claimants) == 0 {
		a.idle[i] += delta
		return
	}
	rest := delta
	for k, j := range claimants {
		fraction := 1.0
		if len(claimants) > 1 {
			fraction = a.scratch.fractions[i][k]
		}
		e := delta * units.Joules(fraction)
		a.charge(j, i, e, delta, dt)
		rest -= e
		if dt > 0 {
			a.countGPURound(j, i, len(claimants) > 1, a.scratch.split[i])
		}
	}
	a.idle[i] += max(rest, 0)
}

func (a *Agent) countGPURound(j *job, i int, shared bool, split gpuSplit) {
	for pos, g := range j.gpus {
		if g != i {
			continue
		}
		switch {
		case !shared:
			j.gpuRounds[pos].Alone++
		case split == splitByUtil:
			j.gpuRounds[pos].ByUtil++
		default:
			j.gpuRounds[pos].Equal++
		}
	}
}

func (a *Agent) applyCPU(i int, delta units.Joules, dt time.Duration) {
	rest := delta
	for k, j := range a.openOrder {
		if !j.cpuTracked {
			continue
		}
		e := delta * units.Joules(a.scratch.cpuShares[k])
		a.charge(j, i, e, delta, dt)
		rest -= e
	}
	a.idle[i] += max(rest, 0)
}

// charge adds e of the component's round energy delta to j.
func (a *Agent) charge(j *job, i int, e, delta units.Joules, dt time.Duration) {
	j.energy[i] += e
	j.machine[i] += delta
	if dt > 0 {
		j.maxPower[i] = max(j.maxPower[i], e.Per(dt))
	}
}
