// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package exporter

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/carbonrun/carbonrun/internal/agent"
	"github.com/carbonrun/carbonrun/internal/grid"
	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/sampler"
)

// fixedState returns the same snapshot on every scrape.
type fixedState struct{ snap agent.Snapshot }

func (f fixedState) Snapshot(dst *agent.Snapshot) { *dst = f.snap }

func goldenSnapshot() agent.Snapshot {
	gpu := func(i int, joules, watts float64) agent.ComponentState {
		return agent.ComponentState{Component: sampler.Component{Kind: sampler.KindGPU, Index: i,
			Name: "NVIDIA H100 80GB HBM3", UUID: fmt.Sprintf("GPU-%d", i), Method: sampler.MethodEnergyCounter},
			Energy: units.Joules(joules), Power: units.Watts(watts)}
	}
	zone := func(name string, kind sampler.Kind, joules, watts float64) agent.ComponentState {
		return agent.ComponentState{Component: sampler.Component{Kind: kind, Name: name,
			Method: sampler.MethodEnergyCounter}, Energy: units.Joules(joules), Power: units.Watts(watts)}
	}
	buckets := map[float64]uint64{}
	for _, b := range agent.RoundBucketsSeconds {
		buckets[b] = 10
	}
	buckets[0.0005], buckets[0.001] = 4, 9
	return agent.Snapshot{
		Components: []agent.ComponentState{
			gpu(0, 12000, 300), gpu(1, 6000, 150),
			zone("package-0", sampler.KindCPU, 5000, 120), zone("dram-0", sampler.KindDRAM, 800, 20),
		},
		Kinds: []sampler.Kind{sampler.KindGPU, sampler.KindCPU, sampler.KindDRAM},
		Jobs: []agent.JobState{
			{ID: "train-1", Open: true, Joules: []units.Joules{12000, 2500, 400}, Emissions: 0.621},
			{ID: "eval-2", Open: false, Joules: []units.Joules{1000, 0, 0}, Emissions: 0.042},
		},
		Idle:     agent.JobState{ID: agent.IdleJobID, Joules: []units.Joules{5000, 2500, 400}, Emissions: 0.329},
		OpenJobs: 1,
		Site:     grid.Site{Region: grid.Region{Code: "FR"}, Intensity: 56, PUE: 1.2},
		DomainUp: map[string]bool{"package-0": true, "dram-0": false},
		Sources:  []agent.SourceState{{Name: "nvml"}, {Name: "rapl", ReadErrors: 3}},
		Rounds:   agent.RoundHistogram{Count: 10, SumSeconds: 0.012, Buckets: buckets},
	}
}

func TestCollectorGolden(t *testing.T) {
	c := New(fixedState{snap: goldenSnapshot()}, "v0.1.0")
	golden, err := os.Open(filepath.Join("testdata", "agent.prom"))
	require.NoError(t, err)
	defer golden.Close()
	require.NoError(t, testutil.CollectAndCompare(c, golden))
}

func TestCollectorLint(t *testing.T) {
	c := New(fixedState{snap: goldenSnapshot()}, "v0.1.0")
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	require.Empty(t, problems, "metric lint problems")
}

func TestCollectorWithoutGPUs(t *testing.T) {
	snap := goldenSnapshot()
	snap.Components = snap.Components[2:]
	c := New(fixedState{snap: snap}, "v0.1.0")
	require.Equal(t, 0, testutil.CollectAndCount(c, "carbonrun_gpu_energy_joules_total", "carbonrun_gpu_power_watts"),
		"a node without GPUs exports no GPU series")
	require.Equal(t, 2, testutil.CollectAndCount(c, "carbonrun_cpu_energy_joules_total"), "cpu zones")
}

// benchSource is a source with constant per-component energy growth.
type benchSource struct {
	mu         sync.Mutex
	components []sampler.Component
	energy     []units.Joules
}

func (s *benchSource) Components() []sampler.Component { return s.components }

func (s *benchSource) Read(_ time.Time, dst []sampler.Reading) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range dst {
		s.energy[i] += 100
		dst[i] = sampler.Reading{Energy: s.energy[i], Power: 100}
	}
	return nil
}

func (s *benchSource) Close() error { return nil }

// emptyCPU reports no CPU time, which keeps the benchmark on the exporter.
type emptyCPU struct{}

func (emptyCPU) TreeCPUTime([]int) (time.Duration, error)    { return time.Second, nil }
func (emptyCPU) CgroupCPUTime(string) (time.Duration, error) { return time.Second, nil }
func (emptyCPU) MachineCPUTime() (time.Duration, error)      { return time.Second, nil }

type allProcesses struct{}

func (allProcesses) Exists(int) bool                  { return true }
func (allProcesses) TreePIDs(p []int) ([]int, error)  { return p, nil }
func (allProcesses) CgroupPIDs(string) ([]int, error) { return nil, nil }

func BenchmarkScrape8GPUs200Jobs(b *testing.B) {
	src := &benchSource{}
	for i := range 8 {
		src.components = append(src.components, sampler.Component{Kind: sampler.KindGPU, Index: i,
			Name: "NVIDIA H100 80GB HBM3", UUID: fmt.Sprintf("GPU-%d", i), Method: sampler.MethodEnergyCounter})
	}
	for _, z := range []struct {
		name string
		kind sampler.Kind
	}{{"package-0", sampler.KindCPU}, {"package-1", sampler.KindCPU}, {"dram-0", sampler.KindDRAM},
		{"dram-1", sampler.KindDRAM}} {
		src.components = append(src.components, sampler.Component{Kind: z.kind, Name: z.name,
			Method: sampler.MethodEnergyCounter})
	}
	src.energy = make([]units.Joules, len(src.components))
	a, err := agent.New(agent.Options{Sources: []sampler.Source{src}, CPU: emptyCPU{},
		Processes: allProcesses{}, Site: grid.Site{Region: grid.Region{Code: "FR"}, Intensity: 56, PUE: 1.2}})
	require.NoError(b, err)
	a.Sample()
	for k := range 200 {
		_, err := a.Start(agent.JobSpec{ID: fmt.Sprintf("job-%d", k), PIDs: []int{1000 + k},
			GPUs: []string{fmt.Sprint(k % 8)}})
		require.NoError(b, err)
	}
	a.Sample()

	c := New(a, "bench")
	ch := make(chan prometheus.Metric, 4096)
	b.ReportAllocs()
	for b.Loop() {
		c.Collect(ch)
		for len(ch) > 0 {
			<-ch
		}
	}
}
