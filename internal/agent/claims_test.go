// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/carbonrun/carbonrun/sampler"
)

func TestNewLogsSiteWarningsOnce(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	site := TestSite
	site.Warnings = []string{"no region given, using the world-average carbon intensity", "PUE unknown"}
	n := newTestNode(t, 1, func(o *Options) { o.Site = site; o.Log = zap.New(core) })
	n.agent.Sample()
	n.agent.Sample()

	for _, w := range site.Warnings {
		found := logs.FilterMessage(w).All()
		require.Len(t, found, 1, "log lines for %q", w)
		assert.Equal(t, zapcore.WarnLevel, found[0].Level, "level of %q", w)
	}
}

func TestStartSurvivesCrash(t *testing.T) {
	state := t.TempDir()
	withState := func(o *Options) { o.StateDir = state }
	first := newTestNode(t, 1, withState)
	first.agent.Sample()
	_, err := first.agent.Start(JobSpec{ID: "acked", PIDs: []int{100}, GPUs: []string{"0"}})
	require.NoError(t, err)

	// The first agent is killed here: no further round and no Shutdown.
	second := newTestNode(t, 1, withState)
	view, err := second.agent.Job("acked")
	require.NoError(t, err, "a job acknowledged by Start survives a crash")
	assert.Equal(t, "open", view.Status)
	assert.Equal(t, []int{100}, view.PIDs)
}

func TestEndSurvivesCrash(t *testing.T) {
	state := t.TempDir()
	withState := func(o *Options) { o.StateDir = state }
	first := newTestNode(t, 1, withState)
	first.agent.Sample()
	_, err := first.agent.Start(JobSpec{ID: "done", GPUs: []string{"0"}})
	require.NoError(t, err)
	first.clock.Advance(DefaultCheckpointInterval)
	first.agent.Sample() // a periodic checkpoint with the job open
	first.clock.Advance(time.Second)
	_, err = first.agent.End("done")
	require.NoError(t, err)

	second := newTestNode(t, 1, withState)
	view, err := second.agent.Job("done")
	require.NoError(t, err, "an ended job within its retention is kept after a crash")
	assert.Equal(t, "ended", view.Status, "an ended job is not reopened after a crash")
	assert.Empty(t, second.agent.Jobs().Jobs, "open jobs after the restart")
}

func TestStartRejectsWholeMachine(t *testing.T) {
	live := map[int]bool{1: true, 100: true, os.Getpid(): true}
	tests := []struct {
		name    string
		pids    []int
		wantMsg string
	}{
		{"init", []int{1}, "pid 1 is init, whose process tree is the whole machine"},
		{"init among others", []int{100, 1}, "pid 1 is init"},
		{"agent itself", []int{os.Getpid()}, "carbon-agent process itself"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNode(t, 1, func(o *Options) { o.Processes = FakeProcesses{Live: live} })
			_, err := n.agent.Start(JobSpec{ID: "j", PIDs: tc.pids})
			require.ErrorIs(t, err, ErrProcessNotAllowed)
			assert.Equal(t, 422, StatusCode(err), "HTTP status")
			assert.ErrorContains(t, err, tc.wantMsg)
			assert.ErrorContains(t, err, "cgroup or slurm_job_id", "the message suggests a fix")
			assert.Empty(t, n.agent.Jobs().Jobs, "a rejected start opens no job")
		})
	}
}

func TestSelfPIDFromProcfs(t *testing.T) {
	root := t.TempDir()
	assert.Equal(t, os.Getpid(), selfPID(root), "no self link: this process's PID")
	require.NoError(t, os.Symlink("4242", filepath.Join(root, "self")))
	assert.Equal(t, 4242, selfPID(root), "the PID of the procfs's self link")
}

func TestSharedProcessesWarned(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	procs := FakeProcesses{
		Live:     map[int]bool{100: true, 101: true, 102: true, 300: true},
		Children: map[int][]int{100: {101}, 101: {102}},
	}
	n := newTestNode(t, 0, func(o *Options) { o.Processes = procs; o.Log = zap.New(core) })
	a := n.agent
	a.Sample()
	for _, spec := range []JobSpec{
		{ID: "parent", PIDs: []int{100}},
		{ID: "child", PIDs: []int{101}},
		{ID: "apart", PIDs: []int{300}},
	} {
		_, err := a.Start(spec)
		require.NoError(t, err, "start %s: jobs with shared processes are accepted", spec.ID)
	}

	shared := logs.FilterMessageSnippet("jobs share processes").All()
	require.Len(t, shared, 1, "one log line for the one pair")
	assert.Equal(t, zapcore.WarnLevel, shared[0].Level)
	assert.Equal(t, "child", shared[0].ContextMap()["job_id"])
	assert.Equal(t, "parent", shared[0].ContextMap()["other_job_id"])

	warnings := map[string]string{}
	for _, id := range []string{"parent", "child", "apart"} {
		rep, err := a.End(id)
		require.NoError(t, err)
		warnings[id] = strings.Join(rep.Warnings, "\n")
	}
	assert.Contains(t, warnings["parent"], `processes 101, 102 also belong to job "child"`)
	assert.Contains(t, warnings["child"], `processes 101, 102 also belong to job "parent"`)
	assert.NotContains(t, warnings["apart"], "also belong to job", "a job with its own processes")
}

// fakeProcfs is a procfs tree with /proc/stat and /proc/<pid>/stat files.
type fakeProcfs struct {
	t    testing.TB
	root string
}

// setMachine writes the aggregate cpu line of /proc/stat, in ticks of 10 ms.
func (p fakeProcfs) setMachine(busyTicks, idleTicks int) {
	line := "cpu  " + strconv.Itoa(busyTicks) + " 0 0 " + strconv.Itoa(idleTicks) + " 0 0 0 0 0 0\n"
	require.NoError(p.t, os.WriteFile(filepath.Join(p.root, "stat"), []byte(line), 0o644))
}

// setProcess writes /proc/<pid>/stat with the user CPU time of the process
// and of its reaped children, in ticks.
func (p fakeProcfs) setProcess(pid, ppid, utimeTicks, cutimeTicks int) {
	dir := filepath.Join(p.root, strconv.Itoa(pid))
	require.NoError(p.t, os.MkdirAll(dir, 0o755))
	line := strconv.Itoa(pid) + " (worker) S " + strconv.Itoa(ppid) + " 1 1 0 -1 4194304 0 0 0 0 " +
		strconv.Itoa(utimeTicks) + " 0 " + strconv.Itoa(cutimeTicks) + " 0 20 0 1 0 100\n"
	require.NoError(p.t, os.WriteFile(filepath.Join(dir, "stat"), []byte(line), 0o644))
}

// TestProcessJobFollowsNewChildren registers a wrapper's own PID before its
// workload starts, as carbon-run does, and checks that the children that
// appear later are charged to the job.
func TestProcessJobFollowsNewChildren(t *testing.T) {
	procfs := fakeProcfs{t: t, root: t.TempDir()}
	const wrapper, worker, helper = 500, 501, 502
	procfs.setMachine(1000, 0)
	procfs.setProcess(1, 0, 5000, 0)
	procfs.setProcess(wrapper, 1, 10, 0)

	src := NewFakeSource(0, CPUZone("package-0", 0))
	clock := NewFakeClock()
	a, err := New(Options{
		Sources:    []sampler.Source{src},
		CPU:        SystemCPU{ProcfsRoot: procfs.root},
		ProcfsRoot: procfs.root,
		Site:       TestSite,
		Now:        clock.Now,
	})
	require.NoError(t, err)
	a.Sample()
	_, err = a.Start(JobSpec{ID: "wrapped", PIDs: []int{wrapper}})
	require.NoError(t, err)

	// The workload starts after the job: 300 of the machine's 1000 busy
	// ticks are the new processes'.
	clock.Advance(10 * time.Second)
	procfs.setMachine(2000, 0)
	procfs.setProcess(worker, wrapper, 200, 0)
	procfs.setProcess(helper, worker, 100, 0)
	src.Set(100)
	a.Sample()

	// The helper uses 50 more ticks and exits, and the worker reaps it, so
	// its 150 ticks move to the worker's cutime. With the worker's own 200,
	// the job has 250 of the next 1000 busy ticks.
	clock.Advance(10 * time.Second)
	require.NoError(t, os.RemoveAll(filepath.Join(procfs.root, strconv.Itoa(helper))))
	procfs.setMachine(3000, 0)
	procfs.setProcess(worker, wrapper, 400, 150)
	src.Set(200)
	rep, err := a.End("wrapped")
	require.NoError(t, err)

	want := 0.3*100 + 0.25*100
	assert.InDelta(t, want, componentJoules(t, rep, "cpu", 0), joulesTolerance,
		"CPU joules of the processes started after the job")
}

// TestNestedClaimsSplitPerProcess registers one busy loop as three jobs,
// one by its parent's PID and two by its own, next to an unrelated job on
// a busy loop of its own. The shared loop's CPU time is split among its
// three claimants, and the unrelated job keeps exactly its own share.
func TestNestedClaimsSplitPerProcess(t *testing.T) {
	procfs := fakeProcfs{t: t, root: t.TempDir()}
	const parent, loop, innocent, other = 500, 501, 600, 700
	procfs.setMachine(1000, 0)
	procfs.setProcess(1, 0, 5000, 0)
	procfs.setProcess(parent, 1, 10, 0)
	procfs.setProcess(loop, parent, 20, 0)
	procfs.setProcess(innocent, 1, 30, 0)
	procfs.setProcess(other, 1, 40, 0)

	src := NewFakeSource(0, CPUZone("package-0", 0))
	clock := NewFakeClock()
	a, err := New(Options{
		Sources:    []sampler.Source{src},
		CPU:        SystemCPU{ProcfsRoot: procfs.root},
		ProcfsRoot: procfs.root,
		Site:       TestSite,
		Now:        clock.Now,
	})
	require.NoError(t, err)
	a.Sample()
	for _, spec := range []JobSpec{
		{ID: "nestX", PIDs: []int{parent}},
		{ID: "nestY", PIDs: []int{loop}},
		{ID: "nestZ", PIDs: []int{loop}},
		{ID: "innocent", PIDs: []int{innocent}},
	} {
		_, err := a.Start(spec)
		require.NoError(t, err, "start %s", spec.ID)
	}

	// Over 6 s the machine is busy for 1300 ticks: 600 in the shared
	// loop, 600 in the innocent loop and 100 in a process of no job.
	const nodeJoules = 304.5
	clock.Advance(6 * time.Second)
	procfs.setMachine(2300, 0)
	procfs.setProcess(loop, parent, 20+600, 0)
	procfs.setProcess(innocent, 1, 30+600, 0)
	procfs.setProcess(other, 1, 40+100, 0)
	src.Set(nodeJoules)
	a.Sample()

	list := a.Jobs()
	got := map[string]float64{}
	var jobsTotal float64
	for _, v := range list.Jobs {
		got[v.ID] = v.TotalEnergyJoules
		jobsTotal += v.TotalEnergyJoules
	}
	const tolerance = 1e-9
	assert.InDelta(t, nodeJoules*600/1300, got["innocent"], tolerance, "innocent job: its own loop's share")
	assert.InDelta(t, nodeJoules*600/1300, got["nestX"]+got["nestY"]+got["nestZ"], tolerance,
		"the three claimants together: the shared loop's share")
	for _, id := range []string{"nestX", "nestY", "nestZ"} {
		assert.InDelta(t, nodeJoules*200/1300, got[id], tolerance, "claimant %s: a third of the loop", id)
	}
	assert.InDelta(t, nodeJoules*100/1300, list.Idle.TotalEnergyJoules, tolerance, "idle: the unclaimed process")
	assert.InDelta(t, nodeJoules, jobsTotal+list.Idle.TotalEnergyJoules, tolerance, "node total = jobs + idle")

	warnings := map[string]string{}
	for _, id := range []string{"nestX", "nestY", "nestZ", "innocent"} {
		rep, err := a.End(id)
		require.NoError(t, err)
		warnings[id] = strings.Join(rep.Warnings, "\n")
	}
	assert.Contains(t, warnings["nestX"], `processes 501 also belong to job "nestY"`)
	assert.Contains(t, warnings["nestX"], "split equally among the jobs that claim them")
	assert.Contains(t, warnings["nestZ"], `processes 501 also belong to job "nestX"`)
	assert.NotContains(t, warnings["innocent"], "also belong to job", "the innocent job shares nothing")
	assert.NotContains(t, warnings["innocent"], "scaled down", "no share was scaled")
}

// TestExitedSharedChildNotCountedTwice checks that a claimed child whose
// parent reaps it adds only its CPU time since the last round, not the
// time that was charged while it lived.
func TestExitedSharedChildNotCountedTwice(t *testing.T) {
	procfs := fakeProcfs{t: t, root: t.TempDir()}
	const parent, child, grandchild = 500, 501, 502
	procfs.setMachine(1000, 0)
	procfs.setProcess(parent, 1, 0, 0)
	procfs.setProcess(child, parent, 100, 0)
	procfs.setProcess(grandchild, child, 100, 0)

	var table procTable
	require.NoError(t, table.read(procfs.root))
	require.False(t, table.advance(), "the first advance only records")

	// The grandchild uses 50 more ticks and is reaped by the child, which
	// uses 20 more and is reaped by the parent: the parent's cutime now
	// holds all 270 ticks of both, of which 200 were counted before.
	require.NoError(t, os.RemoveAll(filepath.Join(procfs.root, strconv.Itoa(grandchild))))
	require.NoError(t, os.RemoveAll(filepath.Join(procfs.root, strconv.Itoa(child))))
	procfs.setProcess(parent, 1, 5, 270)
	require.NoError(t, table.read(procfs.root))
	require.True(t, table.advance(), "the second advance has deltas")

	require.True(t, table.claim([]int{parent}))
	ticks, ok := table.claimedTicks([]int{parent})
	require.True(t, ok)
	assert.InDelta(t, 5+50+20, ticks, 1e-12, "ticks since the previous advance")
}
