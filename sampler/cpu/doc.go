// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Package cpu estimates CPU and memory power where no hardware energy counter
// can be read, and measures how much of the machine's CPU time a process tree
// uses.
//
// TDPSource multiplies the machine's CPU utilisation over each interval by a
// thermal design power in watts. Utilisation is the busy share of the
// cumulative CPU times between two reads: the aggregate "cpu" line of
// /proc/stat on Linux, and the kernel's counters as gopsutil
// (github.com/shirou/gopsutil/v4/cpu) reads them elsewhere. Read never sleeps
// to measure it. TDPSource is the CPU method on every non-Linux host, because
// carbonrun has no Apple-silicon power backend and never runs a privileged
// helper.
//
// MemorySource multiplies installed memory (MemTotal in /proc/meminfo on
// Linux) by a power per gigabyte and integrates it over time.
//
// ProcessShare, TreeCPUTime and CgroupCPUTime give the CPU time of one job, so
// that a machine's CPU energy can be split between jobs. Process times come
// from /proc/<pid>/stat in clock ticks of USER_HZ, which is 100 on Linux. See
// proc(5) and https://docs.kernel.org/filesystems/proc.html.
//
// All energies are units.Joules, cumulative since the source was opened, and
// integrated on the monotonic time passed to Read.
package cpu
