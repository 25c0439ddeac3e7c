// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carbonrun/carbonrun/report"
	"github.com/carbonrun/carbonrun/sampler"
)

// procfsNode is an agent over a fake procfs, whose process jobs take their
// CPU time from the process table.
type procfsNode struct {
	agent *Agent
	src   *FakeSource
	clock *FakeClock
}

func newProcfsNode(t *testing.T, procfs fakeProcfs, clock *FakeClock, modify func(*Options)) *procfsNode {
	t.Helper()
	n := &procfsNode{src: NewFakeSource(0, CPUZone("package-0", 0)), clock: clock}
	opts := Options{
		Sources:    []sampler.Source{n.src},
		CPU:        SystemCPU{ProcfsRoot: procfs.root},
		ProcfsRoot: procfs.root,
		Site:       TestSite,
		Now:        clock.Now,
	}
	if modify != nil {
		modify(&opts)
	}
	a, err := New(opts)
	require.NoError(t, err)
	n.agent = a
	return n
}

func readReport(t *testing.T, path string) *report.Report {
	t.Helper()
	rep, err := report.Read(path)
	require.NoError(t, err)
	return rep
}

func TestShutdownKeepsJobsForRestart(t *testing.T) {
	procfs := fakeProcfs{t: t, root: t.TempDir()}
	const worker = 500
	procfs.setMachine(1000, 0)
	procfs.setProcess(worker, 1, 0, 0)
	reports, state := t.TempDir(), t.TempDir()
	dirs := func(o *Options) { o.ReportDir, o.StateDir = reports, state }
	clock := NewFakeClock()
	path := filepath.Join(reports, "train", report.JSONFile)

	// The worker uses half of the busy time, and the first agent stops.
	first := newProcfsNode(t, procfs, clock, dirs)
	first.agent.Sample()
	_, err := first.agent.Start(JobSpec{ID: "train", PIDs: []int{worker}})
	require.NoError(t, err)
	clock.Advance(5 * time.Second)
	procfs.setMachine(1500, 0)
	procfs.setProcess(worker, 1, 250, 0)
	first.src.Set(100)
	require.NoError(t, first.agent.Shutdown())

	atShutdown := readReport(t, path)
	assert.Equal(t, report.StatusShutdown, atShutdown.Status, "status of the report at shutdown")
	assert.InDelta(t, 50.0, atShutdown.Components[0].EnergyJoules, joulesTolerance, "CPU joules at shutdown")
	assert.Contains(t, strings.Join(atShutdown.Warnings, "\n"), "rewrites this report when the job ends")

	// A restarted agent resumes the job, with fresh sources.
	clock.Advance(10 * time.Second)
	second := newProcfsNode(t, procfs, clock, dirs)
	view, err := second.agent.Job("train")
	require.NoError(t, err, "the job is still open after the restart")
	assert.Equal(t, "open", view.Status)
	assert.Equal(t, path, view.ReportPath, "the open job shows its report at shutdown")

	second.agent.Sample()
	clock.Advance(5 * time.Second)
	procfs.setMachine(2000, 0)
	procfs.setProcess(worker, 1, 500, 0)
	second.src.Set(40)
	second.agent.Sample()
	clock.Advance(time.Second)
	rep, err := second.agent.End("train")
	require.NoError(t, err, "ending the resumed job")
	assert.Equal(t, filepath.Dir(path), rep.ReportDir, "the end reuses the job's report directory")

	ended := readReport(t, path)
	assert.Equal(t, report.StatusEnded, ended.Status, "status of the rewritten report")
	assert.InDelta(t, 50.0+20, ended.Components[0].EnergyJoules, joulesTolerance, "CPU joules before + after")
	assert.GreaterOrEqual(t, ended.ITEnergyKWh, atShutdown.ITEnergyKWh, "energy never drops")
	warnings := strings.Join(ended.Warnings, "\n")
	assert.Contains(t, warnings, "the agent restarted", "the unmeasured gap is reported")
	assert.NotContains(t, warnings, "unreadable", "the first round after the restart is a baseline")
	assert.NotContains(t, warnings, "rewrites this report", "the final report is final")

	files, err := filepath.Glob(filepath.Join(reports, "*", report.JSONFile))
	require.NoError(t, err)
	assert.Equal(t, []string{path}, files, "one report directory")
}

func TestResumedTotalJobNoFalseMiss(t *testing.T) {
	state := t.TempDir()
	withState := func(o *Options) { o.StateDir = state }
	first := newTestNode(t, 0, withState)
	first.agent.Sample()
	first.cpu.Advance(0, map[int]time.Duration{100: 0})
	_, err := first.agent.Start(JobSpec{ID: "j", PIDs: []int{100}})
	require.NoError(t, err)
	require.NoError(t, first.agent.Shutdown())

	second := newTestNode(t, 0, withState)
	second.cpu.Advance(time.Minute, map[int]time.Duration{100: time.Minute})
	second.agent.Sample()
	second.step(10)
	second.cpu.Advance(10*time.Second, map[int]time.Duration{100: 5 * time.Second})
	second.agent.Sample()
	rep, err := second.agent.End("j")
	require.NoError(t, err)
	assert.NotContains(t, strings.Join(rep.Warnings, "\n"), "unreadable",
		"the first read after the restart is a baseline")
	assert.InDelta(t, 5.0, componentJoules(t, rep, "cpu", 0), joulesTolerance, "CPU joules after the restart")
}

func TestReusedIDGetsNewReportDir(t *testing.T) {
	reports := t.TempDir()
	withReports := func(o *Options) { o.ReportDir = reports; o.JobRetention = time.Second }
	n := newTestNode(t, 1, withReports)
	a := n.agent
	a.Sample()
	runDup := func(a *Agent, joules float64) FinalReport {
		t.Helper()
		_, err := a.Start(JobSpec{ID: "dup", GPUs: []string{"0"}})
		require.NoError(t, err)
		n.step(joules, 0)
		rep, err := a.End("dup")
		require.NoError(t, err)
		n.clock.Advance(2 * time.Second)
		a.Sample() // the retention drops the id
		return rep
	}
	runDup(a, 10)
	second := runDup(a, 30)
	assert.Equal(t, filepath.Join(reports, "dup.2"), second.ReportDir, "second run's directory")
	assert.Contains(t, strings.Join(second.Warnings, "\n"), `an earlier job with id "dup" left its report`)
	data, err := json.Marshal(second)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"report_dir":"`+filepath.Join(reports, "dup.2")+`"`, "API response")

	first := readReport(t, filepath.Join(reports, "dup", report.JSONFile))
	assert.InDelta(t, 10.0, first.Components[0].EnergyJoules, joulesTolerance, "first run's report is kept")
	assert.InDelta(t, 20.0, readReport(t, filepath.Join(reports, "dup.2", report.JSONFile)).Components[0].EnergyJoules,
		joulesTolerance, "second run's report")

	// A new agent has forgotten the ended ids, but not the reports.
	restarted := newTestNode(t, 1, withReports)
	restarted.agent.Sample()
	_, err = restarted.agent.Start(JobSpec{ID: "dup", GPUs: []string{"0"}})
	require.NoError(t, err)
	third, err := restarted.agent.End("dup")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(reports, "dup.3"), third.ReportDir, "third run's directory")
	assert.InDelta(t, 10.0, readReport(t, filepath.Join(reports, "dup", report.JSONFile)).Components[0].EnergyJoules,
		joulesTolerance, "first run's report is still kept")
}

func TestReportDirSkipsOpenJobIDs(t *testing.T) {
	reports := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(reports, "x"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(reports, "x", report.JSONFile), []byte("{}"), 0o644))
	n := newTestNode(t, 1, func(o *Options) { o.ReportDir = reports })
	a := n.agent
	a.Sample()
	_, err := a.Start(JobSpec{ID: "x.2", GPUs: []string{"0"}})
	require.NoError(t, err)
	_, err = a.Start(JobSpec{ID: "x", GPUs: []string{"0"}})
	require.NoError(t, err)

	// x.2 is the default directory of the open job "x.2", so "x" skips it.
	x, err := a.End("x")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(reports, "x.3"), x.ReportDir, "directory of job x")
	assert.Contains(t, strings.Join(x.Warnings, "\n"), `an earlier job with id "x" left its report`)

	x2, err := a.End("x.2")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(reports, "x.2"), x2.ReportDir, "directory of job x.2")
	assert.NotContains(t, strings.Join(x2.Warnings, "\n"), "so this job's report is written to")
}

func TestReservedReportDirSkipsSameID(t *testing.T) {
	reports, state := t.TempDir(), t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(reports, "x"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(reports, "x", report.JSONFile), []byte("{}"), 0o644))
	dirs := func(o *Options) { o.ReportDir, o.StateDir = reports, state }

	// The shutdown report of open job "x" reserves x.2.
	first := newTestNode(t, 1, dirs)
	first.agent.Sample()
	_, err := first.agent.Start(JobSpec{ID: "x", GPUs: []string{"0"}})
	require.NoError(t, err)
	require.NoError(t, first.agent.Shutdown())

	second := newTestNode(t, 1, dirs)
	second.agent.Sample()
	view, err := second.agent.Job("x")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(reports, "x.2", report.JSONFile), view.ReportPath, "resumed job's report")
	_, err = second.agent.Start(JobSpec{ID: "x.2", GPUs: []string{"0"}})
	require.NoError(t, err)
	x2, err := second.agent.End("x.2")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(reports, "x.2.2"), x2.ReportDir, "directory of job x.2")
	assert.Contains(t, strings.Join(x2.Warnings, "\n"), "another open job writes its report to")
	x, err := second.agent.End("x")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(reports, "x.2"), x.ReportDir, "directory of job x")
}

// kindSums returns, per kind of the snapshot, the node's energy and the sum
// of the energy of idle and every job in the snapshot.
func kindSums(a *Agent) (node, attributed []float64) {
	var s Snapshot
	a.Snapshot(&s)
	node = make([]float64, len(s.Kinds))
	attributed = make([]float64, len(s.Kinds))
	for k, kind := range s.Kinds {
		for _, c := range s.Components {
			if c.Kind == kind {
				node[k] += float64(c.Energy)
			}
		}
		attributed[k] = float64(s.Idle.Joules[k])
		for _, j := range s.Jobs {
			attributed[k] += float64(j.Joules[k])
		}
	}
	return node, attributed
}

func TestRestartKeepsRetainedEndedJobs(t *testing.T) {
	reports, state := t.TempDir(), t.TempDir()
	dirs := func(o *Options) {
		o.ReportDir, o.StateDir, o.JobRetention = reports, state, time.Minute
	}
	first := newTestNode(t, 1, dirs)
	first.agent.Sample()
	_, err := first.agent.Start(JobSpec{ID: "done", GPUs: []string{"0"}})
	require.NoError(t, err)
	first.step(100, 0)
	ended, err := first.agent.End("done")
	require.NoError(t, err)
	endedView, err := first.agent.Job("done")
	require.NoError(t, err)
	require.NoError(t, first.agent.Shutdown())

	second := newTestNode(t, 1, dirs)
	second.clock.Advance(endedView.EndTime.Add(30 * time.Second).Sub(second.clock.Now()))
	node, attributed := kindSums(second.agent)
	assert.InDeltaSlice(t, node, attributed, joulesTolerance, "node energy equals idle and jobs after the restart")
	view, err := second.agent.Job("done")
	require.NoError(t, err, "an ended job within its retention survives the restart")
	assert.Equal(t, endedView, view, "ended job's view")
	assert.Equal(t, filepath.Join(ended.ReportDir, report.JSONFile), view.ReportPath, "ended job's report path")
	_, err = second.agent.Start(JobSpec{ID: "done", GPUs: []string{"0"}})
	assert.ErrorIs(t, err, ErrJobConflict, "restarting an ended id within its retention")

	second.clock.Advance(30 * time.Second)
	second.agent.Sample()
	_, err = second.agent.Job("done")
	assert.ErrorIs(t, err, ErrJobNotFound, "the ended job after its retention")
	_, err = second.agent.Start(JobSpec{ID: "done", GPUs: []string{"0"}})
	assert.NoError(t, err, "the id is free again after its retention")
}
