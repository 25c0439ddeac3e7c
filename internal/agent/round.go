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
	// procs is this round's process table, valid when procsRead is set,
	// with per-process CPU deltas when procsDeltas is set too. procsErr is
	// the error of this round's read, if any.
	procs       procTable
	procsRead   bool
	procsDeltas bool
	procsErr    error
}

// processTableReader is a CPUTimer that can read every process's CPU time
// in one pass. With one, a round reads the process table once and takes
// every process job's CPU time from it, process by process. One
// TreeCPUTime call per job would scan every process each time, and would
// count a process shared by several jobs in each of them. SystemCPU
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

	// A round much shorter than the others, such as the one a job start or
	// end takes just after a tick, divides a counter's coarse steps by a
	// tiny time. Its power is noise, so it does not set max power, but its
	// energy still counts. longestRound is capped at Interval, because one
	// long stall, such as a suspended VM, would otherwise keep the regular
	// rounds from setting max power for the rest of the agent's life.
	a.longestRound = max(a.longestRound, min(dt, a.opts.Interval))
	countsForMax := dt > 0 && dt*2 >= a.longestRound

	a.mu.Lock()
	a.apply(totals, dt, countsForMax)
	if domains != nil {
		a.domainUp = domains
	}
	a.rounds.observe(time.Since(began).Seconds())
	a.pruneEnded(now)
	a.mu.Unlock()
	a.lastRound, a.sampled = now, true
}

// cpuRead is the outcome of reading one job's CPU time in a round.
type cpuRead int

const (
	cpuUntracked  cpuRead = iota // no CPU side, or no CPU time source
	cpuBaseline                  // read, but nothing to compare with yet
	cpuMeasured                  // read, with the increase since the last round
	cpuUnreadable                // the read failed, or no process is left
)

// readCPUShares sets each open job's share of this round's CPU energy: its
// CPU time over the machine's busy CPU time, clamped to [0, 1].
//
// Process jobs take their CPU time from the round's process table, one
// process at a time. A process in the trees of several jobs has its time
// split equally among them, so the process jobs' shares add up to at most
// the time of all processes. Cgroup jobs, and process jobs of a CPU timer
// without a process table, read a total per job, which counts a shared
// process in every job. When the shares add up to more than 1, they are
// scaled down together, and each job with a share counts the round in
// cpuScaled if jobs that read a total took part.
func (a *Agent) readCPUShares() {
	shares := a.scratch.cpuShares[:0]
	machineDelta, machineOK := a.machineCPUDelta()
	a.readProcessTable()
	a.claimProcesses()

	var sum float64
	var positive int
	var totalsShared bool
	for _, j := range a.openOrder {
		seconds, read := a.readJobCPU(j)
		share := 0.0
		if read == cpuMeasured && machineOK && machineDelta > 0 {
			share = min(max(seconds/machineDelta.Seconds(), 0), 1)
		}
		if read == cpuUnreadable {
			j.cpuMissed++
		}
		if share > 0 {
			positive++
			totalsShared = totalsShared || !a.splitsPerProcess(j)
		}
		shares = append(shares, share)
		sum += share
	}

	if sum > 1 {
		for k := range shares {
			shares[k] /= sum
		}
	}
	// A lone job over 1 only shows that its time and the machine's were
	// read at slightly different moments, which is no overlap.
	if sum > 1 && totalsShared && positive > 1 {
		for k, j := range a.openOrder {
			if shares[k] > 0 {
				j.cpuScaled++
			}
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
// a processTableReader and an open process job needs its CPU time, and
// sets each process's CPU time since the previous round's table. Rounds
// without such a job read no process at all.
func (a *Agent) readProcessTable() {
	s := &a.scratch
	s.procsRead, s.procsDeltas, s.procsErr = false, false, nil
	reader, ok := a.opts.CPU.(processTableReader)
	if !ok || !slices.ContainsFunc(a.openOrder, isProcessJob) {
		s.procs.reset()
		return
	}
	s.procsErr = reader.readProcessTable(&s.procs)
	if s.procsErr != nil {
		s.procs.reset()
		return
	}
	s.procsRead = true
	s.procsDeltas = s.procs.advance()
}

// claimProcesses counts, for every process of this round's table, the open
// process jobs whose tree contains it.
func (a *Agent) claimProcesses() {
	if !a.scratch.procsRead {
		return
	}
	for _, j := range a.openOrder {
		if a.splitsPerProcess(j) {
			a.scratch.procs.claim(j.spec.PIDs)
		}
	}
}

// baselineCPU reads j's CPU time at its start, so that its first round
// charges only the time after it. The caller holds roundMu and has just
// run a round.
func (a *Agent) baselineCPU(j *job) {
	if !a.splitsPerProcess(j) {
		a.readJobCPU(j)
		return
	}
	s := &a.scratch
	if s.procsRead {
		// The round read and recorded the table: the baseline is set.
		return
	}
	reader := a.opts.CPU.(processTableReader)
	if err := reader.readProcessTable(&s.procs); err != nil {
		a.log.Debug("process table unreadable at job start", zap.String("job_id", j.spec.ID), zap.Error(err))
		s.procs.reset()
		return
	}
	s.procs.advance()
}

func isProcessJob(j *job) bool {
	return j.mode == TrackingProcess && j.cpuTracked
}

// splitsPerProcess reports whether j's CPU time comes from the round's
// process table, split per process among the jobs that claim it.
func (a *Agent) splitsPerProcess(j *job) bool {
	_, ok := a.opts.CPU.(processTableReader)
	return ok && isProcessJob(j)
}

// readJobCPU returns j's CPU time since the previous round, in seconds,
// and how the read went.
func (a *Agent) readJobCPU(j *job) (float64, cpuRead) {
	if !j.cpuTracked || a.opts.CPU == nil {
		return 0, cpuUntracked
	}
	if a.splitsPerProcess(j) {
		return a.readClaimedCPU(j)
	}
	return a.readTotalCPU(j)
}

// readClaimedCPU returns j's claimed share of the CPU time of the
// processes in its trees, from this round's process table.
func (a *Agent) readClaimedCPU(j *job) (float64, cpuRead) {
	s := &a.scratch
	if s.procsErr != nil {
		a.log.Debug("job CPU time unreadable", zap.String("job_id", j.spec.ID), zap.Error(s.procsErr))
		return 0, cpuUnreadable
	}
	if !s.procsRead {
		return 0, cpuBaseline
	}
	ticks, ok := s.procs.claimedTicks(j.spec.PIDs)
	if !ok {
		// Expected when the job's processes have exited before its end.
		a.log.Debug("job CPU time unreadable: no process of its trees is left",
			zap.String("job_id", j.spec.ID), zap.Ints("pids", j.spec.PIDs))
		return 0, cpuUnreadable
	}
	if !s.procsDeltas {
		return 0, cpuBaseline
	}
	return ticks * clockTick.Seconds(), cpuMeasured
}

// readTotalCPU reads j's CPU time as one total, from its cgroup or from the
// CPU timer's TreeCPUTime, and returns the increase since the previous
// read. The first read after the job's start, a resume or a failed read
// only sets the baseline.
func (a *Agent) readTotalCPU(j *job) (float64, cpuRead) {
	var cpu time.Duration
	var err error
	if j.mode == TrackingProcess {
		cpu, err = a.opts.CPU.TreeCPUTime(j.spec.PIDs)
	} else {
		cpu, err = a.opts.CPU.CgroupCPUTime(j.cgroupDir)
	}
	if err != nil {
		// Expected when the job's processes have exited before its end.
		a.log.Debug("job CPU time unreadable", zap.String("job_id", j.spec.ID), zap.Error(err))
		j.cpuPrevOK = false
		return 0, cpuUnreadable
	}
	read, delta := cpuBaseline, time.Duration(0)
	if j.cpuPrevOK {
		read, delta = cpuMeasured, max(cpu-j.cpuPrev, 0)
	}
	j.cpuPrev, j.cpuPrevOK = cpu, true
	return delta.Seconds(), read
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

// apply charges each component's round energy, and updates the jobs' max
// power when countsForMax is set. The caller holds roundMu and mu.
func (a *Agent) apply(totals []sampler.Total, dt time.Duration, countsForMax bool) {
	for i := range totals {
		delta := totals[i].Delta
		a.node[i] += delta
		a.power[i] = totals[i].Power
		if a.components[i].Kind == sampler.KindGPU {
			a.applyGPU(i, delta, dt, countsForMax)
		} else {
			a.applyCPU(i, delta, dt, countsForMax)
		}
	}
	if dt > 0 {
		for _, j := range a.openOrder {
			j.rounds++
		}
	}
}

func (a *Agent) applyGPU(i int, delta units.Joules, dt time.Duration, countsForMax bool) {
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
		a.charge(j, i, e, delta, dt, countsForMax)
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

func (a *Agent) applyCPU(i int, delta units.Joules, dt time.Duration, countsForMax bool) {
	rest := delta
	for k, j := range a.openOrder {
		if !j.cpuTracked {
			continue
		}
		e := delta * units.Joules(a.scratch.cpuShares[k])
		a.charge(j, i, e, delta, dt, countsForMax)
		rest -= e
	}
	a.idle[i] += max(rest, 0)
}

// charge adds e of the component's round energy delta to j, and raises
// j's max power to the round's power when countsForMax is set.
func (a *Agent) charge(j *job, i int, e, delta units.Joules, dt time.Duration, countsForMax bool) {
	j.energy[i] += e
	j.machine[i] += delta
	if countsForMax {
		j.maxPower[i] = max(j.maxPower[i], e.Per(dt))
	}
}
