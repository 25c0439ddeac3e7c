// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package cpu

import (
	"math"
	"testing"
)

// near reports whether got is within tolerance of want.
func near(got, want, tolerance float64) bool {
	return math.Abs(got-want) <= tolerance
}

// checkNear fails the test unless got is within tolerance of want.
func checkNear(t testing.TB, what string, got, want, tolerance float64) {
	t.Helper()
	if !near(got, want, tolerance) {
		t.Errorf("%s = %v, want %v (±%v)", what, got, want, tolerance)
	}
}

// mustNoError stops the test on err.
func mustNoError(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}
