// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carbonrun/carbonrun/sampler"
)

func TestParseStatLine(t *testing.T) {
	tests := []struct {
		name string
		line string
		want procEntry
		ok   bool
	}{
		{
			name: "command with spaces and parentheses",
			line: "42 (a) b) (c) S 7 42 42 0 -1 4194304 0 0 0 0 11 22 33 44 20 0 1 0 555 0 0\n",
			want: procEntry{ppid: 7, ownTicks: 11 + 22, reapedTicks: 33 + 44, startTicks: 555},
			ok:   true,
		},
		{
			name: "line cut before starttime",
			line: "42 (a) S 7 42 42 0 -1 4194304 0 0 0 0 11 22 33 44 20 0 1 0\n",
		},
		{
			name: "negative cpu time",
			line: "42 (a) S 7 42 42 0 -1 4194304 0 0 0 0 -11 22 33 44 20 0 1 0 555\n",
		},
		{name: "no command name", line: "42 S 7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseStatLine([]byte(tc.line))
			assert.Equal(t, tc.ok, ok, "parsed")
			assert.Equal(t, tc.want, got)
		})
	}
}

// newFakeTable writes a procfs with a job tree 10 -> 11 -> 12, a second
// root 20 and an unrelated process 30, and reads it.
func newFakeTable(t *testing.T) (fakeProcfs, *procTable) {
	procfs := fakeProcfs{t: t, root: t.TempDir()}
	procfs.setProcess(1, 0, 1000, 0)
	procfs.setProcess(10, 1, 1, 100)
	procfs.setProcess(11, 10, 2, 0)
	procfs.setProcess(12, 11, 4, 0)
	procfs.setProcess(20, 1, 8, 0)
	procfs.setProcess(30, 1, 16, 0)
	require.NoError(t, os.MkdirAll(filepath.Join(procfs.root, "sys"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(procfs.root, "stat"), []byte("cpu 1 2 3 4\n"), 0o644))
	var table procTable
	require.NoError(t, table.read(procfs.root))
	return procfs, &table
}

func TestProcTableTrees(t *testing.T) {
	_, table := newFakeTable(t)
	tests := []struct {
		name      string
		roots     []int
		wantPIDs  []int
		wantTicks int
	}{
		{name: "tree with reaped children", roots: []int{10}, wantPIDs: []int{10, 11, 12},
			wantTicks: 1 + 100 + 2 + 4},
		{name: "subtree", roots: []int{11}, wantPIDs: []int{11, 12}, wantTicks: 2 + 4},
		{name: "nested and repeated roots", roots: []int{11, 10, 11}, wantPIDs: []int{11, 10, 12},
			wantTicks: 1 + 100 + 2 + 4},
		{name: "vanished root skipped", roots: []int{99, 20}, wantPIDs: []int{20}, wantTicks: 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.wantPIDs, table.treePIDs(tc.roots, nil), "tree PIDs")
			got, err := table.treeCPUTime(tc.roots)
			require.NoError(t, err)
			assert.Equal(t, time.Duration(tc.wantTicks)*clockTick, got, "tree CPU time")
		})
	}
}

func TestProcTableNoProcessLeft(t *testing.T) {
	_, table := newFakeTable(t)
	_, err := table.treeCPUTime([]int{98, 99})
	require.ErrorContains(t, err, "no process left")
	assert.Empty(t, table.treePIDs([]int{98, 99}, nil), "tree PIDs")
}

func TestProcTableReusedParentPID(t *testing.T) {
	procfs := fakeProcfs{t: t, root: t.TempDir()}
	procfs.setProcess(10, 1, 1, 0)
	procfs.setProcess(11, 10, 2, 0)
	// 40 claims parent 10, but 10 started after it: 40's real parent
	// exited and PID 10 was reused, so 40 is not in 10's tree.
	writeStat(t, procfs.root, 40, "40 (old) S 10 1 1 0 -1 0 0 0 0 0 50 0 0 0 20 0 1 0 50\n")
	writeStat(t, procfs.root, 10, "10 (new) S 1 1 1 0 -1 0 0 0 0 0 1 0 0 0 20 0 1 0 100\n")
	var table procTable
	require.NoError(t, table.read(procfs.root))

	assert.Equal(t, []int{10, 11}, table.treePIDs([]int{10}, nil))
}

func TestProcTableRereadDropsExited(t *testing.T) {
	procfs, table := newFakeTable(t)
	require.NoError(t, os.RemoveAll(filepath.Join(procfs.root, "12")))
	procfs.setProcess(11, 10, 6, 4)
	procfs.setProcess(13, 11, 1, 0)
	require.NoError(t, table.read(procfs.root))

	assert.Equal(t, []int{10, 11, 13}, table.treePIDs([]int{10}, nil))
	got, err := table.treeCPUTime([]int{10})
	require.NoError(t, err)
	assert.Equal(t, time.Duration(1+100+6+4+1)*clockTick, got)
}

func TestProcTableMissingRoot(t *testing.T) {
	var table procTable
	err := table.read(filepath.Join(t.TempDir(), "absent"))
	require.ErrorContains(t, err, "listing processes in")
}

// countingCPU is a SystemCPU that counts its process table reads.
type countingCPU struct {
	SystemCPU
	reads int
}

func (c *countingCPU) readProcessTable(dst *procTable) error {
	c.reads++
	return c.SystemCPU.readProcessTable(dst)
}

func TestRoundReadsProcessTableOnce(t *testing.T) {
	procfs, _ := newFakeTable(t)
	procfs.setMachine(1000, 0)
	timer := &countingCPU{SystemCPU: SystemCPU{ProcfsRoot: procfs.root}}
	src := NewFakeSource(0, CPUZone("package-0", 0))
	clock := NewFakeClock()
	a, err := New(Options{
		Sources: []sampler.Source{src}, CPU: timer, ProcfsRoot: procfs.root,
		Site: TestSite, Now: clock.Now,
	})
	require.NoError(t, err)

	a.Sample()
	assert.Equal(t, 0, timer.reads, "reads without a process job")

	for _, spec := range []JobSpec{{ID: "a", PIDs: []int{10}}, {ID: "b", PIDs: []int{20}}} {
		_, err := a.Start(spec)
		require.NoError(t, err)
	}
	timer.reads = 0
	a.Sample()
	assert.Equal(t, 1, timer.reads, "reads in one round with two process jobs")

	// 10's tree uses 100 and 20 uses 300 of the next 1000 busy ticks.
	clock.Advance(time.Second)
	procfs.setMachine(2000, 0)
	procfs.setProcess(12, 11, 104, 0)
	procfs.setProcess(20, 1, 308, 0)
	src.Set(100)
	a.Sample()
	for id, want := range map[string]float64{"a": 10, "b": 30} {
		rep, err := a.End(id)
		require.NoError(t, err)
		assert.InDelta(t, want, componentJoules(t, rep, "cpu", 0), joulesTolerance, "CPU joules of job %s", id)
	}
}

func writeStat(t *testing.T, root string, pid int, line string) {
	dir := filepath.Join(root, strconv.Itoa(pid))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stat"), []byte(line), 0o644))
}
