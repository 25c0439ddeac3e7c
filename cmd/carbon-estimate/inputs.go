// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/carbonrun/carbonrun/estimator"
)

// flopsTolerance is how far --flops may differ from 6 x params x tokens
// before the two are taken as conflicting. The 10% is a judgement: it
// leaves room for the attention and embedding FLOPs that 6ND leaves out,
// and still catches a wrong exponent or unit.
const flopsTolerance = 0.10

// checkFLOPs rejects a --flops that contradicts the FLOPs implied by the
// parameter and token counts, because one of them is then wrong and the
// estimate would silently use --flops.
func checkFLOPs(o options, p estimator.Plan) error {
	params, paramsFlag := p.ParamsActive, "--active-params"
	if params == 0 {
		params, paramsFlag = p.ParamsTotal, "--params"
	}
	if o.hfConfig != "" {
		paramsFlag = "--hf-config"
	}
	if p.FLOPs == 0 || params == 0 || p.Tokens == 0 {
		return nil
	}
	implied := estimator.FLOPsPerParamToken * params * p.Tokens
	if math.Abs(p.FLOPs/implied-1) <= flopsTolerance {
		return nil
	}
	return usageError{fmt.Errorf("--flops %.4g differs from 6 x %s x --tokens = %.4g by more "+
		"than %.0f%%: give --flops alone, or %s and --tokens alone", p.FLOPs, paramsFlag,
		implied, flopsTolerance*100, paramsFlag)}
}

// unusedInputs returns a warning for each group of flags that the estimate
// ignores because another flag gives the same figure more directly.
func unusedInputs(o options) []string {
	var warnings []string
	hoursFlag := "--gpu-hours"
	if o.hours > 0 {
		hoursFlag = "--hours"
	}
	// With --compare or --recommend the work and throughput flags still
	// scale the given hours for each change, so they are used.
	if (o.gpuHours > 0 || o.hours > 0) && len(o.compare) == 0 && !o.recommend {
		unused := changedFlags(o, "flops", "params", "active-params", "hf-config", "tokens",
			"precision", "mfu")
		if len(unused) > 0 {
			warnings = append(warnings, fmt.Sprintf("%s not used: %s gives the hours directly, "+
				"so the estimate needs no FLOPs or throughput; drop %s to estimate from them",
				strings.Join(unused, ", "), hoursFlag, hoursFlag))
		}
	}
	if o.powerWatts > 0 && o.changed("power-fraction") {
		warnings = append(warnings, "--power-fraction not used: --power-watts gives the mean "+
			"power per device directly")
	}
	return warnings
}

// changedFlags returns the named flags that were set, with their dashes.
func changedFlags(o options, names ...string) []string {
	var set []string
	for _, name := range names {
		if o.changed(name) {
			set = append(set, "--"+name)
		}
	}
	return set
}

// numericFlags lists the numeric flags that were set, for a message about
// an estimate that overflowed.
func numericFlags(o options) string {
	set := changedFlags(o, "params", "active-params", "tokens", "flops", "count", "mfu",
		"power-fraction", "gpu-hours", "hours", "power-watts", "carbon-intensity", "pue",
		"hardware-life")
	if len(set) == 0 {
		return "the inputs"
	}
	return strings.Join(set, ", ")
}
