// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Package agent is the node daemon behind carbon-agent. One sampling loop
// reads every energy source of the node (RAPL, NVML, the CPU estimate) at a
// fixed interval, shared by all jobs, and splits each round's energy in
// joules between the open jobs:
//
//   - A GPU's energy delta goes to the jobs that claimed the GPU. A GPU
//     claimed by several jobs is split by each job's processes' share of the
//     device utilisation, or equally when the per-process utilisation cannot
//     be read.
//   - CPU, DRAM and RAM energy is split by each job's CPU time over the
//     machine's busy CPU time from /proc/stat. A process job's CPU time is
//     summed per process from /proc/<pid>/stat over its process trees, and
//     a process in the trees of several jobs is split equally among them.
//     A cgroup job's CPU time is its cgroup's cpu.stat.
//
// Shares are clamped so that the jobs never receive more than the node
// measured; the rest is reported as the pseudo job "idle". Open jobs and
// their counters are checkpointed to a state directory. At shutdown the
// agent writes each open job's report with status ended_by_shutdown and
// keeps the job in the checkpoint, so that a restarted agent resumes it.
// Ending a job returns a report.Report with the same schema as carbon-run,
// with emissions from the site's carbon intensity and PUE.
//
// The package also serves the job API over HTTP (Handler) and opens the
// listener with its address policy (Listen).
package agent
