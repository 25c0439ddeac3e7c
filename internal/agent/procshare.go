// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

// advance sets each process's deltaTicks to its CPU time since the
// previous advance and records the table for the next one. It returns
// false, and sets no delta, when there is no previous advance to compare
// with: on the first call and on the first after reset.
//
// A new process, or one whose PID now belongs to a later process, counts
// all its CPU time. A process that exited since counts nothing more. Its
// reaper, the nearest live ancestor, now has every tick of it in cutime
// and cstime, so the ticks counted up to the previous advance are taken
// out of the reaper's delta. Tree accounting gets the same result, because
// there the exited process leaves the tree's sum as its reaper's rises.
func (t *procTable) advance() bool {
	ok := t.hasPrevious
	if ok {
		t.computeDeltas()
	}
	t.record()
	return ok
}

// reset drops the recorded table, so that the next advance only records.
// A round calls it when it does not read the table, because deltas over
// more than one round would charge the older rounds' CPU time again.
func (t *procTable) reset() {
	t.hasPrevious = false
}

func (t *procTable) computeDeltas() {
	for pid, s := range t.previous {
		if !t.isAlive(pid, s) {
			t.chargeVanished(pid, s.ownTicks+s.reapedTicks)
		}
	}
	for i := range t.byParent {
		e := &t.byParent[i]
		s, seen := t.previous[e.pid]
		if !seen || s.startTicks != e.startTicks {
			e.deltaTicks = e.cpuTicks()
			continue
		}
		// The kernel's counters do not go down, but a clamp costs nothing
		// against a parse of a torn read.
		own := e.ownTicks - min(s.ownTicks, e.ownTicks)
		reaped := e.reapedTicks - min(s.reapedTicks, e.reapedTicks)
		e.deltaTicks = own + reaped - min(e.vanishedTicks, reaped)
	}
}

// isAlive reports whether the process recorded as s under pid is still in
// the table, and not replaced by a later process with the same PID.
func (t *procTable) isAlive(pid int, s procSample) bool {
	i, ok := t.position[pid]
	return ok && t.byParent[i].startTicks == s.startTicks
}

// chargeVanished adds the ticks of the exited process pid to the
// vanishedTicks of its nearest live ancestor, as recorded at the previous
// advance. Parents that exited too are skipped, because the grandparent
// that reaped them took over their children's ticks with their own.
func (t *procTable) chargeVanished(pid int, ticks uint64) {
	// The bound stops any loop in the recorded parents, which PID reuse
	// can form.
	for range len(t.previous) {
		ppid := t.previous[pid].ppid
		parent, ok := t.previous[ppid]
		if !ok {
			return
		}
		if t.isAlive(ppid, parent) {
			t.byParent[t.position[ppid]].vanishedTicks += ticks
			return
		}
		pid = ppid
	}
}

// record keeps every process's CPU times for the next advance.
func (t *procTable) record() {
	if t.previous == nil {
		t.previous = make(map[int]procSample, len(t.byParent))
	}
	clear(t.previous)
	for _, e := range t.byParent {
		t.previous[e.pid] = procSample{ppid: e.ppid, startTicks: e.startTicks,
			ownTicks: e.ownTicks, reapedTicks: e.reapedTicks}
	}
	t.hasPrevious = true
}

// claim counts one more claiming job for every process in the trees of
// roots. It returns false when no process of the trees is alive.
func (t *procTable) claim(roots []int) bool {
	members := t.walkTree(roots)
	for _, i := range members {
		t.byParent[i].claims++
	}
	return len(members) > 0
}

// claimedTicks returns the CPU ticks since the previous advance of the
// processes in the trees of roots, with each process's ticks split equally
// among the jobs that claimed it. The caller claims for every job first,
// so the claimed ticks of all jobs add up to at most the ticks of all
// processes. ok is false when no process of the trees is alive.
func (t *procTable) claimedTicks(roots []int) (ticks float64, ok bool) {
	members := t.walkTree(roots)
	for _, i := range members {
		e := &t.byParent[i]
		ticks += float64(e.deltaTicks) / float64(max(e.claims, 1))
	}
	return ticks, len(members) > 0
}
