// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux

package cpu

import (
	"fmt"
	"testing"
	"time"

	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/sampler"
)

// constantSource is a machine CPU component that draws a fixed power, as a
// RAPL package zone would report it.
type constantSource struct {
	power   units.Watts
	started bool
	last    time.Time
	energy  units.Joules
}

func (c *constantSource) Components() []sampler.Component {
	return []sampler.Component{
		{Kind: sampler.KindCPU, Name: "package-0", Method: sampler.MethodEnergyCounter},
	}
}

func (c *constantSource) Read(now time.Time, dst []sampler.Reading) error {
	if c.started {
		c.energy += c.power.Over(now.Sub(c.last))
	}
	c.started, c.last = true, now
	dst[0] = sampler.Reading{Energy: c.energy, Power: c.power}
	return nil
}

func (c *constantSource) Close() error { return nil }

// TestProcessShareThreadsNotDoubleCounted_CR32 tracks one process with three
// threads on a 52 W machine. /proc lists the CPU time both per thread and per
// process.
//
// Over 10 s on 4 CPUs the machine is busy for 2000 ticks. The process's
// utime + stime grows from 1000 + 200 to 1600 + 300, so it used 700 ticks and
// its share is 700 / 2000 = 0.35, or 18.2 W of 52 W. Adding the thread lines
// (also 700 ticks together) to the process line would give 0.7 and 36.4 W.
func TestProcessShareThreadsNotDoubleCounted_CR32(t *testing.T) {
	tests := []struct {
		name          string
		busyTicks     uint64 // machine busy ticks in the interval
		wantShare     float64
		wantAttribute units.Watts
	}{
		{name: "machine busier than the process", busyTicks: 2000, wantShare: 0.35, wantAttribute: 18.2},
		// The machine and the process counters are read a moment apart,
		// so the process can appear to use more than the machine did.
		{name: "process above machine is clamped", busyTicks: 500, wantShare: 1, wantAttribute: 52},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFakeProcfs(t, true)
			threadsBefore := []fakeThread{{100, 500, 100}, {101, 300, 60}, {102, 200, 40}}
			threadsAfter := []fakeThread{{100, 800, 150}, {101, 480, 90}, {102, 320, 60}}
			fs.setMachine(10_000, 30_000)
			fs.setProcs(fakeProc{pid: 100, ppid: 1, comm: "python3", startTicks: 500,
				utime: 1000, stime: 200, threads: threadsBefore})

			share, err := NewProcessShare(ShareOptions{ProcfsRoot: fs.root, PID: 100})
			mustNoError(t, "NewProcessShare", err)
			machine := &constantSource{power: 52}
			s := sampler.New([]sampler.Source{machine}, share, sampler.NewWarnings(nil))
			s.Sample(epoch)

			fs.setMachine(10_000+tc.busyTicks, 30_000+4000-tc.busyTicks)
			fs.setProcs(fakeProc{pid: 100, ppid: 1, comm: "python3", startTicks: 500,
				utime: 1600, stime: 300, threads: threadsAfter})
			total := s.Sample(epoch.Add(10 * time.Second))[0]

			checkNear(t, "attributed power (W)", float64(total.Power), float64(tc.wantAttribute), 1e-9)
			checkNear(t, "attributed energy (J)", float64(total.Energy), float64(tc.wantAttribute)*10, 1e-6)
			checkNear(t, "machine energy (J)", float64(total.MachineEnergy), 520, 1e-6)
			if total.Power > machine.power {
				t.Errorf("attributed power %v W exceeds machine power %v W", total.Power, machine.power)
			}
			if total.Energy > total.MachineEnergy {
				t.Errorf("attributed energy %v J exceeds machine energy %v J",
					total.Energy, total.MachineEnergy)
			}
		})
	}
}

// TestProcessShareDirect checks the raw fraction for the same process.
func TestProcessShareDirect(t *testing.T) {
	fs := newFakeProcfs(t, true)
	fs.setMachine(10_000, 30_000)
	fs.setProcs(fakeProc{pid: 100, ppid: 1, startTicks: 500, utime: 1000, stime: 200,
		threads: []fakeThread{{100, 500, 100}, {101, 300, 60}, {102, 200, 40}}})
	share, err := NewProcessShare(ShareOptions{ProcfsRoot: fs.root, PID: 100})
	mustNoError(t, "NewProcessShare", err)

	fs.setMachine(12_000, 32_000)
	fs.setProcs(fakeProc{pid: 100, ppid: 1, startTicks: 500, utime: 1600, stime: 300,
		threads: []fakeThread{{100, 800, 150}, {101, 480, 90}, {102, 320, 60}}})
	got, err := share.CPUShare(epoch.Add(10 * time.Second))
	mustNoError(t, "CPUShare", err)
	checkNear(t, "share", got, 0.35, 1e-12)

	// Nothing ran since: the share is 0, not the previous value.
	got, err = share.CPUShare(epoch.Add(20 * time.Second))
	mustNoError(t, "CPUShare", err)
	checkNear(t, "share of an idle interval", got, 0, 0)
}

// treeStep is one round of a process tree: the processes alive and the
// machine's busy ticks at the end of the round.
type treeStep struct {
	procs     []fakeProc
	busyTicks uint64
	wantShare float64
}

// runTree checks the share of each step after the first, with and without
// children files, so both discovery paths see the same tree.
func runTree(t *testing.T, rootPID int, steps []treeStep) {
	t.Helper()
	for _, childrenFiles := range []bool{true, false} {
		t.Run(fmt.Sprintf("children_files=%v", childrenFiles), func(t *testing.T) {
			fs := newFakeProcfs(t, childrenFiles)
			fs.setMachine(steps[0].busyTicks, 1_000_000)
			fs.setProcs(steps[0].procs...)
			share, err := NewProcessShare(ShareOptions{ProcfsRoot: fs.root, PID: rootPID})
			mustNoError(t, "NewProcessShare", err)
			if share.useChildren != childrenFiles {
				t.Fatalf("useChildren = %v, want %v", share.useChildren, childrenFiles)
			}

			for i, step := range steps[1:] {
				fs.setMachine(step.busyTicks, 1_000_000)
				fs.setProcs(step.procs...)
				got, err := share.CPUShare(epoch.Add(time.Duration(i+1) * time.Second))
				mustNoError(t, fmt.Sprintf("CPUShare round %d", i+1), err)
				checkNear(t, fmt.Sprintf("share in round %d", i+1), got, step.wantShare, 1e-12)
			}
		})
	}
}

func TestProcessShareCountsGrandchildren(t *testing.T) {
	// 100 -> 200 -> 300, and 400 outside the tree. In the round the tree
	// uses 50 + 30 + 40 = 120 ticks of 1000 busy ticks.
	runTree(t, 100, []treeStep{
		{busyTicks: 10_000, procs: []fakeProc{
			{pid: 100, ppid: 1, startTicks: 10, utime: 100, children: []int{200}},
			{pid: 200, ppid: 100, startTicks: 20, utime: 50, children: []int{300}},
			{pid: 300, ppid: 200, startTicks: 30, utime: 20},
			{pid: 400, ppid: 1, startTicks: 5, utime: 999},
		}},
		{busyTicks: 11_000, wantShare: 0.12, procs: []fakeProc{
			{pid: 100, ppid: 1, startTicks: 10, utime: 150, children: []int{200}},
			{pid: 200, ppid: 100, startTicks: 20, utime: 80, children: []int{300}},
			{pid: 300, ppid: 200, startTicks: 30, utime: 50, stime: 10},
			{pid: 400, ppid: 1, startTicks: 5, utime: 5000},
		}},
	})
}

func TestProcessShareVanishedPID(t *testing.T) {
	runTree(t, 100, []treeStep{
		{busyTicks: 10_000, procs: []fakeProc{
			{pid: 100, ppid: 1, startTicks: 10, utime: 100, children: []int{200}},
			{pid: 200, ppid: 100, startTicks: 20, utime: 50, children: []int{300}},
			{pid: 300, ppid: 200, startTicks: 30, utime: 20},
		}},
		// 300 exited after 60 ticks in all and 200 reaped it, so its
		// cutime holds them: 50 (100) + 30 (200) + 40 (300) = 120 ticks.
		{busyTicks: 11_000, wantShare: 0.12, procs: []fakeProc{
			{pid: 100, ppid: 1, startTicks: 10, utime: 150, children: []int{200}},
			{pid: 200, ppid: 100, startTicks: 20, utime: 80, cutime: 60},
		}},
		// 200 still lists 500 as a child but 500 exited before its stat
		// was read; the round still counts 100's 30 ticks.
		{busyTicks: 11_100, wantShare: 0.3, procs: []fakeProc{
			{pid: 100, ppid: 1, startTicks: 10, utime: 180, children: []int{200}},
			{pid: 200, ppid: 100, startTicks: 20, utime: 80, cutime: 60, children: []int{500}},
		}},
	})
}

func TestProcessShareShortLivedChildren(t *testing.T) {
	runTree(t, 100, []treeStep{
		{busyTicks: 10_000, procs: []fakeProc{
			{pid: 100, ppid: 1, startTicks: 10, utime: 100},
		}},
		// A child started and was reaped within the round (25 ticks in
		// 100's cutime and cstime) and another started and still runs
		// (30 ticks): 10 + 25 + 30 = 65 of 100 busy ticks.
		{busyTicks: 10_100, wantShare: 0.65, procs: []fakeProc{
			{pid: 100, ppid: 1, startTicks: 10, utime: 110, cutime: 20, cstime: 5, children: []int{600}},
			{pid: 600, ppid: 100, startTicks: 70, utime: 30},
		}},
	})
}

func TestProcessShareKeepsReparentedMembers(t *testing.T) {
	runTree(t, 100, []treeStep{
		{busyTicks: 10_000, procs: []fakeProc{
			{pid: 100, ppid: 1, startTicks: 10, utime: 100, children: []int{200}},
			{pid: 200, ppid: 100, startTicks: 20, utime: 50, children: []int{300}},
			{pid: 300, ppid: 200, startTicks: 30, utime: 20},
		}},
		// 200 exited (reaped by 100 with 70 ticks in all, 20 of them new)
		// and its child 300 now belongs to init, but 300 stays tracked:
		// 0 (100) + 20 (200) + 40 (300) = 60 of 100 busy ticks.
		{busyTicks: 10_100, wantShare: 0.6, procs: []fakeProc{
			{pid: 100, ppid: 1, startTicks: 10, utime: 100, cutime: 70},
			{pid: 300, ppid: 1, startTicks: 30, utime: 60},
		}},
	})
}

func TestProcessShareIgnoresReusedPID(t *testing.T) {
	runTree(t, 100, []treeStep{
		{busyTicks: 10_000, procs: []fakeProc{
			{pid: 100, ppid: 1, startTicks: 10, utime: 100, children: []int{200}},
			{pid: 200, ppid: 100, startTicks: 20, utime: 50},
		}},
		// 200 exited and was reaped by 100 (cutime 50, nothing new); its
		// PID now belongs to an unrelated process started later.
		{busyTicks: 10_100, wantShare: 0.1, procs: []fakeProc{
			{pid: 100, ppid: 1, startTicks: 10, utime: 110, cutime: 50},
			{pid: 200, ppid: 1, startTicks: 900, utime: 5000},
		}},
	})
}

func TestProcessShareRootExited(t *testing.T) {
	runTree(t, 100, []treeStep{
		{busyTicks: 10_000, procs: []fakeProc{
			{pid: 100, ppid: 50, startTicks: 10, utime: 100},
		}},
		// The wrapper (50, outside the tree) reaped the root: no error,
		// and no negative time from the root's ticks leaving the sum.
		{busyTicks: 10_100, wantShare: 0, procs: []fakeProc{
			{pid: 50, ppid: 1, startTicks: 1, utime: 9, cutime: 100},
		}},
	})
}

func TestNewProcessShareRejectsInvalidPID(t *testing.T) {
	for _, pid := range []int{0, -1} {
		if _, err := NewProcessShare(ShareOptions{ProcfsRoot: t.TempDir(), PID: pid}); err == nil {
			t.Errorf("NewProcessShare(pid %d) returned no error, want one", pid)
		}
	}
}

func TestTreeCPUTime(t *testing.T) {
	fs := newFakeProcfs(t, true)
	fs.setProcs(
		// Thread lines repeat the process's ticks; only the process line counts.
		fakeProc{pid: 100, ppid: 1, utime: 300, stime: 100, cutime: 50,
			threads: []fakeThread{{100, 150, 50}, {101, 150, 50}}},
		fakeProc{pid: 200, ppid: 1, utime: 40, stime: 10},
	)

	tests := []struct {
		name string
		pids []int
		want time.Duration
	}{
		{name: "none", pids: nil, want: 0},
		{name: "one process with threads", pids: []int{100}, want: 4500 * time.Millisecond},
		{name: "two processes", pids: []int{100, 200}, want: 5 * time.Second},
		{name: "vanished pid skipped", pids: []int{100, 999}, want: 4500 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := TreeCPUTime(fs.root, tc.pids)
			mustNoError(t, "TreeCPUTime", err)
			if got != tc.want {
				t.Errorf("TreeCPUTime(%v) = %v, want %v", tc.pids, got, tc.want)
			}
		})
	}
}

func TestTreeCPUTimeMalformedStat(t *testing.T) {
	fs := newFakeProcfs(t, true)
	fs.write("100/stat", "100 (broken")
	if _, err := TreeCPUTime(fs.root, []int{100}); err == nil {
		t.Errorf("TreeCPUTime on a malformed stat returned no error, want one")
	}
}

func BenchmarkProcessShare(b *testing.B) {
	for _, childrenFiles := range []bool{true, false} {
		b.Run(fmt.Sprintf("children_files=%v", childrenFiles), func(b *testing.B) {
			b.ReportAllocs()
			fs := newFakeProcfs(b, childrenFiles)
			fs.setMachine(10_000, 30_000)
			// A launcher with 4 workers of 8 threads each, and 200 other
			// processes that only the scan without children files reads.
			procs := []fakeProc{{pid: 100, ppid: 1, utime: 10, children: []int{101, 102, 103, 104}}}
			for w := 101; w <= 104; w++ {
				var threads []fakeThread
				for th := range 8 {
					threads = append(threads, fakeThread{tid: w*100 + th, utime: 1})
				}
				threads[0].tid = w
				procs = append(procs, fakeProc{pid: w, ppid: 100, utime: 8, threads: threads})
			}
			for other := 1000; other < 1200; other++ {
				procs = append(procs, fakeProc{pid: other, ppid: 1, utime: 5})
			}
			fs.setProcs(procs...)

			share, err := NewProcessShare(ShareOptions{ProcfsRoot: fs.root, PID: 100})
			mustNoError(b, "NewProcessShare", err)
			now := epoch
			for b.Loop() {
				now = now.Add(time.Second)
				if _, err := share.CPUShare(now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestProcessShareRootExitedWithRusage(t *testing.T) {
	fs := newFakeProcfs(t, true)
	fs.setMachine(10_000, 30_000)
	fs.setProcs(fakeProc{pid: 100, ppid: 50, startTicks: 10, utime: 100})
	share, err := NewProcessShare(ShareOptions{ProcfsRoot: fs.root, PID: 100})
	mustNoError(t, "NewProcessShare", err)

	// The root ran 200 more ticks (2 s) before the wrapper reaped it; wait4
	// reports 3 s in all. The machine was busy for 400 ticks.
	fs.setMachine(10_400, 30_400)
	fs.setProcs(fakeProc{pid: 50, ppid: 1, startTicks: 1, utime: 9})
	share.RootExited(3 * time.Second)
	got, err := share.CPUShare(epoch.Add(time.Second))
	mustNoError(t, "CPUShare", err)
	checkNear(t, "share of the last interval", got, 0.5, 1e-12)
}
