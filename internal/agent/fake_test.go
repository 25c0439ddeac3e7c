// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"errors"
	"fmt"
	"github.com/carbonrun/carbonrun/internal/grid"
	"sync"
	"time"

	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/sampler"
)

// FakeSource is a sampler.Source whose cumulative energy per component the
// test sets before each round.
type FakeSource struct {
	mu         sync.Mutex
	components []sampler.Component
	energy     []units.Joules
	power      []units.Watts
	err        error
	domains    map[string]bool
}

// NewFakeSource returns a source with gpus GPUs (energy counters) and the
// given CPU-side components after them.
func NewFakeSource(gpus int, others ...sampler.Component) *FakeSource {
	s := &FakeSource{}
	for i := range gpus {
		s.components = append(s.components, sampler.Component{
			Kind: sampler.KindGPU, Name: "NVIDIA H100 80GB HBM3", Index: i,
			UUID: fmt.Sprintf("GPU-%08d-0000-0000-0000-000000000000", i), Method: sampler.MethodEnergyCounter,
		})
	}
	s.components = append(s.components, others...)
	s.energy = make([]units.Joules, len(s.components))
	s.power = make([]units.Watts, len(s.components))
	return s
}

// CPUZone returns a RAPL-like package component.
func CPUZone(name string, index int) sampler.Component {
	return sampler.Component{Kind: sampler.KindCPU, Name: name, Index: index,
		Method: sampler.MethodEnergyCounter, Detail: "intel-rapl:" + fmt.Sprint(index)}
}

// Set stores cumulative joules, one per component in order.
func (s *FakeSource) Set(joules ...float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, j := range joules {
		s.energy[i] = units.Joules(j)
	}
}

// Add raises component i's cumulative energy by joules.
func (s *FakeSource) Add(i int, joules float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.energy[i] += units.Joules(joules)
}

// Fail makes Read return err and reports the domains' states.
func (s *FakeSource) Fail(err error, domains map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err, s.domains = err, domains
}

func (s *FakeSource) Components() []sampler.Component { return s.components }

func (s *FakeSource) Read(_ time.Time, dst []sampler.Reading) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range dst {
		dst[i] = sampler.Reading{Energy: s.energy[i], Power: s.power[i]}
	}
	return s.err
}

func (s *FakeSource) Close() error { return nil }

// FakeDomainSource adds DomainUp to a FakeSource, as the RAPL source has.
type FakeDomainSource struct{ *FakeSource }

func (s FakeDomainSource) DomainUp() map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	up := make(map[string]bool, len(s.domains))
	for k, v := range s.domains {
		up[k] = v
	}
	return up
}

// FakeCPU is a CPUTimer whose times the test sets.
type FakeCPU struct {
	mu      sync.Mutex
	Machine time.Duration
	// Trees is keyed by the first PID of a job.
	Trees   map[int]time.Duration
	Cgroups map[string]time.Duration
}

func NewFakeCPU() *FakeCPU {
	return &FakeCPU{Trees: map[int]time.Duration{}, Cgroups: map[string]time.Duration{}}
}

// Advance adds machine busy time and per-tree CPU time.
func (c *FakeCPU) Advance(machine time.Duration, trees map[int]time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Machine += machine
	for pid, d := range trees {
		c.Trees[pid] += d
	}
}

func (c *FakeCPU) TreeCPUTime(pids []int) (time.Duration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.Trees[pids[0]]
	if !ok {
		return 0, errors.New("no such process tree")
	}
	return t, nil
}

func (c *FakeCPU) CgroupCPUTime(dir string) (time.Duration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.Cgroups[dir]
	if !ok {
		return 0, errors.New("no such cgroup")
	}
	return t, nil
}

func (c *FakeCPU) MachineCPUTime() (time.Duration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Machine, nil
}

// FakeProcesses is a ProcessTable where every PID in Live exists, with the
// children listed in Children.
type FakeProcesses struct {
	Live     map[int]bool
	Children map[int][]int
}

func (p FakeProcesses) Exists(pid int) bool { return p.Live[pid] }

func (p FakeProcesses) TreePIDs(pids []int) ([]int, error) {
	var tree []int
	queue := append([]int(nil), pids...)
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		tree = append(tree, pid)
		queue = append(queue, p.Children[pid]...)
	}
	return tree, nil
}

func (p FakeProcesses) CgroupPIDs(string) ([]int, error) { return nil, errors.New("no cgroups") }

// FakeGPUShares returns fixed per-process utilisation shares per GPU.
type FakeGPUShares struct {
	Shares map[int]map[uint32]float64
	Err    error
}

func (f FakeGPUShares) GPUShares(index int) (map[uint32]float64, error) {
	if f.Err != nil {
		return nil, f.Err
	}
	return f.Shares[index], nil
}

// FakeClock is a settable clock.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func NewFakeClock() *FakeClock {
	return &FakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestSite is the site of the tests: 100 g/kWh and PUE 1.5.
var TestSite = grid.Site{
	Region:    grid.Region{Code: "FR", Name: "France", Source: "test table", Year: 2024},
	Intensity: 100, IntensitySource: "table", PUE: 1.5, PUESource: "override"}
