// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build gpu && linux && cgo

package nvml

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carbonrun/carbonrun/sampler"
)

// TestRealGPU reads the machine's GPUs through libnvidia-ml for two seconds.
// Run it with go test -tags gpu on a machine with an NVIDIA GPU.
func TestRealGPU(t *testing.T) {
	src, err := Open(Options{Env: envOf(nil)})
	if errors.Is(err, sampler.ErrUnavailable) {
		t.Skipf("no NVML: %v", err)
	}
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, src.Close()) })
	require.NotEmpty(t, src.Components())

	readings := make([]sampler.Reading, len(src.Components()))
	for range 3 {
		require.NoError(t, src.Read(time.Now(), readings))
		time.Sleep(time.Second)
	}

	for i, c := range src.Components() {
		t.Logf("GPU %d %s %s: %.3f J, %.1f W (%s)", c.Index, c.UUID, c.Name,
			float64(readings[i].Energy), float64(readings[i].Power), c.Method)
		assert.Positive(t, float64(readings[i].Power), "GPU %d power", c.Index)
		assert.Positive(t, float64(readings[i].Energy), "GPU %d energy", c.Index)
	}
	_, _, err = src.ProcessShares(src.Devices()[0].Index)
	assert.NoError(t, err)
}
