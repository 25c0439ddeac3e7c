// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/carbonrun/carbonrun/sampler"
)

// BenchmarkRound20ProcessJobs runs one sampling round with 20 open process
// jobs over a fake procfs of 200 processes: each job is a root with four
// children, and the other 100 processes belong to no job.
func BenchmarkRound20ProcessJobs(b *testing.B) {
	const jobs, childrenPerJob, others = 20, 4, 100
	procfs := fakeProcfs{t: b, root: b.TempDir()}
	procfs.setMachine(1000, 0)
	procfs.setProcess(1, 0, 5000, 0)
	pid := 1000
	var roots []int
	for range jobs {
		root := pid
		roots = append(roots, root)
		procfs.setProcess(root, 1, 10, 5)
		for c := 1; c <= childrenPerJob; c++ {
			procfs.setProcess(root+c, root, 20, 0)
		}
		pid += 10
	}
	for k := range others {
		procfs.setProcess(5000+k, 1, 30, 0)
	}

	src := NewFakeSource(0, CPUZone("package-0", 0))
	clock := NewFakeClock()
	a, err := New(Options{
		Sources:    []sampler.Source{src},
		CPU:        SystemCPU{ProcfsRoot: procfs.root},
		ProcfsRoot: procfs.root,
		Site:       TestSite,
		Now:        clock.Now,
	})
	require.NoError(b, err)
	for k, root := range roots {
		_, err := a.Start(JobSpec{ID: "job-" + strconv.Itoa(k), PIDs: []int{root}})
		require.NoError(b, err)
	}
	a.Sample()

	b.ReportAllocs()
	for b.Loop() {
		clock.Advance(time.Second)
		src.Add(0, 10)
		a.Sample()
	}
}
