// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carbonrun/carbonrun/report"
	"github.com/carbonrun/carbonrun/sampler"
)

const joulesTolerance = 1e-9

// testNode is an agent over a fake source with a fake clock and CPU.
type testNode struct {
	agent *Agent
	src   *FakeSource
	cpu   *FakeCPU
	clock *FakeClock
}

func newTestNode(t *testing.T, gpus int, modify func(*Options)) *testNode {
	t.Helper()
	n := &testNode{
		src:   NewFakeSource(gpus, CPUZone("package-0", 0)),
		cpu:   NewFakeCPU(),
		clock: NewFakeClock(),
	}
	opts := Options{
		Sources:   []sampler.Source{n.src},
		CPU:       n.cpu,
		Processes: FakeProcesses{Live: map[int]bool{100: true, 200: true, 300: true}},
		Site:      TestSite,
		Now:       n.clock.Now,
		Version:   "test",
		Hostname:  "node1",
	}
	if modify != nil {
		modify(&opts)
	}
	a, err := New(opts)
	require.NoError(t, err)
	n.agent = a
	return n
}

// step advances the clock by one second and sets the cumulative joules.
func (n *testNode) step(joules ...float64) {
	n.clock.Advance(time.Second)
	n.src.Set(joules...)
}

func componentJoules(t *testing.T, rep FinalReport, kind string, index int) float64 {
	t.Helper()
	for _, c := range rep.Components {
		if c.Kind == kind && c.Index == index {
			return c.EnergyJoules
		}
	}
	t.Fatalf("report of %s has no %s component %d; components: %+v", rep.JobID, kind, index, rep.Components)
	return 0
}

func TestOverlappingJobsDisjointGPUs(t *testing.T) {
	n := newTestNode(t, 4, nil)
	a := n.agent
	a.Sample() // baseline at zero

	n.step(100, 200, 300, 400, 50)
	n.cpu.Advance(10*time.Second, map[int]time.Duration{100: 2 * time.Second})
	_, err := a.Start(JobSpec{ID: "a", PIDs: []int{100}, GPUs: []string{"0", "GPU-00000001-0000-0000-0000-000000000000"}})
	require.NoError(t, err)

	n.step(250, 500, 600, 900, 150)
	n.cpu.Advance(10*time.Second, map[int]time.Duration{100: 2 * time.Second, 200: 3 * time.Second})
	_, err = a.Start(JobSpec{ID: "b", PIDs: []int{200}, GPUs: []string{"2"}})
	require.NoError(t, err)

	n.step(400, 800, 1000, 1500, 300)
	n.cpu.Advance(10*time.Second, map[int]time.Duration{100: 2 * time.Second, 200: 3 * time.Second})
	a.Sample()

	n.step(500, 1000, 1500, 2000, 400)
	n.cpu.Advance(10*time.Second, map[int]time.Duration{100: 2 * time.Second, 200: 3 * time.Second})
	repA, err := a.End("a")
	require.NoError(t, err)

	n.step(600, 1100, 1700, 2100, 450)
	n.cpu.Advance(10*time.Second, map[int]time.Duration{200: 3 * time.Second})
	repB, err := a.End("b")
	require.NoError(t, err)

	// Each job gets exactly its GPUs' counter differences over its life.
	assert.InDelta(t, 500.0-100, componentJoules(t, repA, "gpu", 0), joulesTolerance, "job a gpu 0")
	assert.InDelta(t, 1000.0-200, componentJoules(t, repA, "gpu", 1), joulesTolerance, "job a gpu 1")
	assert.InDelta(t, 1700.0-600, componentJoules(t, repB, "gpu", 2), joulesTolerance, "job b gpu 2")
	assert.Len(t, repA.Components, 3, "job a: two GPUs and one CPU zone")
	assert.Len(t, repB.Components, 2, "job b: one GPU and one CPU zone")

	// CPU: a has 2 s of every 10 s busy time, b 3 s.
	assert.InDelta(t, 0.2*(100+150+100), componentJoules(t, repA, "cpu", 0), joulesTolerance, "job a cpu")
	assert.InDelta(t, 0.3*(150+100+50), componentJoules(t, repB, "cpu", 0), joulesTolerance, "job b cpu")

	// Node total = jobs + idle, per kind.
	var snap Snapshot
	a.Snapshot(&snap)
	nodeByKind := map[sampler.Kind]float64{}
	for _, c := range snap.Components {
		nodeByKind[c.Kind] += float64(c.Energy)
	}
	for slot, kind := range snap.Kinds {
		sum := float64(snap.Idle.Joules[slot])
		for _, j := range snap.Jobs {
			sum += float64(j.Joules[slot])
		}
		assert.InDelta(t, nodeByKind[kind], sum, 1e-6, "kind %s: node total vs jobs + idle", kind)
	}
	assert.InDelta(t, 600.0+1100+1700+2100, nodeByKind[sampler.KindGPU], joulesTolerance, "node gpu total")
}

func TestReportFields(t *testing.T) {
	n := newTestNode(t, 1, nil)
	a := n.agent
	a.Sample()
	_, err := a.Start(JobSpec{ID: "r1", PIDs: []int{100}, GPUs: []string{"0"}})
	require.NoError(t, err)
	n.step(3.6e6, 0)
	rep, err := a.End("r1")
	require.NoError(t, err)

	assert.Equal(t, report.SchemaVersion, rep.SchemaVersion)
	assert.Equal(t, ToolName, rep.Tool.Name)
	assert.Equal(t, report.StatusEnded, rep.Status)
	assert.True(t, rep.Complete)
	assert.Nil(t, rep.ExitCode)
	assert.Equal(t, "FR", rep.Region.Code)
	assert.InDelta(t, 1.0, rep.ITEnergyKWh, 1e-12, "it energy kWh")
	assert.InDelta(t, 1.5, rep.FacilityEnergyKWh, 1e-12, "facility energy kWh = it x PUE")
	assert.InDelta(t, 0.15, rep.EmissionsKg, 1e-12, "emissions kg = 1.5 kWh x 100 g/kWh")
	assert.InDelta(t, 1.0, rep.MeasuredEnergyKWh, 1e-12, "measured energy kWh")
	assert.InDelta(t, 1.0, rep.DurationSeconds, 1e-12, "duration seconds")
	require.NotEmpty(t, rep.Components)
	assert.Equal(t, "energy_counter", rep.Components[0].Method)
	assert.Contains(t, rep.Components[0].Detail, "whole device")
	assert.InDelta(t, 3.6e6, rep.Components[0].MaxPowerWatts, 1e-6, "max power over a 1 s round")
}

func TestSharedGPUSplit(t *testing.T) {
	tests := []struct {
		name       string
		shares     FakeGPUShares
		wantA      float64
		wantB      float64
		wantIdle   float64
		wantDetail string
	}{
		{
			name:   "by utilisation",
			shares: FakeGPUShares{Shares: map[int]map[uint32]float64{0: {100: 0.6, 200: 0.2, 999: 0.2}}},
			wantA:  600, wantB: 200, wantIdle: 200,
			wantDetail: "share of device utilisation in 1 and equally (no per-process utilisation) in 0",
		},
		{
			name:   "equal without utilisation",
			shares: FakeGPUShares{Err: errors.New("not supported")},
			wantA:  500, wantB: 500, wantIdle: 0,
			wantDetail: "in 0 and equally (no per-process utilisation) in 1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNode(t, 1, func(o *Options) { o.GPUShares = tc.shares })
			a := n.agent
			a.Sample()
			_, err := a.Start(JobSpec{ID: "a", PIDs: []int{100}, GPUs: []string{"0"}})
			require.NoError(t, err)
			_, err = a.Start(JobSpec{ID: "b", PIDs: []int{200}, GPUs: []string{"0"}})
			require.NoError(t, err)
			n.step(1000, 0)
			a.Sample()

			idle, err := a.Job(IdleJobID)
			require.NoError(t, err)
			assert.InDelta(t, tc.wantIdle, idle.EnergyJoules["gpu"], joulesTolerance, "idle gpu joules")
			repA, err := a.End("a")
			require.NoError(t, err)
			repB, err := a.End("b")
			require.NoError(t, err)
			assert.InDelta(t, tc.wantA, componentJoules(t, repA, "gpu", 0), joulesTolerance, "job a")
			assert.InDelta(t, tc.wantB, componentJoules(t, repB, "gpu", 0), joulesTolerance, "job b")
			assert.Contains(t, repA.Components[0].Detail, tc.wantDetail)
		})
	}
}

func TestCPUSharesClampedToNode(t *testing.T) {
	n := newTestNode(t, 0, nil)
	a := n.agent
	a.Sample()
	n.cpu.Advance(0, map[int]time.Duration{100: 0, 200: 0})
	for _, spec := range []JobSpec{{ID: "a", PIDs: []int{100}}, {ID: "b", PIDs: []int{200}}} {
		_, err := a.Start(spec)
		require.NoError(t, err)
	}
	// Both trees claim 8 s of 10 s busy time: counted twice, 160 %.
	n.step(52)
	n.cpu.Advance(10*time.Second, map[int]time.Duration{100: 8 * time.Second, 200: 8 * time.Second})
	a.Sample()

	list := a.Jobs()
	require.Len(t, list.Jobs, 2)
	sum := list.Jobs[0].TotalEnergyJoules + list.Jobs[1].TotalEnergyJoules
	assert.InDelta(t, 52.0, sum, 1e-9, "jobs never exceed the node's 52 J")
	assert.InDelta(t, 26.0, list.Jobs[0].TotalEnergyJoules, 1e-9, "equal over-counted shares split evenly")
	assert.InDelta(t, 0.0, list.Idle.TotalEnergyJoules, 1e-9, "idle")
}

func TestEndTwice_CR25(t *testing.T) {
	dir := t.TempDir()
	n := newTestNode(t, 1, func(o *Options) { o.ReportDir = dir; o.JobRetention = time.Minute })
	a := n.agent
	a.Sample()
	_, err := a.Start(JobSpec{ID: "once", GPUs: []string{"0"}})
	require.NoError(t, err)
	n.step(10, 0)

	_, err = a.End("once")
	require.NoError(t, err)
	_, err = a.End("once")
	require.ErrorIs(t, err, ErrJobConflict)
	_, err = a.Start(JobSpec{ID: "once", GPUs: []string{"0"}})
	require.ErrorIs(t, err, ErrJobConflict, "a retained id cannot start again")

	n.clock.Advance(2 * time.Minute)
	a.Sample()
	_, err = a.End("once")
	require.ErrorIs(t, err, ErrJobNotFound, "after the retention the id is gone")

	files, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(dir, "once", "report.json")}, files, "exactly one report file")
}

func TestRestartResumesJob(t *testing.T) {
	state := t.TempDir()
	withState := func(o *Options) { o.StateDir = state }
	first := newTestNode(t, 1, withState)
	first.agent.Sample()
	_, err := first.agent.Start(JobSpec{ID: "long", PIDs: []int{100}, GPUs: []string{"0"}})
	require.NoError(t, err)
	first.step(40, 10)
	first.cpu.Advance(10*time.Second, map[int]time.Duration{100: 5 * time.Second})
	first.agent.Sample()
	require.NoError(t, first.agent.Checkpoint())
	before, err := first.agent.Job("long")
	require.NoError(t, err)

	// A new process: fresh sources count from zero again.
	second := newTestNode(t, 1, withState)
	resumed, err := second.agent.Job("long")
	require.NoError(t, err)
	assert.Equal(t, before.EnergyJoules, resumed.EnergyJoules, "counters survive the restart")
	assert.Equal(t, before.StartTime, resumed.StartTime, "start time survives the restart")

	second.agent.Sample()
	second.step(25, 0)
	rep, err := second.agent.End("long")
	require.NoError(t, err)
	assert.InDelta(t, 40.0+25, componentJoules(t, rep, "gpu", 0), joulesTolerance, "gpu joules before + after")
	assert.True(t, strings.Contains(strings.Join(rep.Warnings, "\n"), "the agent restarted"),
		"warnings %q should mention the restart gap", rep.Warnings)
}

func TestShutdownReportsOpenJobs(t *testing.T) {
	dir := t.TempDir()
	n := newTestNode(t, 1, func(o *Options) { o.ReportDir = dir; o.StateDir = t.TempDir() })
	a := n.agent
	a.Sample()
	_, err := a.Start(JobSpec{ID: "j.1", GPUs: []string{"0"}})
	require.NoError(t, err)
	n.step(7, 0)
	require.NoError(t, a.Shutdown())

	data, err := os.ReadFile(filepath.Join(dir, "j.1", "report.json"))
	require.NoError(t, err)
	assert.Contains(t, string(data), `"status": "ended_by_shutdown"`)
	view, err := a.Job("j.1")
	require.NoError(t, err)
	assert.Equal(t, "open", view.Status, "the job stays open for a restarted agent")
	_, err = a.End("j.1")
	assert.ErrorIs(t, err, ErrShuttingDown, "the restarted agent ends the job")
	_, err = a.Start(JobSpec{ID: "late", GPUs: []string{"0"}})
	assert.ErrorIs(t, err, ErrShuttingDown)
}

func TestStartValidation(t *testing.T) {
	tests := []struct {
		name string
		spec JobSpec
		want error
	}{
		{"empty id", JobSpec{GPUs: []string{"0"}}, ErrInvalidRequest},
		{"dot dot", JobSpec{ID: "..", GPUs: []string{"0"}}, ErrInvalidRequest},
		{"slash", JobSpec{ID: "a/b", GPUs: []string{"0"}}, ErrInvalidRequest},
		{"too long", JobSpec{ID: strings.Repeat("x", 129), GPUs: []string{"0"}}, ErrInvalidRequest},
		{"reserved idle", JobSpec{ID: "idle", GPUs: []string{"0"}}, ErrInvalidRequest},
		{"nothing tracked", JobSpec{ID: "a"}, ErrInvalidRequest},
		{"pids and cgroup", JobSpec{ID: "a", PIDs: []int{100}, Cgroup: "x"}, ErrInvalidRequest},
		{"negative pid", JobSpec{ID: "a", PIDs: []int{-1}}, ErrInvalidRequest},
		{"missing pid", JobSpec{ID: "a", PIDs: []int{4242}}, ErrUnresolvable},
		{"unknown gpu", JobSpec{ID: "a", GPUs: []string{"7"}}, ErrUnresolvable},
		{"cgroup escape", JobSpec{ID: "a", Cgroup: "/sys/fs/cgroup/../../etc"}, ErrInvalidRequest},
		{"cgroup outside", JobSpec{ID: "a", Cgroup: "/etc"}, ErrInvalidRequest},
		{"slurm not numeric", JobSpec{ID: "a", SlurmJobID: "12;rm"}, ErrInvalidRequest},
		{"slurm not found", JobSpec{ID: "a", SlurmJobID: "99"}, ErrUnresolvable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNode(t, 1, func(o *Options) { o.SysfsRoot = t.TempDir() })
			_, err := n.agent.Start(tc.spec)
			require.ErrorIs(t, err, tc.want, "got %v", err)
			assert.Empty(t, n.agent.Jobs().Jobs, "a rejected start opens no job")
		})
	}
}

func TestSlurmCgroupSearch(t *testing.T) {
	sysfs := t.TempDir()
	v1 := filepath.Join(sysfs, "fs", "cgroup", "memory", "slurm", "uid_1000", "job_77")
	acct := filepath.Join(sysfs, "fs", "cgroup", "cpuacct", "slurm", "uid_1000", "job_77")
	for _, dir := range []string{v1, acct} {
		require.NoError(t, os.MkdirAll(dir, 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(acct, "cpuacct.usage"), []byte("1\n"), 0o644))

	got, err := findSlurmCgroup(sysfs, "77")
	require.NoError(t, err)
	assert.Equal(t, acct, got, "the directory with CPU accounting wins")
	_, err = findSlurmCgroup(sysfs, "78")
	assert.ErrorIs(t, err, ErrUnresolvable)

	rel, err := resolveCgroup(sysfs, "/sys/fs/cgroup/memory/slurm/uid_1000/job_77")
	require.NoError(t, err)
	assert.Equal(t, v1, rel)

	usage, err := SystemCPU{}.CgroupCPUTime(acct)
	require.NoError(t, err, "cgroup v1 cpuacct.usage")
	assert.Equal(t, time.Nanosecond, usage)
}

func TestProcessTreeCPUTime(t *testing.T) {
	root := t.TempDir()
	stat := func(pid, ppid int, utime, stime int) {
		dir := filepath.Join(root, strconv.Itoa(pid))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		line := strconv.Itoa(pid) + " (python3 (x) y) S " + strconv.Itoa(ppid) +
			" 1 1 0 -1 4194304 0 0 0 0 " + strconv.Itoa(utime) + " " + strconv.Itoa(stime) + " 0 0 20 0 1 0 100\n"
		require.NoError(t, os.WriteFile(filepath.Join(dir, "stat"), []byte(line), 0o644))
	}
	stat(1, 0, 1000, 1000)
	stat(10, 1, 100, 50)
	stat(11, 10, 30, 20)
	stat(12, 11, 0, 100)
	stat(20, 1, 999, 999)

	p := ProcFS{Root: root}
	pids, err := p.TreePIDs([]int{10})
	require.NoError(t, err)
	assert.ElementsMatch(t, []int{10, 11, 12}, pids)
	assert.True(t, p.Exists(20))
	assert.False(t, p.Exists(21))

	c := SystemCPU{ProcfsRoot: root}
	cpuTime, err := c.TreeCPUTime([]int{10})
	require.NoError(t, err)
	assert.Equal(t, 3*time.Second, cpuTime, "300 ticks at 100 Hz over the tree below pid 10")
	_, err = c.TreeCPUTime([]int{21})
	assert.Error(t, err, "a tree with no live process")
}

func TestRetentionDropsEndedSeries(t *testing.T) {
	n := newTestNode(t, 1, func(o *Options) { o.JobRetention = 30 * time.Second; o.MaxEndedJobs = 3 })
	a := n.agent
	a.Sample()
	for _, id := range []string{"j1", "j2", "j3", "j4", "j5"} {
		_, err := a.Start(JobSpec{ID: id, GPUs: []string{"0"}})
		require.NoError(t, err)
		_, err = a.End(id)
		require.NoError(t, err)
	}
	var snap Snapshot
	a.Snapshot(&snap)
	assert.Len(t, snap.Jobs, 3, "at most MaxEndedJobs ended jobs are kept")

	n.clock.Advance(31 * time.Second)
	a.Sample()
	a.Snapshot(&snap)
	assert.Empty(t, snap.Jobs, "ended jobs are dropped after the retention")
}

func TestRunDrivenByTicker(t *testing.T) {
	ticks := make(chan time.Time)
	stopped := false
	n := newTestNode(t, 1, func(o *Options) {
		o.NewTicker = func(time.Duration) (<-chan time.Time, func()) { return ticks, func() { stopped = true } }
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- n.agent.Run(ctx) }()
	for range 3 {
		ticks <- time.Time{}
	}
	cancel()
	require.NoError(t, <-done)

	var snap Snapshot
	n.agent.Snapshot(&snap)
	assert.Equal(t, uint64(4), snap.Rounds.Count, "baseline round and one round per tick")
	assert.True(t, stopped, "ticker stopped")
}

func TestDaySoak_CR22(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test")
	}
	n := newTestNode(t, 2, nil)
	a := n.agent
	a.Sample()
	n.cpu.Advance(0, map[int]time.Duration{100: 0})
	_, err := a.Start(JobSpec{ID: "day", PIDs: []int{100}, GPUs: []string{"0"}})
	require.NoError(t, err)
	goroutines := runtime.NumGoroutine()
	var heapStart uint64

	const rounds = 86400 // one day at the default 1 s interval
	for k := range rounds {
		n.clock.Advance(time.Second)
		n.src.Add(0, 300)
		n.src.Add(1, 200)
		n.src.Add(2, 50)
		n.cpu.Advance(10*time.Second, map[int]time.Duration{100: 5 * time.Second})
		a.Sample()
		if k == 1000 {
			heapStart = heapInUse()
		}
	}
	heapEnd := heapInUse()
	// Goroutines that earlier tests left winding down may exit meanwhile,
	// so only a rise is a leak.
	assert.LessOrEqual(t, runtime.NumGoroutine(), goroutines, "goroutine count")
	assert.Less(t, int64(heapEnd)-int64(heapStart), int64(5<<20),
		"heap in use grows by less than 5 MiB over a day of rounds: %d B then %d B", heapStart, heapEnd)
	rep, err := a.End("day")
	require.NoError(t, err)
	assert.InDelta(t, 300.0*rounds, componentJoules(t, rep, "gpu", 0), 1e-3, "a day of GPU 0")
	assert.InDelta(t, 25.0*rounds, componentJoules(t, rep, "cpu", 0), 1e-3, "half of a day of CPU")
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func TestEndConcurrentWithJobList(t *testing.T) {
	// Run with -race: End sets the job's report directory while Jobs reads
	// the open jobs' views.
	n := newTestNode(t, 1, func(o *Options) { o.ReportDir = t.TempDir() })
	a := n.agent
	a.Sample()
	const jobs = 50
	for i := range jobs {
		_, err := a.Start(JobSpec{ID: "j" + strconv.Itoa(i), GPUs: []string{"0"}})
		require.NoError(t, err)
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				a.Jobs()
			}
		}
	})
	for i := range jobs {
		rep, err := a.End("j" + strconv.Itoa(i))
		require.NoError(t, err)
		assert.NotEmpty(t, rep.ReportDir, "report directory of job %d", i)
	}
	close(stop)
	wg.Wait()
	assert.Empty(t, a.Jobs().Jobs, "open jobs after every end")
}

func TestMaxPowerSkipsShortRound(t *testing.T) {
	n := newTestNode(t, 1, nil)
	a := n.agent
	a.Sample()
	_, err := a.Start(JobSpec{ID: "steady", GPUs: []string{"0"}})
	require.NoError(t, err)

	// A steady 250 W GPU whose counter moves in 5 J steps, one every 20 ms.
	var joules float64
	for range 5 {
		joules += 250
		n.step(joules, 0)
		a.Sample()
	}
	// The end comes 10 ms after a tick, and one 5 J step landed in it.
	n.clock.Advance(10 * time.Millisecond)
	joules += 5
	n.src.Set(joules, 0)
	rep, err := a.End("steady")
	require.NoError(t, err)

	require.Len(t, rep.Components, 1, "components of a GPU-only job")
	gpu := rep.Components[0]
	assert.InDelta(t, 250.0, gpu.MaxPowerWatts, joulesTolerance, "max power of the 1 s rounds")
	assert.InDelta(t, 1255.0, gpu.EnergyJoules, joulesTolerance, "energy includes the short round")
}
