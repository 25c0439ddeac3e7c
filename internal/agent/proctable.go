// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"time"
)

// clockTick is one tick of USER_HZ, the unit of the CPU times in
// /proc/<pid>/stat. USER_HZ is 100 on every architecture Go supports,
// whatever the kernel's internal HZ, and sampler/cpu uses the same value.
const clockTick = time.Second / 100

// procEntry is the part of one /proc/<pid>/stat line that the agent uses.
type procEntry struct {
	pid, ppid int
	// ownTicks is utime + stime, the CPU time of all the process's
	// threads, and reapedTicks is cutime + cstime, the CPU time of the
	// children it reaped, both in clock ticks.
	ownTicks    uint64
	reapedTicks uint64
	// startTicks is the start time after boot, in clock ticks.
	startTicks uint64
	// walk is the number of the last tree walk that visited the entry.
	walk uint64

	// deltaTicks is the CPU time since the previous advance, valid after
	// an advance that returned true.
	deltaTicks uint64
	// vanishedTicks is the CPU time, as of the previous advance, of the
	// descendants that exited since. The process's reapedTicks include it
	// once it reaps them, so advance takes it out of deltaTicks.
	vanishedTicks uint64
	// claims is the number of jobs whose tree contains the process, as
	// counted by claim since the last read.
	claims int
}

// cpuTicks returns the CPU time of the process and its reaped children.
func (e *procEntry) cpuTicks() uint64 {
	return e.ownTicks + e.reapedTicks
}

// procSample is a process's state at the previous advance.
type procSample struct {
	ppid        int
	startTicks  uint64
	ownTicks    uint64
	reapedTicks uint64
}

// procTable is the process table at one moment, read in one pass over
// /proc/*/stat. A round reads it once and takes every process job's tree
// from it. The slices and the map keep their memory from one read to the
// next.
type procTable struct {
	// byParent holds every process, sorted by parent PID so that the
	// children of a process are adjacent.
	byParent []procEntry
	// position maps a PID to its index in byParent.
	position map[int]int
	walk     uint64
	members  []int

	// previous holds every process at the previous advance, by PID, and
	// hasPrevious is false until the first advance and after reset.
	previous    map[int]procSample
	hasPrevious bool

	// statBuf and direntBuf are read buffers for the platform's scan.
	statBuf   []byte
	direntBuf []byte
}

// read replaces the table with the processes in the procfs at root.
// Processes that exit during the scan, are hidden by hidepid or have a
// stat line that does not parse are left out.
func (t *procTable) read(root string) error {
	t.byParent = t.byParent[:0]
	if err := t.scan(root); err != nil {
		return fmt.Errorf("listing processes in %s: %w", root, err)
	}
	slices.SortFunc(t.byParent, func(a, b procEntry) int { return cmp.Compare(a.ppid, b.ppid) })

	if t.position == nil {
		t.position = make(map[int]int, len(t.byParent))
	}
	clear(t.position)
	for i, e := range t.byParent {
		t.position[e.pid] = i
	}
	return nil
}

// add parses the stat line of process pid and appends it to the table.
func (t *procTable) add(pid int, stat []byte) {
	if e, ok := parseStatLine(stat); ok {
		e.pid = pid
		t.byParent = append(t.byParent, e)
	}
}

// treeCPUTime returns the CPU time used so far by roots and their live
// descendants, reaped children included. Roots that no longer exist are
// skipped, and the error is non-nil only when none is left.
func (t *procTable) treeCPUTime(roots []int) (time.Duration, error) {
	members := t.walkTree(roots)
	if len(members) == 0 {
		return 0, fmt.Errorf("process tree of pids %v: no process left", roots)
	}
	var ticks uint64
	for _, i := range members {
		ticks += t.byParent[i].cpuTicks()
	}
	return time.Duration(ticks) * clockTick, nil
}

// treePIDs appends roots and all their live descendants to dst, each once.
func (t *procTable) treePIDs(roots, dst []int) []int {
	for _, i := range t.walkTree(roots) {
		dst = append(dst, t.byParent[i].pid)
	}
	return dst
}

// walkTree returns the positions in byParent of the live processes in the
// trees of roots, each once, breadth first, valid until the next walk.
// The walk skips a child that started before its recorded parent, because
// then the real parent exited during the scan and its PID was reused. The
// walk mark also stops any loop that such reuse could form.
func (t *procTable) walkTree(roots []int) []int {
	t.walk++
	members := t.members[:0]
	for _, pid := range roots {
		if i, ok := t.position[pid]; ok && t.byParent[i].walk != t.walk {
			t.byParent[i].walk = t.walk
			members = append(members, i)
		}
	}

	// members is also the queue: entries before next have been expanded.
	for next := 0; next < len(members); next++ {
		parent := t.byParent[members[next]]
		first, _ := slices.BinarySearchFunc(t.byParent, parent.pid,
			func(e procEntry, pid int) int { return cmp.Compare(e.ppid, pid) })
		for i := first; i < len(t.byParent) && t.byParent[i].ppid == parent.pid; i++ {
			child := &t.byParent[i]
			if child.walk != t.walk && child.startTicks >= parent.startTicks {
				child.walk = t.walk
				members = append(members, i)
			}
		}
	}
	t.members = members
	return members
}

// Field numbers of /proc/<pid>/stat as proc(5) counts them, from 1.
const (
	statFieldState     = 3
	statFieldPPID      = 4
	statFieldUtime     = 14
	statFieldStime     = 15
	statFieldCutime    = 16
	statFieldCstime    = 17
	statFieldStartTime = 22
)

// parseStatLine parses the fields of a /proc/<pid>/stat line that the
// agent uses, without allocating. The command name in field 2 may contain
// spaces and parentheses, so fields are counted from the last ')'.
func parseStatLine(data []byte) (procEntry, bool) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return procEntry{}, false
	}
	var e procEntry
	rest := data[end+1:]
	for n := statFieldState; n <= statFieldStartTime; n++ {
		var field []byte
		field, rest = nextField(rest)
		if field == nil {
			return procEntry{}, false
		}
		if n != statFieldPPID && n != statFieldStartTime &&
			(n < statFieldUtime || n > statFieldCstime) {
			// The agent does not use this field, which may be negative
			// (the tty process group is).
			continue
		}
		v, ok := parseUint(field)
		if !ok {
			return procEntry{}, false
		}
		switch n {
		case statFieldPPID:
			e.ppid = int(v)
		case statFieldStartTime:
			e.startTicks = v
		case statFieldUtime, statFieldStime:
			e.ownTicks += v
		default:
			e.reapedTicks += v
		}
	}
	return e, true
}

// nextField splits the first space-separated field off data. field is nil
// when data holds no more fields.
func nextField(data []byte) (field, rest []byte) {
	data = bytes.TrimLeft(data, " \n")
	if len(data) == 0 {
		return nil, nil
	}
	end := bytes.IndexAny(data, " \n")
	if end < 0 {
		return data, nil
	}
	return data[:end], data[end:]
}

// parseUint parses an unsigned decimal field.
func parseUint(field []byte) (uint64, bool) {
	var v uint64
	for _, c := range field {
		if c < '0' || c > '9' || v > (1<<64-1-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, len(field) > 0
}

// parsePID parses a /proc entry name, returning false for entries that are
// not processes.
func parsePID(name []byte) (int, bool) {
	if len(name) == 0 || len(name) > 10 {
		return 0, false
	}
	v, ok := parseUint(name)
	if !ok || v == 0 || v > 1<<31-1 {
		return 0, false
	}
	return int(v), true
}
