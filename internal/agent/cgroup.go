// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxCgroupDepth bounds the search for a Slurm job's cgroup. Slurm places
// it at most a few levels down, such as
// system.slice/slurmstepd.scope/job_123 (cgroup v2) or
// cpuacct/slurm/uid_1000/job_123 (cgroup v1).
const maxCgroupDepth = 6

// cgroupRoot returns the cgroup mount point under the sysfs root.
func cgroupRoot(sysfsRoot string) string {
	return filepath.Join(sysfsRoot, "fs", "cgroup")
}

// resolveCgroup maps a cgroup path from a job request to a directory under
// the sysfs root. It accepts an absolute path under /sys/fs/cgroup or a
// path relative to the cgroup root, and rejects any path that leaves the
// cgroup tree.
func resolveCgroup(sysfsRoot, requested string) (string, error) {
	const mount = "/sys/fs/cgroup"
	rel := requested
	switch {
	case rel == mount || strings.HasPrefix(rel, mount+"/"):
		rel = strings.TrimPrefix(rel, mount)
	case strings.HasPrefix(rel, "/"):
		return "", newRequestError(ErrInvalidRequest,
			"cgroup %q is outside %s: give the job's cgroup directory under %s", requested, mount, mount)
	}
	for _, part := range strings.Split(rel, "/") {
		if part == ".." {
			return "", newRequestError(ErrInvalidRequest,
				"cgroup %q contains \"..\": give the job's cgroup directory without parent references",
				requested)
		}
	}
	dir := filepath.Join(cgroupRoot(sysfsRoot), filepath.Clean("/"+rel))
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		return "", newRequestError(ErrUnresolvable,
			"cgroup %q not found on this node: check the path in /proc/<pid>/cgroup of a job process",
			requested)
	}
	return dir, nil
}

// findSlurmCgroup searches the cgroup tree for the directory job_<id> that
// Slurm creates for a job. With cgroup v1 several controllers hold such a
// directory; one with CPU accounting (cpu.stat or cpuacct.usage) wins.
func findSlurmCgroup(sysfsRoot, slurmJobID string) (string, error) {
	root := cgroupRoot(sysfsRoot)
	name := "job_" + slurmJobID
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			// An unreadable controller must not hide the others.
			return fs.SkipDir
		}
		if !d.IsDir() {
			return nil
		}
		if d.Name() == name {
			found = append(found, path)
			return fs.SkipDir
		}
		if strings.Count(strings.TrimPrefix(path, root), "/") >= maxCgroupDepth {
			return fs.SkipDir
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.SkipDir) {
		return "", newRequestError(ErrUnresolvable, "searching %s for Slurm job %s: %v", root, slurmJobID, err)
	}
	for _, accounting := range []string{"cpu.stat", "cpuacct.usage"} {
		for _, dir := range found {
			if _, err := os.Stat(filepath.Join(dir, accounting)); err == nil {
				return dir, nil
			}
		}
	}
	if len(found) > 0 {
		return found[0], nil
	}
	return "", newRequestError(ErrUnresolvable,
		"no cgroup %s under %s: check that Slurm uses the cgroup plugin "+
			"(ProctrackType=proctrack/cgroup) and that the job runs on this node", name, root)
}
