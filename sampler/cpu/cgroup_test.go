// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package cpu

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCgroupCPUTime(t *testing.T) {
	tests := []struct {
		name    string
		cpuStat string // empty means no file
		want    time.Duration
		wantErr bool
	}{
		{
			name:    "cgroup v2 cpu.stat",
			cpuStat: "usage_usec 12345678\nuser_usec 10000000\nsystem_usec 2345678\nnr_periods 0\n",
			want:    12345678 * time.Microsecond,
		},
		{name: "no file", wantErr: true},
		{name: "no usage line", cpuStat: "user_usec 1\n", wantErr: true},
		{name: "garbage value", cpuStat: "usage_usec twelve\n", wantErr: true},
		{name: "out of range", cpuStat: "usage_usec 9223372036854775807\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.cpuStat != "" {
				if err := os.WriteFile(filepath.Join(dir, "cpu.stat"), []byte(tc.cpuStat), 0o644); err != nil {
					t.Fatal(err)
				}
			}

			got, err := CgroupCPUTime(dir)
			if tc.wantErr {
				if err == nil {
					t.Errorf("CgroupCPUTime = %v, want an error", got)
				}
				return
			}
			mustNoError(t, "CgroupCPUTime", err)
			if got != tc.want {
				t.Errorf("CgroupCPUTime = %v, want %v", got, tc.want)
			}
		})
	}
}
