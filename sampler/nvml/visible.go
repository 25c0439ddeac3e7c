// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package nvml

import (
	"fmt"
	"strconv"
	"strings"
)

// Environment variables that decide which GPUs a run uses.
const (
	visibleDevicesVar = "CUDA_VISIBLE_DEVICES"
	deviceOrderVar    = "CUDA_DEVICE_ORDER"
	localRankVar      = "LOCAL_RANK"
	worldSizeVar      = "WORLD_SIZE"
	localWorldSizeVar = "LOCAL_WORLD_SIZE"
)

// gpuRecord is one GPU as NVML enumerates it.
type gpuRecord struct {
	index int
	uuid  string
	name  string
	// totalSlices is the number of GPU slices of a GPU in MIG mode. It is 0
	// when the MIG instances were not listed or NVML did not report it.
	totalSlices uint32
	// migs lists the GPU's MIG instances. It is filled only when
	// CUDA_VISIBLE_DEVICES names a MIG instance.
	migs []migRecord
}

// migRecord is one MIG instance: a compute instance inside a GPU instance.
type migRecord struct {
	uuid    string
	profile string // such as "3g.20gb"
	giID    int    // GPU instance ID, -1 if unknown
	ciID    int    // compute instance ID, -1 if unknown
	slices  uint32 // GPU slices of the GPU instance
}

// selection is one GPU to measure: the whole board, or some of its MIG
// instances.
type selection struct {
	gpu   int // position in the gpuRecord slice
	whole bool
	migs  []migRecord
}

// selectResult is the outcome of applying the environment to the GPU list.
type selectResult struct {
	sel      []selection
	scope    string
	note     string
	warnings []string
}

// add selects a whole GPU (mig == nil) or one of its MIG instances. A GPU
// selected whole stays whole, and a repeated MIG instance counts once.
func (r *selectResult) add(gpu int, mig *migRecord) {
	pos := -1
	for i := range r.sel {
		if r.sel[i].gpu == gpu {
			pos = i
		}
	}
	if pos < 0 {
		r.sel = append(r.sel, selection{gpu: gpu})
		pos = len(r.sel) - 1
	}

	s := &r.sel[pos]
	if mig == nil {
		s.whole, s.migs = true, nil
		return
	}
	if s.whole {
		return
	}
	for _, m := range s.migs {
		if m.uuid == mig.uuid {
			return
		}
	}
	s.migs = append(s.migs, *mig)
}

// wantsMIG reports whether CUDA_VISIBLE_DEVICES names a MIG instance, which
// is the only case that needs the MIG instances enumerated.
func wantsMIG(env func(string) (string, bool)) bool {
	value, ok := env(visibleDevicesVar)
	return ok && strings.Contains(strings.ToUpper(value), "MIG-")
}

// selectDevices picks the GPUs that a CUDA program started with env would
// use: CUDA_VISIBLE_DEVICES when set, else every GPU, and then only the
// LOCAL_RANK-th of them under a torchrun-style launcher.
func selectDevices(gpus []gpuRecord, env func(string) (string, bool)) selectResult {
	var res selectResult
	byIndex := false
	if value, ok := env(visibleDevicesVar); ok {
		res, byIndex = selectVisible(gpus, value)
	} else {
		res = selectResult{scope: ScopeAll}
		for i := range gpus {
			res.add(i, nil)
		}
	}

	res, byRank := narrowToLocalRank(res, gpus, env)
	if (byIndex || byRank) && len(res.sel) > 0 {
		res.warnings = append(res.warnings, deviceOrderWarning(gpus, env)...)
	}
	return res
}

// selectVisible applies CUDA_VISIBLE_DEVICES. Like CUDA, it reads the list
// up to the first entry that names no device and ignores the rest, so an
// empty list, "-1" or an unknown UUID first in the list hides every GPU.
// It also reports whether any entry was a device index.
func selectVisible(gpus []gpuRecord, value string) (selectResult, bool) {
	res := selectResult{scope: ScopeVisibleDevices}
	if strings.TrimSpace(value) == "" {
		res.scope = ScopeNone
		res.note = fmt.Sprintf("hidden by %s=%q (empty list)", visibleDevicesVar, value)
		return res, false
	}

	byIndex := false
	for pos, raw := range strings.Split(value, ",") {
		entry := strings.TrimSpace(raw)
		gpu, mig, problem, warn := resolveEntry(gpus, entry)
		if problem == "" {
			res.add(gpu, mig)
			byIndex = byIndex || mig == nil && !strings.HasPrefix(strings.ToUpper(entry), "GPU-")
			continue
		}

		if pos == 0 {
			res.note = fmt.Sprintf("hidden by %s=%q: %s", visibleDevicesVar, value, problem)
		} else {
			res.note = fmt.Sprintf("%s=%q: %s, so CUDA ignores it and the entries after it",
				visibleDevicesVar, value, problem)
		}
		if warn {
			res.warnings = append(res.warnings, res.note)
		}
		break
	}

	if len(res.sel) == 0 {
		res.scope = ScopeNone
	} else if res.note == "" {
		res.note = fmt.Sprintf("%s=%q selects %d of %d GPUs",
			visibleDevicesVar, value, len(res.sel), len(gpus))
	}
	return res, byIndex
}

// resolveEntry finds the GPU, and the MIG instance if any, that one
// CUDA_VISIBLE_DEVICES entry names. UUIDs match by unique prefix, as CUDA
// accepts. problem is empty on success, and warn is false for a negative
// index, the usual way to hide GPUs on purpose.
func resolveEntry(
	gpus []gpuRecord, entry string,
) (gpu int, mig *migRecord, problem string, warn bool) {
	upper := strings.ToUpper(entry)
	switch {
	case strings.HasPrefix(upper, "MIG-GPU-"):
		return resolveLegacyMIG(gpus, entry)
	case strings.HasPrefix(upper, "MIG-"):
		return resolveMIG(gpus, entry)
	case strings.HasPrefix(upper, "GPU-"):
		return resolveGPU(gpus, entry)
	}

	n, err := strconv.Atoi(entry)
	switch {
	case err != nil:
		return 0, nil, fmt.Sprintf("entry %q is neither a device index nor a GPU- or MIG- UUID",
			entry), true
	case n < 0:
		return 0, nil, fmt.Sprintf("entry %q is a negative index", entry), false
	case n >= len(gpus):
		return 0, nil, fmt.Sprintf("no GPU has index %d (the machine has %d)", n, len(gpus)), true
	}
	return n, nil, "", false
}

func resolveGPU(gpus []gpuRecord, entry string) (int, *migRecord, string, bool) {
	found := -1
	for i, g := range gpus {
		if !hasPrefixFold(g.uuid, entry) {
			continue
		}
		if found >= 0 {
			return 0, nil, fmt.Sprintf("UUID prefix %q matches more than one GPU", entry), true
		}
		found = i
	}
	if found < 0 {
		return 0, nil, fmt.Sprintf("no GPU has UUID %q", entry), true
	}
	return found, nil, "", false
}

func resolveMIG(gpus []gpuRecord, entry string) (int, *migRecord, string, bool) {
	foundGPU := -1
	var found *migRecord
	for i := range gpus {
		for j := range gpus[i].migs {
			m := &gpus[i].migs[j]
			if !hasPrefixFold(m.uuid, entry) {
				continue
			}
			if found != nil {
				return 0, nil, fmt.Sprintf("UUID prefix %q matches more than one MIG instance",
					entry), true
			}
			foundGPU, found = i, m
		}
	}
	if found == nil {
		return 0, nil, fmt.Sprintf("no MIG instance has UUID %q", entry), true
	}
	return foundGPU, found, "", false
}

// resolveLegacyMIG resolves the MIG-GPU-<uuid>/<gpu instance>/<compute
// instance> form that drivers before R470 used.
func resolveLegacyMIG(gpus []gpuRecord, entry string) (int, *migRecord, string, bool) {
	parts := strings.Split(entry[len("MIG-"):], "/")
	invalid := fmt.Sprintf("entry %q is not of the form MIG-GPU-<uuid>/<gi>/<ci>", entry)
	if len(parts) != 3 {
		return 0, nil, invalid, true
	}
	giID, errGI := strconv.Atoi(parts[1])
	ciID, errCI := strconv.Atoi(parts[2])
	if errGI != nil || errCI != nil {
		return 0, nil, invalid, true
	}

	gpu, _, problem, warn := resolveGPU(gpus, parts[0])
	if problem != "" {
		return 0, nil, problem, warn
	}
	for j := range gpus[gpu].migs {
		m := &gpus[gpu].migs[j]
		if m.giID == giID && m.ciID == ciID {
			return gpu, m, "", false
		}
	}
	return 0, nil, fmt.Sprintf("GPU %s has no MIG instance %d/%d", parts[0], giID, ciID), true
}

// narrowToLocalRank keeps only the LOCAL_RANK-th selected GPU when a
// torchrun-style launcher (LOCAL_RANK with WORLD_SIZE or LOCAL_WORLD_SIZE)
// starts one measured process per rank, so that the ranks on one machine do
// not each count every GPU. A CUDA_VISIBLE_DEVICES list of one device is
// kept as it is, because then the launcher already pinned the rank. It also
// reports whether it narrowed the selection.
func narrowToLocalRank(
	res selectResult, gpus []gpuRecord, env func(string) (string, bool),
) (selectResult, bool) {
	text, ok := env(localRankVar)
	if !ok || res.scope == ScopeNone {
		return res, false
	}
	_, world := env(worldSizeVar)
	_, localWorld := env(localWorldSizeVar)
	if !world && !localWorld {
		return res, false
	}
	if res.scope == ScopeVisibleDevices && len(res.sel) == 1 {
		return res, false
	}

	rank, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil || rank < 0 {
		res.warnings = append(res.warnings, fmt.Sprintf(
			"%s=%q is not a non-negative integer, measuring every selected GPU", localRankVar, text))
		return res, false
	}
	if rank >= len(res.sel) {
		res.note = fmt.Sprintf("%s=%d but only %d GPUs are selected, so this rank measures none",
			localRankVar, rank, len(res.sel))
		res.warnings = append(res.warnings, res.note)
		res.sel, res.scope = nil, ScopeNone
		return res, false
	}

	res.sel = res.sel[rank : rank+1]
	res.scope = ScopeLocalRank
	res.note = fmt.Sprintf("%s=%d: measuring GPU %d only, one GPU per rank",
		localRankVar, rank, gpus[res.sel[0].gpu].index)
	return res, true
}

// deviceOrderWarning warns when a device index may name different GPUs in
// CUDA and in NVML. NVML numbers GPUs in PCI bus order. CUDA does so only
// with CUDA_DEVICE_ORDER=PCI_BUS_ID and otherwise puts the fastest GPU first,
// which changes the order only on machines with mixed GPU models.
func deviceOrderWarning(gpus []gpuRecord, env func(string) (string, bool)) []string {
	if order, _ := env(deviceOrderVar); order == "PCI_BUS_ID" {
		return nil
	}
	for _, g := range gpus[1:] {
		if g.name != gpus[0].name {
			return []string{"GPUs of different models are selected by index without " +
				"CUDA_DEVICE_ORDER=PCI_BUS_ID, so CUDA may number them differently from NVML; " +
				"set CUDA_DEVICE_ORDER=PCI_BUS_ID or select GPUs by UUID"}
		}
	}
	return nil
}

// sliceShare returns the fraction of a MIG parent's board energy that the
// selected instances own: their GPU slices over the parent's total, counting
// each GPU instance once and never more than the whole board. It also returns
// the component detail, such as "MIG 3g.20gb: 3/7 of GPU 0 board energy".
// totalSlices is 0 when NVML did not report it; the share is then 1.
func sliceShare(s selection, index int, totalSlices uint32) (float64, string) {
	var slices uint32
	profiles := make([]string, 0, len(s.migs))
	seen := make(map[int]bool)
	for _, m := range s.migs {
		profiles = append(profiles, m.profile)
		if m.giID >= 0 && seen[m.giID] {
			continue
		}
		seen[m.giID] = true
		slices += m.slices
	}

	names := strings.Join(profiles, " + ")
	if totalSlices == 0 || slices == 0 {
		return 1, fmt.Sprintf("MIG %s: all of GPU %d board energy (slice count unknown)",
			names, index)
	}
	slices = min(slices, totalSlices)
	share := float64(slices) / float64(totalSlices)
	return share, fmt.Sprintf("MIG %s: %d/%d of GPU %d board energy",
		names, slices, totalSlices, index)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
