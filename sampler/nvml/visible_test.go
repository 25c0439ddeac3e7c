// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package nvml

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func envOf(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		value, ok := vars[name]
		return value, ok
	}
}

func testGPUs() []gpuRecord {
	return []gpuRecord{
		{index: 0, uuid: "GPU-aaaa1111", name: "A100", totalSlices: 7, migs: []migRecord{
			{uuid: "MIG-0001", profile: "3g.20gb", giID: 1, ciID: 0, slices: 3},
			{uuid: "MIG-0002", profile: "4g.20gb", giID: 2, ciID: 0, slices: 4},
			{uuid: "MIG-0003", profile: "1c.4g.20gb", giID: 2, ciID: 1, slices: 4},
		}},
		{index: 1, uuid: "GPU-aaaa2222", name: "A100"},
		{index: 2, uuid: "GPU-bbbb3333", name: "A100"},
	}
}

func selectedIndices(res selectResult) []int {
	var indices []int
	for _, s := range res.sel {
		indices = append(indices, s.gpu)
	}
	return indices
}

func TestSelectDevices(t *testing.T) {
	tests := []struct {
		name        string
		vars        map[string]string
		want        []int
		wantScope   string
		wantWarning bool
	}{
		{name: "unset", vars: nil, want: []int{0, 1, 2}, wantScope: ScopeAll},
		{name: "order kept", vars: map[string]string{visibleDevicesVar: "2, 0"}, want: []int{2, 0},
			wantScope: ScopeVisibleDevices},
		{name: "duplicate", vars: map[string]string{visibleDevicesVar: "1,1"}, want: []int{1},
			wantScope: ScopeVisibleDevices},
		{name: "ambiguous prefix", vars: map[string]string{visibleDevicesVar: "GPU-aaaa"},
			wantScope: ScopeNone, wantWarning: true},
		{name: "index out of range", vars: map[string]string{visibleDevicesVar: "7"},
			wantScope: ScopeNone, wantWarning: true},
		{name: "not an entry", vars: map[string]string{visibleDevicesVar: "cuda0"},
			wantScope: ScopeNone, wantWarning: true},
		{name: "negative index ends list", vars: map[string]string{visibleDevicesVar: "1,-1,2"},
			want: []int{1}, wantScope: ScopeVisibleDevices},
		{name: "local rank", vars: map[string]string{localRankVar: "1", localWorldSizeVar: "3"},
			want: []int{1}, wantScope: ScopeLocalRank},
		{name: "local rank without world size", vars: map[string]string{localRankVar: "1"},
			want: []int{0, 1, 2}, wantScope: ScopeAll},
		{name: "local rank over visible list",
			vars: map[string]string{visibleDevicesVar: "2,1", localRankVar: "1", worldSizeVar: "2"},
			want: []int{1}, wantScope: ScopeLocalRank},
		{name: "rank pinned by launcher",
			vars: map[string]string{visibleDevicesVar: "2", localRankVar: "1", worldSizeVar: "2"},
			want: []int{2}, wantScope: ScopeVisibleDevices},
		{name: "local rank beyond GPUs", vars: map[string]string{localRankVar: "5", worldSizeVar: "8"},
			wantScope: ScopeNone, wantWarning: true},
		{name: "invalid local rank", vars: map[string]string{localRankVar: "x", worldSizeVar: "2"},
			want: []int{0, 1, 2}, wantScope: ScopeAll, wantWarning: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := selectDevices(testGPUs(), envOf(tc.vars))

			assert.Equal(t, tc.want, selectedIndices(res))
			assert.Equal(t, tc.wantScope, res.scope)
			assert.Equal(t, tc.wantWarning, len(res.warnings) > 0, "warnings: %q", res.warnings)
		})
	}
}

func TestDeviceOrderWarning(t *testing.T) {
	gpus := testGPUs()
	gpus[2].name = "H100"

	byIndex := selectDevices(gpus, envOf(map[string]string{visibleDevicesVar: "2"}))
	pciOrder := selectDevices(gpus, envOf(map[string]string{
		visibleDevicesVar: "2", deviceOrderVar: "PCI_BUS_ID"}))
	byUUID := selectDevices(gpus, envOf(map[string]string{visibleDevicesVar: "GPU-bbbb"}))

	require.Len(t, byIndex.warnings, 1)
	assert.Contains(t, byIndex.warnings[0], "CUDA_DEVICE_ORDER=PCI_BUS_ID")
	assert.Empty(t, pciOrder.warnings)
	assert.Empty(t, byUUID.warnings)
}

func TestSliceShare(t *testing.T) {
	migs := testGPUs()[0].migs
	tests := []struct {
		name       string
		sel        selection
		total      uint32
		want       float64
		wantDetail string
	}{
		{name: "one instance", sel: selection{migs: migs[:1]}, total: 7, want: 3.0 / 7,
			wantDetail: "MIG 3g.20gb: 3/7 of GPU 0 board energy"},
		{name: "two compute instances of one GPU instance", sel: selection{migs: migs[1:]},
			total: 7, want: 4.0 / 7,
			wantDetail: "MIG 4g.20gb + 1c.4g.20gb: 4/7 of GPU 0 board energy"},
		{name: "capped at the board", sel: selection{migs: migs[:2]}, total: 4, want: 1,
			wantDetail: "MIG 3g.20gb + 4g.20gb: 4/4 of GPU 0 board energy"},
		{name: "total unknown", sel: selection{migs: migs[:1]}, total: 0, want: 1,
			wantDetail: "MIG 3g.20gb: all of GPU 0 board energy (slice count unknown)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			share, detail := sliceShare(tc.sel, 0, tc.total)

			assert.InDelta(t, tc.want, share, 1e-12)
			assert.Equal(t, tc.wantDetail, detail)
		})
	}
}
