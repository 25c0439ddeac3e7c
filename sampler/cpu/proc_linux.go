// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux

package cpu

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// userHZ is USER_HZ, the unit of the CPU times in /proc/<pid>/stat. It is
// 100 on every architecture Go supports, whatever the kernel's internal HZ,
// and sysconf(_SC_CLK_TCK) returns the same value.
const userHZ = 100

// tick is the length of one USER_HZ clock tick.
const tick = time.Second / userHZ

// TreeCPUTime returns the CPU time of the processes in pids: utime + stime of
// each, which covers all of its threads, plus cutime + cstime of the children
// it reaped. A PID that no longer exists is skipped. Listing a parent and a
// child that it has already reaped counts the child twice.
func TreeCPUTime(procfsRoot string, pids []int) (time.Duration, error) {
	procfsRoot = procfsOrDefault(procfsRoot)
	var ticks uint64
	for _, pid := range pids {
		p, err := readProcTimes(procfsRoot, pid)
		if isVanished(err) {
			continue
		}
		if err != nil {
			return 0, err
		}
		ticks += p.totalTicks()
	}
	return time.Duration(ticks) * tick, nil
}

// readProcTimes parses /proc/<pid>/stat. Threads are never read: the
// process line already sums them, and adding /proc/<pid>/task/<tid>/stat on
// top would count every thread twice.
func readProcTimes(procfsRoot string, pid int) (procTimes, error) {
	path := filepath.Join(procfsRoot, strconv.Itoa(pid), "stat")
	data, err := os.ReadFile(path)
	if err != nil {
		return procTimes{}, fmt.Errorf("reading process cpu time: %w", err)
	}
	p, err := parseProcStat(data)
	if err != nil {
		return procTimes{}, fmt.Errorf("parsing %s: %w", path, err)
	}
	return p, nil
}

// Field numbers of /proc/<pid>/stat as proc(5) counts them, from 1.
const (
	statFieldPPID      = 4
	statFieldUtime     = 14
	statFieldStime     = 15
	statFieldCutime    = 16
	statFieldCstime    = 17
	statFieldStartTime = 22
)

// parseProcStat reads the fields after the command name, which is wrapped
// in parentheses and may itself contain spaces and parentheses.
func parseProcStat(data []byte) (procTimes, error) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return procTimes{}, errors.New("missing ')' after the command name")
	}
	// fields[0] is field 3 (state).
	fields := bytes.Fields(data[end+1:])
	if len(fields) < statFieldStartTime-2 {
		return procTimes{}, fmt.Errorf("%d fields after the command name, want at least %d",
			len(fields), statFieldStartTime-2)
	}

	field := func(n int) (uint64, error) {
		v, err := strconv.ParseUint(string(fields[n-3]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("field %d: %w", n, err)
		}
		return v, nil
	}
	var values [6]uint64
	for i, n := range []int{statFieldPPID, statFieldUtime, statFieldStime,
		statFieldCutime, statFieldCstime, statFieldStartTime} {
		v, err := field(n)
		if err != nil {
			return procTimes{}, err
		}
		values[i] = v
	}

	p := procTimes{
		ppid:       int(values[0]),
		ownTicks:   values[1] + values[2],
		childTicks: values[3] + values[4],
		startTicks: values[5],
	}
	return p, nil
}

// isVanished reports an error from a process that exited between listing
// and reading.
func isVanished(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// childrenOf returns the child PIDs of pid from the children file of each of
// its threads: a child appears only in the file of the thread that forked it.
func childrenOf(procfsRoot string, pid int) ([]int, error) {
	taskDir := filepath.Join(procfsRoot, strconv.Itoa(pid), "task")
	tasks, err := os.ReadDir(taskDir)
	if err != nil {
		return nil, fmt.Errorf("listing threads: %w", err)
	}

	var children []int
	for _, task := range tasks {
		data, err := os.ReadFile(filepath.Join(taskDir, task.Name(), "children"))
		if isVanished(err) {
			// The thread exited after the listing.
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("listing child processes: %w", err)
		}
		for _, field := range bytes.Fields(data) {
			child, err := strconv.Atoi(string(field))
			if err != nil {
				return nil, fmt.Errorf("parsing child pid %q of process %d: %w", field, pid, err)
			}
			children = append(children, child)
		}
	}
	return children, nil
}

// hasChildrenFile reports whether the kernel lists children per thread.
func hasChildrenFile(procfsRoot string, pid int) bool {
	task := strconv.Itoa(pid)
	_, err := os.Stat(filepath.Join(procfsRoot, task, "task", task, "children"))
	return err == nil
}

// scanAll reads the stat file of every process in procfsRoot, for kernels
// without children files.
func scanAll(procfsRoot string) (map[int]procTimes, error) {
	entries, err := os.ReadDir(procfsRoot)
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}

	all := make(map[int]procTimes, len(entries))
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil || pid <= 0 {
			continue
		}
		p, err := readProcTimes(procfsRoot, pid)
		if err != nil {
			// The process exited, is hidden by hidepid, or has a stat
			// line that does not parse. None of these should fail the
			// round for the processes that can be read.
			continue
		}
		all[pid] = p
	}
	return all, nil
}
