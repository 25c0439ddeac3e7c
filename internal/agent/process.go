// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/carbonrun/carbonrun/sampler/cpu"
)

// ProcFS finds a job's processes in a procfs tree. It implements
// ProcessTable.
type ProcFS struct {
	// Root is the procfs mount point, such as /proc.
	Root string
}

// SystemCPU reads CPU times from procfs and cgroupfs with sampler/cpu. It
// implements CPUTimer.
type SystemCPU struct {
	// ProcfsRoot is the procfs mount point, such as /proc.
	ProcfsRoot string
}

// TreeCPUTime returns the CPU time used so far by pids and their live
// descendants, reaped children included.
func (c SystemCPU) TreeCPUTime(pids []int) (time.Duration, error) {
	members, err := ProcFS{Root: c.ProcfsRoot}.TreePIDs(pids)
	if err != nil {
		return 0, err
	}
	if len(members) == 0 {
		return 0, fmt.Errorf("process tree of pids %v: no process left", pids)
	}
	return cpu.TreeCPUTime(c.ProcfsRoot, members)
}

// CgroupCPUTime returns the CPU time of a cgroup: usage_usec of cpu.stat
// (cgroup v2), else cpuacct.usage in nanoseconds (cgroup v1, where Slurm
// jobs live in the cpuacct hierarchy).
func (c SystemCPU) CgroupCPUTime(cgroupDir string) (time.Duration, error) {
	v2, err := cpu.CgroupCPUTime(cgroupDir)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return v2, err
	}
	data, v1err := os.ReadFile(filepath.Join(cgroupDir, "cpuacct.usage"))
	if v1err != nil {
		return 0, err
	}
	nanoseconds, v1err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if v1err != nil {
		return 0, fmt.Errorf("parsing cpuacct.usage in %s: %w", cgroupDir, v1err)
	}
	return time.Duration(nanoseconds), nil
}

// MachineCPUTime returns the machine's busy CPU time from /proc/stat.
func (c SystemCPU) MachineCPUTime() (time.Duration, error) {
	busy, _, err := cpu.MachineCPUTime(c.ProcfsRoot)
	return busy, err
}

// procStat is the part of /proc/<pid>/stat that process discovery uses.
type procStat struct {
	ppid int
}

// Exists reports whether a process with this PID exists.
func (p ProcFS) Exists(pid int) bool {
	if pid <= 0 {
		return false
	}
	info, err := os.Stat(filepath.Join(p.Root, strconv.Itoa(pid)))
	return err == nil && info.IsDir()
}

// TreePIDs returns pids and all their live descendants, each once. PIDs
// that no longer exist are left out; the error is non-nil only when the
// process list cannot be read at all.
func (p ProcFS) TreePIDs(pids []int) ([]int, error) {
	stats, err := p.readAll()
	if err != nil {
		return nil, err
	}
	return descendants(stats, pids), nil
}

// CgroupPIDs returns the PIDs listed in the cgroup's cgroup.procs file.
func (p ProcFS) CgroupPIDs(cgroupDir string) ([]int, error) {
	data, err := os.ReadFile(filepath.Join(cgroupDir, "cgroup.procs"))
	if err != nil {
		return nil, fmt.Errorf("reading cgroup processes: %w", err)
	}
	var pids []int
	for line := range bytes.FieldsSeq(data) {
		pid, err := strconv.Atoi(string(line))
		if err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// readAll reads the stat file of every process. Processes that exit while
// the directory is listed are skipped.
func (p ProcFS) readAll() (map[int]procStat, error) {
	entries, err := os.ReadDir(p.Root)
	if err != nil {
		return nil, fmt.Errorf("listing processes in %s: %w", p.Root, err)
	}
	stats := make(map[int]procStat, len(entries))
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		data, err := os.ReadFile(filepath.Join(p.Root, e.Name(), "stat"))
		if err != nil {
			continue
		}
		if st, ok := parseProcStat(data); ok {
			stats[pid] = st
		}
	}
	return stats, nil
}

// parseProcStat parses the parent PID from /proc/<pid>/stat. The command
// name in field 2 may contain spaces and parentheses, so fields are counted
// from the last ')'.
func parseProcStat(data []byte) (procStat, bool) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return procStat{}, false
	}
	// After ")": state (field 3), then ppid (field 4).
	fields := bytes.Fields(data[end+1:])
	if len(fields) < 2 {
		return procStat{}, false
	}
	ppid, err := strconv.Atoi(string(fields[1]))
	if err != nil {
		return procStat{}, false
	}
	return procStat{ppid: ppid}, true
}

// descendants returns the roots that exist in stats and every process below
// them, each once.
func descendants(stats map[int]procStat, roots []int) []int {
	children := make(map[int][]int, len(stats))
	for pid, st := range stats {
		children[st.ppid] = append(children[st.ppid], pid)
	}
	seen := make(map[int]bool, len(roots))
	var out, queue []int
	for _, pid := range roots {
		if _, ok := stats[pid]; ok && !seen[pid] {
			seen[pid] = true
			queue = append(queue, pid)
		}
	}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		out = append(out, pid)
		for _, c := range children[pid] {
			if !seen[c] {
				seen[c] = true
				queue = append(queue, c)
			}
		}
	}
	return out
}
