// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package rapl

import (
	"errors"
	"math"
)

var (
	errCounterSyntax   = errors.New("energy counter is not a decimal number")
	errCounterOverflow = errors.New("energy counter does not fit in 64 bits")
)

// parseMicrojoules parses the text of an energy_uj, max_energy_range_uj or
// hwmon energyN_input attribute: decimal digits, then optional whitespace.
// It works on bytes so that the read path does not allocate.
func parseMicrojoules(text []byte) (uint64, error) {
	var value uint64
	digits := 0
	for _, c := range text {
		if c < '0' || c > '9' {
			break
		}
		if value > (math.MaxUint64-uint64(c-'0'))/10 {
			return 0, errCounterOverflow
		}
		value = value*10 + uint64(c-'0')
		digits++
	}
	if digits == 0 {
		return 0, errCounterSyntax
	}

	for _, c := range text[digits:] {
		if c != '\n' && c != ' ' && c != '\t' && c != '\r' && c != 0 {
			return 0, errCounterSyntax
		}
	}
	return value, nil
}
