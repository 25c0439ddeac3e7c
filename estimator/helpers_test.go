// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package estimator

import (
	"math"
	"os"
	"strings"
	"testing"
)

// checkNear reports an error when got is further than tolerance (a fraction
// of want) from want.
func checkNear(t *testing.T, what string, got, want, tolerance float64) {
	t.Helper()
	if math.Abs(got-want) > tolerance*math.Abs(want) {
		t.Errorf("%s = %.6g, want %.6g (within %.3g%%)", what, got, want, tolerance*100)
	}
}

// checkErrContains reports an error unless err is non-nil and contains want.
func checkErrContains(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("error = nil, want one containing %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error = %q, want it to contain %q", err, want)
	}
}

// checkWallClock reports an error unless e has wall-clock hours near want.
func checkWallClock(t *testing.T, e Estimate, want float64) {
	t.Helper()
	if e.WallClockHours == nil {
		t.Fatalf("wall clock hours = nil, want %v", want)
	}
	checkNear(t, "wall clock hours", *e.WallClockHours, want, 1e-4)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
