// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"encoding/json"
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
