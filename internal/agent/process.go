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
// descendants, reaped children included. It reads the whole process table;
// a round with several process jobs reads it once for all of them through
// readProcessTable instead.
func (c SystemCPU) TreeCPUTime(pids []int) (time.Duration, error) {
	var table procTable
	if err := c.readProcessTable(&table); err != nil {
		return 0, err
	}
	return table.treeCPUTime(pids)
}

// readProcessTable replaces dst with the processes of ProcfsRoot.
func (c SystemCPU) readProcessTable(dst *procTable) error {
	root := c.ProcfsRoot
	if root == "" {
		root = cpu.DefaultProcfsRoot
	}
	return dst.read(root)
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
	var table procTable
	if err := table.read(p.Root); err != nil {
		return nil, err
	}
	return table.treePIDs(pids, nil), nil
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
