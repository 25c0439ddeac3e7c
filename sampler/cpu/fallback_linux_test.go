// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux

package cpu

import (
	"strings"
	"testing"
	"time"

	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/sampler"
)

// TestTDPFallbackWithoutModelName_CR19 runs the estimate on an arm64 machine
// whose /proc/cpuinfo has no model name, so the catalog cannot match it, and
// whose /proc/stat shows 4 CPUs 50 % busy for 100 s.
func TestTDPFallbackWithoutModelName_CR19(t *testing.T) {
	tests := []struct {
		name       string
		tdp        units.Watts
		method     sampler.Method
		detail     string
		wantJoules float64
		wantDetail []string
	}{
		{
			// --cpu-tdp 65: 65 W x 0.5 x 100 s.
			name: "cpu-tdp flag", tdp: 65, method: sampler.MethodTDPEstimate,
			detail: "from --cpu-tdp", wantJoules: 3250,
			wantDetail: []string{"65 W", "from --cpu-tdp"},
		},
		{
			// Default per core: 10.4 W x 8 cores = 83.2 W, x 0.5 x 100 s.
			name: "default per core", tdp: 83.2, method: sampler.MethodTDPDefault,
			detail: "default 10.4 W/core x 8 cores", wantJoules: 4160,
			wantDetail: []string{"83.2 W", "10.4 W/core x 8 cores"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFakeProcfs(t, true)
			fs.write("cpuinfo", aarch64CPUInfo)
			fs.setMachine(1_000_000, 3_000_000)

			model, _, err := ModelName(fs.root)
			mustNoError(t, "ModelName", err)
			if model != "" {
				t.Fatalf("ModelName = %q, want empty on aarch64", model)
			}

			src, err := NewTDPSource(TDPOptions{
				ProcfsRoot: fs.root, TDP: tc.tdp, Method: tc.method, Detail: tc.detail,
			})
			mustNoError(t, "NewTDPSource", err)
			dst := make([]sampler.Reading, 1)
			mustNoError(t, "first read", src.Read(epoch, dst))

			// 100 s on 4 CPUs is 40000 ticks, 20000 of them busy.
			fs.setMachine(1_000_000+20_000, 3_000_000+20_000)
			mustNoError(t, "read after 100 s", src.Read(epoch.Add(100*time.Second), dst))

			checkNear(t, "cpu energy (J)", float64(dst[0].Energy), tc.wantJoules, 0.02*tc.wantJoules)
			checkNear(t, "cpu power (W)", float64(dst[0].Power), float64(tc.tdp)/2, 1e-9)
			component := src.Components()[0]
			if component.Method != tc.method {
				t.Errorf("method = %q, want %q", component.Method, tc.method)
			}
			for _, want := range tc.wantDetail {
				if !strings.Contains(component.Detail, want) {
					t.Errorf("detail = %q, want it to contain %q", component.Detail, want)
				}
			}
		})
	}
}
