// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux && cgo

package nvml

import (
	"errors"
	"testing"
	"time"

	gonvml "github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/sampler"
)

// testClock is a fake monotonic clock that the mock devices read too.
type testClock struct {
	start   time.Time
	elapsed time.Duration
}

func newTestClock() *testClock {
	return &testClock{start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *testClock) now() time.Time { return c.start.Add(c.elapsed) }

// testServer is an 8-GPU DGX mock cut down to n GPUs.
type testServer struct {
	lib     gonvml.Interface
	devices []*server.Device
}

func newServer(n int) testServer {
	s := dgxa100.New()
	s.Devices = s.Devices[:n]
	devices := make([]*server.Device, n)
	for i := range devices {
		devices[i] = s.Devices[i].(*server.Device)
	}
	return testServer{lib: s, devices: devices}
}

func newH100Server() testServer {
	s := dgxh100.New()
	devices := make([]*server.Device, len(s.Devices))
	for i := range devices {
		devices[i] = s.Devices[i].(*server.Device)
	}
	return testServer{lib: s, devices: devices}
}

// constantPower makes every device draw watts. With counter set, the total
// energy counter grows at that power from a per-device start value, and
// without it the counter is not supported.
func (s testServer) constantPower(clock *testClock, watts uint32, counter bool) {
	for i, d := range s.devices {
		start := uint64(1_000_000_000 + i*12_345)
		d.GetPowerUsageFunc = func() (uint32, gonvml.Return) {
			return watts * 1000, gonvml.SUCCESS
		}
		d.GetTotalEnergyConsumptionFunc = func() (uint64, gonvml.Return) {
			if !counter {
				return 0, gonvml.ERROR_NOT_SUPPORTED
			}
			return start + uint64(watts)*uint64(clock.elapsed.Milliseconds()), gonvml.SUCCESS
		}
	}
}

func openSource(t *testing.T, lib Library, vars map[string]string) (*Source, *sampler.Warnings) {
	t.Helper()
	warn := sampler.NewWarnings(nil)
	src, err := Open(Options{Lib: lib, Env: envOf(vars), Warn: warn})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, src.Close()) })
	return src, warn
}

// measure reads src every step from 0 to duration and returns the last readings.
func measure(
	t *testing.T, src *Source, clock *testClock, duration, step time.Duration,
) []sampler.Reading {
	t.Helper()
	readings := make([]sampler.Reading, len(src.Components()))
	for clock.elapsed = 0; clock.elapsed <= duration; clock.elapsed += step {
		require.NoError(t, src.Read(clock.now(), readings))
	}
	return readings
}

func totalEnergy(readings []sampler.Reading) units.Joules {
	var total units.Joules
	for _, r := range readings {
		total += r.Energy
	}
	return total
}

func TestEnergyEqualsCounterDifference(t *testing.T) {
	tests := []struct {
		name    string
		fixture testServer
	}{
		{name: "dgx a100", fixture: newServer(8)},
		{name: "dgx h100", fixture: newH100Server()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			counters := [][]uint64{}
			for i, d := range tc.fixture.devices {
				values := []uint64{
					uint64(i)*7_000_001 + 123_456_789_012,
					uint64(i)*7_000_001 + 123_456_989_013,
					uint64(i)*7_000_001 + 123_457_000_001,
				}
				counters = append(counters, values)
				read := 0
				d.GetPowerUsageFunc = func() (uint32, gonvml.Return) { return 400_000, gonvml.SUCCESS }
				d.GetTotalEnergyConsumptionFunc = func() (uint64, gonvml.Return) {
					// The first call is the support probe in Open.
					v := values[max(read-1, 0)]
					read++
					return v, gonvml.SUCCESS
				}
			}
			src, _ := openSource(t, tc.fixture.lib, nil)
			require.Len(t, src.Components(), 8)
			assert.Equal(t, ScopeAll, src.Scope())

			clock := newTestClock()
			readings := measure(t, src, clock, 2*time.Second, time.Second)

			for i, d := range tc.fixture.devices {
				want := units.Millijoules(counters[i][2] - counters[i][0])
				assert.Equal(t, want, readings[i].Energy, "GPU %d energy", i)
				assert.Equal(t, units.Watts(400), readings[i].Power, "GPU %d power", i)
				assert.Len(t, d.GetTotalEnergyConsumptionCalls(), 4, "GPU %d counter reads", i)
				assert.Equal(t, sampler.MethodEnergyCounter, src.Components()[i].Method)
				assert.Equal(t, d.UUID, src.Components()[i].UUID)
			}
		})
	}
}

func TestPowerIntegrationWithoutCounter(t *testing.T) {
	s := newServer(1)
	clock := newTestClock()
	s.constantPower(clock, 300, false)
	src, _ := openSource(t, s.lib, nil)

	// Ten samples one second apart span nine intervals.
	readings := measure(t, src, clock, 9*time.Second, time.Second)

	assert.InDelta(t, 2700, float64(readings[0].Energy), 1e-9)
	assert.Equal(t, units.Watts(300), readings[0].Power)
	assert.Equal(t, sampler.MethodPowerIntegration, src.Components()[0].Method)
	assert.Len(t, s.devices[0].GetPowerUsageCalls(), 11, "one probe and ten samples")
}

func TestVisibleDevicesOneOfEight_CR07(t *testing.T) {
	s := newServer(8)
	clock := newTestClock()
	s.constantPower(clock, 300, true)
	src, _ := openSource(t, s.lib, map[string]string{visibleDevicesVar: "3"})

	readings := measure(t, src, clock, 10*time.Second, time.Second)

	want := []DeviceInfo{{Index: 3, UUID: s.devices[3].UUID, Name: s.devices[3].Config.Name}}
	assert.Equal(t, want, src.Devices())
	assert.InEpsilon(t, 3000, float64(totalEnergy(readings)), 0.02)
	assert.Equal(t, units.Watts(300), readings[0].Power)
	assert.Equal(t, ScopeVisibleDevices, src.Scope())
	assert.Empty(t, s.devices[0].GetTotalEnergyConsumptionCalls(), "GPU 0 is never read")
}

func TestVisibleDevicesHidden_CR08(t *testing.T) {
	tests := []struct {
		name      string
		vars      map[string]string
		wantGPUs  int
		wantScope string
		wantNote  string
		wantWatts units.Watts
	}{
		{name: "empty list", vars: map[string]string{visibleDevicesVar: ""},
			wantScope: ScopeNone, wantNote: "hidden by CUDA_VISIBLE_DEVICES"},
		{name: "minus one", vars: map[string]string{visibleDevicesVar: "-1"},
			wantScope: ScopeNone, wantNote: "hidden by CUDA_VISIBLE_DEVICES"},
		{name: "unset", vars: nil, wantGPUs: 2, wantScope: ScopeAll, wantWatts: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(2)
			clock := newTestClock()
			s.constantPower(clock, 100, true)
			src, warn := openSource(t, s.lib, tc.vars)

			readings := measure(t, src, clock, 10*time.Second, time.Second)

			var watts units.Watts
			for _, r := range readings {
				watts += r.Power
			}
			assert.Len(t, src.Components(), tc.wantGPUs)
			assert.Equal(t, tc.wantScope, src.Scope())
			assert.Contains(t, src.Note(), tc.wantNote)
			assert.Equal(t, tc.wantWatts, watts)
			assert.Empty(t, warn.List(), "hiding GPUs on purpose is not a warning")
			if tc.wantGPUs == 0 {
				assert.Zero(t, totalEnergy(readings))
			}
		})
	}
}

// withMIG puts GPU 0 of s in MIG mode with one 3g.20gb instance per UUID.
func withMIG(s testServer, uuids ...string) []*mock.Device {
	parent := s.devices[0]
	parent.MigMode = gonvml.DEVICE_MIG_ENABLE
	var instances []*mock.Device
	for i, uuid := range uuids {
		instances = append(instances, &mock.Device{
			GetUUIDFunc: func() (string, gonvml.Return) { return uuid, gonvml.SUCCESS },
			GetNameFunc: func() (string, gonvml.Return) {
				return "NVIDIA A100-SXM4-40GB MIG 3g.20gb", gonvml.SUCCESS
			},
			GetAttributesFunc: func() (gonvml.DeviceAttributes, gonvml.Return) {
				return gonvml.DeviceAttributes{GpuInstanceSliceCount: 3, MemorySizeMB: 19968},
					gonvml.SUCCESS
			},
			GetGpuInstanceIdFunc:     func() (int, gonvml.Return) { return i + 1, gonvml.SUCCESS },
			GetComputeInstanceIdFunc: func() (int, gonvml.Return) { return 0, gonvml.SUCCESS },
		})
	}
	parent.GetMaxMigDeviceCountFunc = func() (int, gonvml.Return) { return 7, gonvml.SUCCESS }
	parent.GetMigDeviceHandleByIndexFunc = func(i int) (gonvml.Device, gonvml.Return) {
		if i >= len(instances) {
			return nil, gonvml.ERROR_NOT_FOUND
		}
		return instances[i], gonvml.SUCCESS
	}
	return instances
}

func TestMIGSliceShare_CR09(t *testing.T) {
	s := newServer(1)
	clock := newTestClock()
	s.constantPower(clock, 250, true)
	withMIG(s, "MIG-a", "MIG-b")

	jobA, _ := openSource(t, s.lib, map[string]string{visibleDevicesVar: "MIG-a"})
	jobB, _ := openSource(t, s.lib, map[string]string{visibleDevicesVar: "MIG-b"})
	readingsA := make([]sampler.Reading, 1)
	readingsB := make([]sampler.Reading, 1)
	for clock.elapsed = 0; clock.elapsed <= 10*time.Second; clock.elapsed += time.Second {
		require.NoError(t, jobA.Read(clock.now(), readingsA))
		require.NoError(t, jobB.Read(clock.now(), readingsB))
	}

	for _, job := range []struct {
		src      *Source
		readings []sampler.Reading
	}{{jobA, readingsA}, {jobB, readingsB}} {
		require.Len(t, job.src.Components(), 1)
		c := job.src.Components()[0]
		assert.Equal(t, s.devices[0].UUID, c.UUID, "MIG instance resolves to its parent")
		assert.Equal(t, "MIG 3g.20gb: 3/7 of GPU 0 board energy", c.Detail)
		assert.InEpsilon(t, 1071.4, float64(job.readings[0].Energy), 0.01)
		assert.InEpsilon(t, 107.1, float64(job.readings[0].Power), 0.01)
	}
	assert.LessOrEqual(t, float64(readingsA[0].Energy+readingsB[0].Energy), 2500.0)
}

func TestMIGTwoInstancesOneParent(t *testing.T) {
	s := newServer(1)
	clock := newTestClock()
	s.constantPower(clock, 250, true)
	withMIG(s, "MIG-a", "MIG-b")

	src, _ := openSource(t, s.lib, map[string]string{visibleDevicesVar: "MIG-a,MIG-b,MIG-a"})
	readings := measure(t, src, clock, 10*time.Second, time.Second)

	require.Len(t, src.Components(), 1)
	assert.Equal(t, "MIG 3g.20gb + 3g.20gb: 6/7 of GPU 0 board energy", src.Components()[0].Detail)
	assert.InEpsilon(t, 2500.0*6/7, float64(readings[0].Energy), 1e-9)
}

func TestPowerIntegrationOneHour_CR10(t *testing.T) {
	s := newServer(1)
	clock := newTestClock()
	s.constantPower(clock, 200, false)
	src, _ := openSource(t, s.lib, nil)

	readings := measure(t, src, clock, time.Hour, time.Second)

	assert.InEpsilon(t, 0.2, float64(readings[0].Energy.KWh()), 0.01)
	assert.Positive(t, float64(readings[0].Energy))
	assert.Equal(t, sampler.MethodPowerIntegration, src.Components()[0].Method)
}

func TestUnitConversion_CR21(t *testing.T) {
	s := newServer(1)
	counter := uint64(5_000_000)
	s.devices[0].GetPowerUsageFunc = func() (uint32, gonvml.Return) { return 250_000, gonvml.SUCCESS }
	s.devices[0].GetTotalEnergyConsumptionFunc = func() (uint64, gonvml.Return) {
		return counter, gonvml.SUCCESS
	}
	src, _ := openSource(t, s.lib, nil)
	clock := newTestClock()
	readings := make([]sampler.Reading, 1)

	require.NoError(t, src.Read(clock.now(), readings))
	counter += 3_600_000
	clock.elapsed = 14400 * time.Millisecond
	require.NoError(t, src.Read(clock.now(), readings))

	assert.Equal(t, units.Watts(250), readings[0].Power)
	assert.Equal(t, units.Joules(3600), readings[0].Energy)
	assert.InDelta(t, 0.001, float64(readings[0].Energy.KWh()), 1e-15)
}

func TestCounterOnlyPowerIsMean(t *testing.T) {
	s := newServer(1)
	clock := newTestClock()
	s.constantPower(clock, 300, true)
	s.devices[0].GetPowerUsageFunc = func() (uint32, gonvml.Return) {
		return 0, gonvml.ERROR_NOT_SUPPORTED
	}
	src, _ := openSource(t, s.lib, nil)

	readings := measure(t, src, clock, 10*time.Second, 2*time.Second)

	assert.InDelta(t, 300, float64(readings[0].Power), 1e-9)
	assert.InDelta(t, 3000, float64(readings[0].Energy), 1e-9)
	assert.Equal(t, sampler.MethodEnergyCounter, src.Components()[0].Method)
}

func TestReadFailureMidRun_CR23(t *testing.T) {
	s := newServer(2)
	clock := newTestClock()
	s.constantPower(clock, 300, true)
	lost := s.devices[1]
	lost.GetTotalEnergyConsumptionFunc = func() (uint64, gonvml.Return) {
		if clock.elapsed > 5*time.Second {
			return 0, gonvml.ERROR_GPU_IS_LOST
		}
		return uint64(300 * clock.elapsed.Milliseconds()), gonvml.SUCCESS
	}
	src, warn := openSource(t, s.lib, nil)

	readings := measure(t, src, clock, 10*time.Second, time.Second)

	assert.InDelta(t, 1500, float64(readings[1].Energy), 1e-9, "energy up to the failure is kept")
	assert.Zero(t, readings[1].Power)
	assert.InDelta(t, 3000, float64(readings[0].Energy), 1e-9, "the other GPU is still read")
	// One probe, six good reads and the failing read, then no more reads.
	assert.Len(t, lost.GetTotalEnergyConsumptionCalls(), 8)
	require.Len(t, warn.List(), 1)
	assert.Contains(t, warn.List()[0], "GPU 1 ("+lost.UUID+")")
	assert.Contains(t, warn.List()[0], "ERROR_GPU_IS_LOST")
}

func TestVisibleDevicesUUIDs_CR30(t *testing.T) {
	const (
		migUUID = "MIG-4f6e2c1a-0000-0000-0000-000000000001"
		gpuUUID = "GPU-aaaaaaaa-0000-0000-0000-000000000000"
	)
	tests := []struct {
		name        string
		visible     string
		wantIndices []int
		wantScope   string
		wantWarning string
	}{
		{name: "MIG UUID", visible: migUUID, wantIndices: []int{0}, wantScope: ScopeVisibleDevices},
		{name: "GPU UUID and index", visible: gpuUUID + ",1", wantIndices: []int{0, 1},
			wantScope: ScopeVisibleDevices},
		{name: "UUID prefix", visible: "GPU-aaaaaaaa,2", wantIndices: []int{0, 2},
			wantScope: ScopeVisibleDevices},
		{name: "legacy MIG form", visible: "MIG-" + gpuUUID + "/1/0", wantIndices: []int{0},
			wantScope: ScopeVisibleDevices},
		{name: "unknown UUID", visible: "GPU-ffffffff-0000-0000-0000-000000000000",
			wantScope: ScopeNone, wantWarning: "no GPU has UUID"},
		{name: "unknown MIG UUID", visible: "MIG-ffffffff", wantScope: ScopeNone,
			wantWarning: "no MIG instance has UUID"},
		{name: "invalid entry ends list", visible: "2,GPU-ffffffff,1", wantIndices: []int{2},
			wantScope: ScopeVisibleDevices, wantWarning: "CUDA ignores it and the entries after it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(4)
			s.devices[0].UUID = gpuUUID
			clock := newTestClock()
			s.constantPower(clock, 300, true)
			withMIG(s, migUUID)

			src, warn := openSource(t, s.lib, map[string]string{visibleDevicesVar: tc.visible})

			var indices []int
			for _, d := range src.Devices() {
				indices = append(indices, d.Index)
			}
			assert.Equal(t, tc.wantIndices, indices)
			assert.Equal(t, tc.wantScope, src.Scope())
			if tc.wantWarning == "" {
				assert.Empty(t, warn.List())
				return
			}
			require.Len(t, warn.List(), 1)
			assert.Contains(t, warn.List()[0], tc.wantWarning)
		})
	}
}

func TestLocalRankOneGPUEach_CR31(t *testing.T) {
	s := newServer(4)
	clock := newTestClock()
	s.constantPower(clock, 300, true)

	var ranks []*Source
	for _, rank := range []string{"0", "1", "2", "3"} {
		src, _ := openSource(t, s.lib, map[string]string{localRankVar: rank, worldSizeVar: "4"})
		require.Len(t, src.Components(), 1, "rank %s", rank)
		assert.Equal(t, ScopeLocalRank, src.Scope())
		ranks = append(ranks, src)
	}

	var total units.Joules
	readings := make([]sampler.Reading, 1)
	for clock.elapsed = 0; clock.elapsed <= 10*time.Second; clock.elapsed += time.Second {
		total = 0
		for _, src := range ranks {
			require.NoError(t, src.Read(clock.now(), readings))
			total += readings[0].Energy
		}
	}

	assert.InEpsilon(t, 12000, float64(total), 0.02)
	for i, src := range ranks {
		assert.Equal(t, i, src.Components()[0].Index)
	}
}

func TestLibraryNotFound_CR36(t *testing.T) {
	lib := &mock.Interface{
		InitFunc: func() gonvml.Return { return gonvml.ERROR_LIBRARY_NOT_FOUND },
	}

	src, err := Open(Options{Lib: lib})

	assert.Nil(t, src)
	require.ErrorIs(t, err, sampler.ErrUnavailable)
	var unavailable *UnavailableError
	require.ErrorAs(t, err, &unavailable)
	assert.Equal(t, "NVML library not found", unavailable.Reason)
	assert.Empty(t, lib.DeviceGetCountCalls(), "no NVML call after a failed Init")
}

func TestSystemLibraryWithoutGPU(t *testing.T) {
	// The real library: on a machine without libnvidia-ml.so.1 this is the
	// dlopen failure path, which must return an error rather than crash.
	src, err := Open(Options{Env: envOf(nil)})
	if err == nil {
		require.NoError(t, src.Close())
		t.Skip("this machine has NVML and a GPU")
	}
	require.ErrorIs(t, err, sampler.ErrUnavailable)
}

func TestNoGPUFound(t *testing.T) {
	s := newServer(0)

	src, err := Open(Options{Lib: s.lib})

	assert.Nil(t, src)
	require.ErrorIs(t, err, sampler.ErrUnavailable)
	assert.EqualError(t, err, "no NVIDIA GPU found")
}

func TestNoReadingSupported(t *testing.T) {
	s := newServer(2)
	clock := newTestClock()
	s.constantPower(clock, 300, true)
	s.devices[1].GetPowerUsageFunc = func() (uint32, gonvml.Return) {
		return 0, gonvml.ERROR_NOT_SUPPORTED
	}
	s.devices[1].GetTotalEnergyConsumptionFunc = func() (uint64, gonvml.Return) {
		return 0, gonvml.ERROR_NOT_SUPPORTED
	}

	src, warn := openSource(t, s.lib, nil)

	assert.Len(t, src.Components(), 1)
	require.Len(t, warn.List(), 1)
	assert.Contains(t, warn.List()[0], "GPU 1")
}

func TestReadWrongLength(t *testing.T) {
	s := newServer(2)
	s.constantPower(newTestClock(), 300, true)
	src, _ := openSource(t, s.lib, nil)

	err := src.Read(time.Now(), make([]sampler.Reading, 1))

	assert.EqualError(t, err, "nvml read: 1 readings for 2 GPUs")
}

func TestCloseTwice(t *testing.T) {
	s := newServer(1)
	s.constantPower(newTestClock(), 300, true)
	src, err := Open(Options{Lib: s.lib})
	require.NoError(t, err)

	require.NoError(t, src.Close())
	require.NoError(t, src.Close())

	assert.Len(t, s.lib.(*server.Server).ShutdownCalls(), 1)
}

func TestProcessShares(t *testing.T) {
	samples := []gonvml.ProcessUtilizationSample{
		{Pid: 10, TimeStamp: 100, SmUtil: 30},
		{Pid: 20, TimeStamp: 110, SmUtil: 10},
		{Pid: 10, TimeStamp: 120, SmUtil: 40},
	}
	tests := []struct {
		name       string
		samples    []gonvml.ProcessUtilizationSample
		ret        gonvml.Return
		want       map[uint32]float64
		wantMethod ShareMethod
	}{
		{name: "utilization", samples: samples, ret: gonvml.SUCCESS,
			want: map[uint32]float64{10: 0.875, 20: 0.125}, wantMethod: ShareSMUtilization},
		{name: "all idle", samples: []gonvml.ProcessUtilizationSample{{Pid: 1}, {Pid: 2}},
			ret: gonvml.SUCCESS, want: map[uint32]float64{1: 0.5, 2: 0.5}, wantMethod: ShareEqualSplit},
		{name: "no new samples", ret: gonvml.ERROR_NOT_FOUND, want: map[uint32]float64{},
			wantMethod: ShareSMUtilization},
		{name: "samples not supported", ret: gonvml.ERROR_NOT_SUPPORTED,
			want: map[uint32]float64{7: 0.25, 8: 0.25, 9: 0.25, 11: 0.25}, wantMethod: ShareEqualSplit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(1)
			s.constantPower(newTestClock(), 300, true)
			d := s.devices[0]
			d.GetProcessUtilizationFunc = func(uint64) ([]gonvml.ProcessUtilizationSample, gonvml.Return) {
				return tc.samples, tc.ret
			}
			d.GetComputeRunningProcessesFunc = func() ([]gonvml.ProcessInfo, gonvml.Return) {
				return []gonvml.ProcessInfo{{Pid: 7}, {Pid: 8}, {Pid: 9}, {Pid: 11}}, gonvml.SUCCESS
			}
			src, _ := openSource(t, s.lib, nil)

			shares, method, err := src.ProcessShares(0)

			require.NoError(t, err)
			assert.InDeltaMapValues(t, tc.want, shares, 1e-12)
			assert.Len(t, shares, len(tc.want))
			assert.Equal(t, tc.wantMethod, method)
		})
	}
}

func TestProcessSharesSinceLastCall(t *testing.T) {
	s := newServer(1)
	s.constantPower(newTestClock(), 300, true)
	d := s.devices[0]
	d.GetProcessUtilizationFunc = func(uint64) ([]gonvml.ProcessUtilizationSample, gonvml.Return) {
		return []gonvml.ProcessUtilizationSample{{Pid: 1, TimeStamp: 500, SmUtil: 5}}, gonvml.SUCCESS
	}
	src, _ := openSource(t, s.lib, nil)

	for range 2 {
		_, _, err := src.ProcessShares(0)
		require.NoError(t, err)
	}
	_, _, err := src.ProcessShares(3)

	calls := d.GetProcessUtilizationCalls()
	require.Len(t, calls, 2)
	assert.Equal(t, uint64(0), calls[0].V)
	assert.Equal(t, uint64(500), calls[1].V)
	assert.EqualError(t, err, "process shares: GPU 3 is not measured by this source")
}

func TestUnavailableErrorUnwrap(t *testing.T) {
	cause := errors.New("ERROR_UNKNOWN")
	err := error(&UnavailableError{Reason: "NVML initialization failed", Err: cause})

	assert.ErrorIs(t, err, sampler.ErrUnavailable)
	assert.ErrorIs(t, err, cause)
	assert.EqualError(t, err, "NVML initialization failed: ERROR_UNKNOWN")
}

func TestPowerReadFailureKeepsCounter(t *testing.T) {
	s := newServer(1)
	clock := newTestClock()
	s.constantPower(clock, 300, true)
	dev := s.devices[0]
	dev.GetPowerUsageFunc = func() (uint32, gonvml.Return) {
		if clock.elapsed == 2*time.Second {
			return 0, gonvml.ERROR_TIMEOUT
		}
		return 300_000, gonvml.SUCCESS
	}
	src, warn := openSource(t, s.lib, nil)

	readings := measure(t, src, clock, 10*time.Second, time.Second)

	assert.InDelta(t, 3000, float64(readings[0].Energy), 1e-9, "the energy counter is still read")
	assert.InDelta(t, 300, float64(readings[0].Power), 1e-9)
	require.Len(t, warn.List(), 1)
	assert.Contains(t, warn.List()[0], "power reading failed")
}
