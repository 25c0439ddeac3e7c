// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux

package cpu

import (
	"fmt"
	"time"
)

// NewProcessShare returns a ProcessShare for the tree rooted at opts.PID and
// reads the counters that its first interval starts from. A root that has
// already exited is not an error: its share is 0.
func NewProcessShare(opts ShareOptions) (*ProcessShare, error) {
	if opts.PID <= 0 {
		return nil, fmt.Errorf("process share: pid %d is invalid, want a positive pid", opts.PID)
	}

	root := procfsOrDefault(opts.ProcfsRoot)
	times := opts.Times
	if times == nil {
		times = func() (time.Duration, time.Duration, error) { return MachineCPUTime(root) }
	}
	s := &ProcessShare{
		procfsRoot:  root,
		rootPID:     opts.PID,
		times:       times,
		useChildren: hasChildrenFile(root, opts.PID),
		members:     map[int]procTimes{},
	}

	busy, _, err := s.times()
	if err != nil {
		return nil, fmt.Errorf("opening process share: %w", err)
	}
	members, err := s.discover()
	if err != nil {
		return nil, fmt.Errorf("opening process share: %w", err)
	}
	s.lastBusy, s.members = busy, members
	return s, nil
}

// RootExited records the CPU time of the tree's root after the caller
// reaped it, from the rusage that wait4 returns (the process and every child
// it reaped). The root has then left /proc, and without this the time since
// the last call would be lost, which for a command shorter than one
// interval is all of it.
func (s *ProcessShare) RootExited(cpuTime time.Duration) {
	s.exitedRootTicks = uint64(cpuTime / tick)
}

// CPUShare returns the tree's CPU time since the previous call divided by
// the machine's busy CPU time over the same span, clamped to [0, 1]. The
// span runs between the counter reads of the two calls, so now is not used.
//
// The denominator is busy time, not total time, because the CPU energy it
// scales already follows utilisation: a TDPSource draws utilisation x TDP,
// and dividing by total time would apply the utilisation twice.
func (s *ProcessShare) CPUShare(now time.Time) (float64, error) {
	busy, _, err := s.times()
	if err != nil {
		return 0, fmt.Errorf("process share: %w", err)
	}
	members, err := s.discover()
	if err != nil {
		return 0, fmt.Errorf("process share: %w", err)
	}
	if old, ok := s.members[s.rootPID]; ok && s.exitedRootTicks > 0 {
		if _, alive := members[s.rootPID]; !alive {
			// The rusage total and the /proc tick counts are rounded
			// differently; never let the root's total go backwards.
			old.ownTicks, old.childTicks = max(s.exitedRootTicks, old.totalTicks()), 0
			members[s.rootPID] = old
		}
	}

	treeTime := time.Duration(treeDeltaTicks(s.members, members)) * tick
	busyTime := busy - s.lastBusy
	s.lastBusy, s.members = busy, members

	switch {
	case treeTime <= 0:
		return 0, nil
	case busyTime <= 0:
		// The two counters are read a moment apart, so a tree that ran
		// while the machine counter did not move used all of it.
		return 1, nil
	}
	return clampFraction(float64(treeTime) / float64(busyTime)), nil
}

// treeDeltaTicks returns the CPU ticks the tree used between two
// discoveries.
//
// Each member counts utime + stime + cutime + cstime. When a member exits
// and its parent in the tree reaps it, the kernel adds its whole CPU time to
// the parent's cutime and cstime, so the sum over members keeps it and
// short-lived children are not lost. A member that left the tree in any
// other way (its parent outside the tree, or already gone) drops out of both
// sums: only its time since the previous read is lost.
func treeDeltaTicks(previous, current map[int]procTimes) uint64 {
	var now, before uint64
	for _, p := range current {
		now += p.totalTicks()
	}
	for pid, old := range previous {
		if p, ok := current[pid]; ok && p.startTicks == old.startTicks {
			before += old.totalTicks()
			continue
		}
		if _, ok := current[old.ppid]; ok {
			// Reaped by a parent still in the tree: its time moved into
			// the parent's cutime and cstime.
			before += old.totalTicks()
		}
	}
	if now < before {
		// A parent that ignores SIGCHLD lets the kernel reap children
		// without adding their time to cutime.
		return 0
	}
	return now - before
}

// discover returns the live members of the tree: the root, every process
// seen in the tree before that still runs (it may have been reparented to
// init), and all their descendants.
func (s *ProcessShare) discover() (map[int]procTimes, error) {
	if s.useChildren {
		return s.walk()
	}
	all, err := scanAll(s.procfsRoot)
	if err != nil {
		return nil, err
	}
	return s.selectTree(all), nil
}

// seeds returns the PIDs that start the search, with the start time each
// must still have. A start time of 0 accepts any process.
func (s *ProcessShare) seeds() map[int]uint64 {
	seeds := make(map[int]uint64, len(s.members)+1)
	seeds[s.rootPID] = 0
	for pid, p := range s.members {
		seeds[pid] = p.startTicks
	}
	return seeds
}

// walk follows the children files from the seeds and reads each member's
// stat once.
func (s *ProcessShare) walk() (map[int]procTimes, error) {
	seeds := s.seeds()
	members := make(map[int]procTimes, len(seeds))
	queue := make([]int, 0, len(seeds))
	for pid := range seeds {
		queue = append(queue, pid)
	}

	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		if _, seen := members[pid]; seen {
			continue
		}

		p, err := readProcTimes(s.procfsRoot, pid)
		if isVanished(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if start, ok := seeds[pid]; ok && start != 0 && start != p.startTicks {
			if _, child := members[p.ppid]; !child {
				// The PID now belongs to an unrelated process.
				continue
			}
		}
		members[pid] = p

		children, err := childrenOf(s.procfsRoot, pid)
		if isVanished(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		queue = append(queue, children...)
	}
	return members, nil
}

// selectTree picks the tree's members out of every process on the machine.
func (s *ProcessShare) selectTree(all map[int]procTimes) map[int]procTimes {
	children := make(map[int][]int)
	for pid, p := range all {
		children[p.ppid] = append(children[p.ppid], pid)
	}

	members := make(map[int]procTimes)
	var queue []int
	for pid, start := range s.seeds() {
		if p, ok := all[pid]; ok && (start == 0 || start == p.startTicks) {
			queue = append(queue, pid)
		}
	}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		if _, seen := members[pid]; seen {
			continue
		}
		members[pid] = all[pid]
		queue = append(queue, children[pid]...)
	}
	return members
}
