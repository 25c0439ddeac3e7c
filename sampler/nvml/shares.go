// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux && cgo

package nvml

import (
	"fmt"

	gonvml "github.com/NVIDIA/go-nvml/pkg/nvml"
)

// ProcessShares returns each process's fraction of the GPU with NVML index
// index since the previous call, keyed by PID, and how it was computed. With
// per-process utilization samples the fraction is the process's share of the
// summed streaming-multiprocessor utilization (ShareSMUtilization). When the
// device keeps no samples, or every sample is zero, each running compute
// process gets an equal share (ShareEqualSplit). The fractions sum to 1, or
// the map is empty when no process ran.
//
// NOTE: on a GPU in MIG mode the processes of every instance are listed,
// not only those of the instances this source measures.
func (s *Source) ProcessShares(index int) (map[uint32]float64, ShareMethod, error) {
	pos := -1
	for i := range s.boards {
		if s.boards[i].index == index {
			pos = i
		}
	}
	if pos < 0 {
		return nil, "", fmt.Errorf("process shares: GPU %d is not measured by this source", index)
	}

	s.sharesMu.Lock()
	defer s.sharesMu.Unlock()

	dev := s.boards[pos].dev
	samples, ret := dev.GetProcessUtilization(s.lastSeen[pos])
	switch ret {
	case gonvml.SUCCESS:
		for _, sample := range samples {
			s.lastSeen[pos] = max(s.lastSeen[pos], sample.TimeStamp)
		}
		if shares, ok := utilizationShares(samples); ok {
			return shares, ShareSMUtilization, nil
		}
		return equalShares(samplePIDs(samples)), ShareEqualSplit, nil
	case gonvml.ERROR_NOT_FOUND:
		// No sample is newer than the last one seen: no process ran.
		return map[uint32]float64{}, ShareSMUtilization, nil
	case gonvml.ERROR_NOT_SUPPORTED:
		return runningShares(dev, index)
	}
	return nil, "", deviceError(index, "process utilization", ret)
}

func runningShares(dev Device, index int) (map[uint32]float64, ShareMethod, error) {
	processes, ret := dev.GetComputeRunningProcesses()
	if ret != gonvml.SUCCESS {
		return nil, "", deviceError(index, "running processes", ret)
	}
	pids := make([]uint32, len(processes))
	for i, p := range processes {
		pids[i] = p.Pid
	}
	return equalShares(pids), ShareEqualSplit, nil
}

// utilizationShares splits by summed SM utilization per PID and returns
// false when the samples hold no utilization at all.
func utilizationShares(samples []gonvml.ProcessUtilizationSample) (map[uint32]float64, bool) {
	var total float64
	shares := make(map[uint32]float64, len(samples))
	for _, sample := range samples {
		shares[sample.Pid] += float64(sample.SmUtil)
		total += float64(sample.SmUtil)
	}
	if total == 0 {
		return nil, false
	}
	for pid := range shares {
		shares[pid] /= total
	}
	return shares, true
}

func samplePIDs(samples []gonvml.ProcessUtilizationSample) []uint32 {
	pids := make([]uint32, len(samples))
	for i, sample := range samples {
		pids[i] = sample.Pid
	}
	return pids
}

// equalShares gives every distinct PID the same fraction.
func equalShares(pids []uint32) map[uint32]float64 {
	shares := make(map[uint32]float64, len(pids))
	for _, pid := range pids {
		shares[pid] = 0
	}
	for pid := range shares {
		shares[pid] = 1 / float64(len(shares))
	}
	return shares
}
