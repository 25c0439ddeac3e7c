// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package cpu

import (
	"time"

	"github.com/carbonrun/carbonrun/sampler"
)

// ShareOptions configures a ProcessShare.
type ShareOptions struct {
	// ProcfsRoot is the procfs mount point, /proc when empty.
	ProcfsRoot string
	// PID is the root of the tracked process tree, usually the wrapped
	// command.
	PID int
	// Times reads the machine's cumulative CPU times. When nil,
	// MachineCPUTime(ProcfsRoot) does.
	Times TimesFunc
}

// ProcessShare is the fraction of the machine's busy CPU time that a process
// tree used since the previous call: the root PID and all its descendants.
// It implements sampler.Share on Linux. Elsewhere NewProcessShare returns
// sampler.ErrUnavailable. A ProcessShare is not safe for concurrent use.
type ProcessShare struct {
	procfsRoot string
	rootPID    int
	times      TimesFunc
	// useChildren is true when the kernel provides
	// /proc/<pid>/task/<tid>/children, so discovery walks the tree instead
	// of scanning every process.
	useChildren bool

	lastBusy time.Duration
	members  map[int]procTimes
	// exitedRootTicks is the root's whole CPU time, its reaped children
	// included, once the caller reaped the root; zero while it runs.
	exitedRootTicks uint64
}

var _ sampler.Share = (*ProcessShare)(nil)

// procTimes is the CPU accounting of one process from /proc/<pid>/stat, in
// clock ticks of USER_HZ.
type procTimes struct {
	ppid int
	// startTicks is the start time after boot, which distinguishes a reused PID.
	startTicks uint64
	// ownTicks is utime + stime: every thread of the process, live or exited.
	ownTicks uint64
	// childTicks is cutime + cstime: children that exited and were reaped
	// by this process.
	childTicks uint64
}

func (p procTimes) totalTicks() uint64 { return p.ownTicks + p.childTicks }
