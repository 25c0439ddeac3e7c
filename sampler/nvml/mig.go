// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux && cgo

package nvml

import (
	"fmt"
	"math"
	"strings"

	gonvml "github.com/NVIDIA/go-nvml/pkg/nvml"
)

// megabytesPerGigabyte converts NVML's MIG memory size to the gigabytes in
// profile names such as "3g.20gb".
const megabytesPerGigabyte = 1024

// listMIG lists the MIG instances of a GPU in MIG mode and the GPU's total
// number of slices. NVML has no energy or power reading per MIG instance, so
// the slices are what the source uses to share the board energy.
func listMIG(dev Device) ([]migRecord, uint32) {
	current, _, ret := dev.GetMigMode()
	if ret != gonvml.SUCCESS || current != gonvml.DEVICE_MIG_ENABLE {
		return nil, 0
	}
	count, ret := dev.GetMaxMigDeviceCount()
	if ret != gonvml.SUCCESS {
		return nil, 0
	}

	var migs []migRecord
	for i := range count {
		// Slots without an instance return ERROR_NOT_FOUND.
		handle, ret := dev.GetMigDeviceHandleByIndex(i)
		if ret != gonvml.SUCCESS {
			continue
		}
		if m, ok := readMIG(handle); ok {
			migs = append(migs, m)
		}
	}
	return migs, totalSlices(dev)
}

func readMIG(handle gonvml.Device) (migRecord, bool) {
	m := migRecord{giID: -1, ciID: -1}
	var ret gonvml.Return
	if m.uuid, ret = handle.GetUUID(); ret != gonvml.SUCCESS {
		return migRecord{}, false
	}

	attributes, ret := handle.GetAttributes()
	if ret == gonvml.SUCCESS {
		m.slices = attributes.GpuInstanceSliceCount
	}
	if id, ret := handle.GetGpuInstanceId(); ret == gonvml.SUCCESS {
		m.giID = id
	}
	if id, ret := handle.GetComputeInstanceId(); ret == gonvml.SUCCESS {
		m.ciID = id
	}
	name, _ := handle.GetName()
	m.profile = migProfile(name, attributes)
	return m, true
}

// totalSlices returns the GPU's slice count: the largest slice count of the
// GPU instance profiles it supports, 7 on A100 and H100, 4 on A30.
func totalSlices(dev Device) uint32 {
	var total uint32
	for profile := range gonvml.GPU_INSTANCE_PROFILE_COUNT {
		info, ret := dev.GetGpuInstanceProfileInfo(profile)
		if ret == gonvml.SUCCESS {
			total = max(total, info.SliceCount)
		}
	}
	return total
}

// migProfile returns the profile name of a MIG instance. NVML names a MIG
// device "<GPU name> MIG 3g.20gb". Without that suffix the name is built from
// the slice count and memory size, rounded up to whole gigabytes.
func migProfile(name string, attributes gonvml.DeviceAttributes) string {
	if i := strings.LastIndex(name, "MIG "); i >= 0 {
		return name[i+len("MIG "):]
	}
	if attributes.GpuInstanceSliceCount == 0 {
		return "instance"
	}
	gigabytes := math.Ceil(float64(attributes.MemorySizeMB) / megabytesPerGigabyte)
	return fmt.Sprintf("%dg.%.0fgb", attributes.GpuInstanceSliceCount, gigabytes)
}
