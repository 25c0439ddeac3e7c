// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// maxListedPIDs bounds the PIDs that one shared-process warning lists.
const maxListedPIDs = 8

// warnSharedProcesses adds a warning to j and to every open job that shares
// processes with it, and logs each such pair once. When both jobs are
// process jobs read from the process table, each shared process's CPU
// energy is split equally among the jobs that claim it. Otherwise the
// shared process counts in both jobs' CPU time, and a round where the
// jobs' times add up to more than the machine's scales every share down.
// The job is still accepted, because a launcher may legitimately register
// a parent and a child as separate jobs. The caller holds roundMu.
func (a *Agent) warnSharedProcesses(j *job) {
	if !j.cpuTracked || len(a.openOrder) == 0 {
		return
	}
	mine := make(map[int]bool)
	for _, pid := range a.jobPIDs(j) {
		mine[pid] = true
	}
	if len(mine) == 0 || !a.anyShared(mine) {
		return
	}

	for _, other := range a.openOrder {
		if !other.cpuTracked {
			continue
		}
		shared := sharedPIDs(mine, a.jobPIDs(other))
		if len(shared) == 0 {
			continue
		}
		split := a.splitsPerProcess(j) && a.splitsPerProcess(other)
		j.warnings = append(j.warnings, sharedWarning(other.spec.ID, shared, split))
		other.warnings = append(other.warnings, sharedWarning(j.spec.ID, shared, split))
		a.log.Warn("jobs share processes, whose CPU energy is split between them",
			zap.String("job_id", j.spec.ID), zap.String("other_job_id", other.spec.ID), zap.Ints("pids", shared),
			zap.Bool("split_per_process", split))
	}
}

// anyShared reports whether a process in mine belongs to an open job. It
// reads the process table once for all process-tree jobs together, so a
// start without shared processes costs one procfs scan however many jobs
// are open.
func (a *Agent) anyShared(mine map[int]bool) bool {
	var roots []int
	for _, other := range a.openOrder {
		switch other.mode {
		case TrackingProcess:
			roots = append(roots, other.spec.PIDs...)
		case TrackingCgroup:
			if len(sharedPIDs(mine, a.jobPIDs(other))) > 0 {
				return true
			}
		}
	}
	if len(roots) == 0 {
		return false
	}
	pids, err := a.opts.Processes.TreePIDs(roots)
	if err != nil {
		a.log.Debug("process table unreadable, not checking jobs for shared processes", zap.Error(err))
		return false
	}
	return len(sharedPIDs(mine, pids)) > 0
}

// sharedPIDs returns the PIDs of pids that are in set, sorted.
func sharedPIDs(set map[int]bool, pids []int) []int {
	var shared []int
	for _, pid := range pids {
		if set[pid] {
			shared = append(shared, pid)
		}
	}
	slices.Sort(shared)
	return slices.Compact(shared)
}

// sharedWarning is the report warning of a job that shares pids with the
// job otherID. split is true when the agent splits the shared processes'
// CPU time per process.
func sharedWarning(otherID string, pids []int, split bool) string {
	const fix = "give each job only its own processes"
	if split {
		return fmt.Sprintf("processes %s also belong to job %q, which was open at the same time, so "+
			"their CPU energy is split equally among the jobs that claim them: %s", formatPIDs(pids), otherID, fix)
	}
	return fmt.Sprintf("processes %s also belong to job %q, which was open at the same time. A cgroup's "+
		"CPU time cannot be split per process, so their CPU time counts in both jobs, and in rounds where "+
		"the jobs' CPU times add up to more than the machine's, every job's share is scaled down: %s",
		formatPIDs(pids), otherID, fix)
}

// formatPIDs lists up to maxListedPIDs PIDs and counts the rest.
func formatPIDs(pids []int) string {
	listed := pids[:min(len(pids), maxListedPIDs)]
	parts := make([]string, 0, len(listed))
	for _, pid := range listed {
		parts = append(parts, strconv.Itoa(pid))
	}
	list := strings.Join(parts, ", ")
	if rest := len(pids) - len(listed); rest > 0 {
		list += fmt.Sprintf(" and %d more", rest)
	}
	return list
}
