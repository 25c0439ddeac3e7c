// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package estimator

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ChangeKeys lists the keys a what-if change may set. The site keys
// (region, pue, carbon-intensity) and hardware need lookups, so callers
// apply those themselves; Plan.With applies the others.
var ChangeKeys = []string{
	"precision", "hardware", "count", "mfu", "power-fraction", "power-cap",
	"tokens", "params", "region", "pue", "carbon-intensity",
}

// Change is one what-if edit of a plan or site, such as precision=fp8.
type Change struct {
	Key   string
	Value string
}

// String returns the change as key=value.
func (c Change) String() string { return c.Key + "=" + c.Value }

// ParseChange parses "key=value" with a key from ChangeKeys.
func ParseChange(s string) (Change, error) {
	key, value, ok := strings.Cut(s, "=")
	key, value = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(value)
	if !ok || value == "" {
		return Change{}, fmt.Errorf("invalid change %q: want key=value, with key one of %s",
			s, strings.Join(ChangeKeys, ", "))
	}
	for _, k := range ChangeKeys {
		if k == key {
			return Change{Key: key, Value: value}, nil
		}
	}
	return Change{}, fmt.Errorf("invalid change %q: unknown key %q, want one of %s",
		s, key, strings.Join(ChangeKeys, ", "))
}

// With returns p with change c applied, for every key except hardware and
// the site keys. Changes that alter throughput or work turn given hours into
// FLOPs first, so the hours scale with the change.
func (p Plan) With(c Change) (Plan, error) {
	if c.Key == "precision" {
		prec, err := ParsePrecision(c.Value)
		if err != nil {
			return Plan{}, err
		}
		q, err := p.anchored()
		if err != nil {
			return Plan{}, err
		}
		q.Precision = prec
		return q, nil
	}
	v, err := strconv.ParseFloat(c.Value, 64)
	if err != nil || v <= 0 {
		return Plan{}, fmt.Errorf("invalid change %s: want a positive number", c)
	}
	switch c.Key {
	case "count":
		return p.withCount(v, c)
	case "mfu":
		return p.withMFU(v)
	case "power-fraction":
		p.PowerFraction = v
		return p, nil
	case "power-cap":
		p.PowerCap = v
		return p, nil
	case "tokens":
		return p.withTokens(v)
	case "params":
		return p.withParams(v)
	}
	return Plan{}, fmt.Errorf("change %s needs a lookup: apply it to the site or accelerator", c)
}

func (p Plan) withCount(v float64, c Change) (Plan, error) {
	if v != float64(int(v)) {
		return Plan{}, fmt.Errorf("invalid change %s: want a whole number", c)
	}
	if p.WallClockHours > 0 {
		// The work stays the same, so fix the accelerator-hours first.
		p.AcceleratorHours = p.WallClockHours * float64(max(p.Count, 1))
		p.WallClockHours = 0
	}
	p.Count = int(v)
	return p, nil
}

func (p Plan) withMFU(v float64) (Plan, error) {
	q, err := p.anchored()
	if err != nil {
		return Plan{}, err
	}
	q.MFU = v
	return q, nil
}

func (p Plan) withTokens(v float64) (Plan, error) {
	if p.Tokens == 0 {
		return Plan{}, errors.New("change tokens needs the plan's token count")
	}
	q, err := p.anchored()
	if err != nil {
		return Plan{}, err
	}
	if q.FLOPs > 0 {
		q.FLOPs *= v / q.Tokens
	}
	q.Tokens = v
	return q, nil
}

func (p Plan) withParams(v float64) (Plan, error) {
	old := p.ParamsActive
	if old == 0 {
		old = p.ParamsTotal
	}
	if old == 0 {
		return Plan{}, errors.New("change params needs the plan's parameter count")
	}
	q, err := p.anchored()
	if err != nil {
		return Plan{}, err
	}
	ratio := v / old
	if q.FLOPs > 0 {
		q.FLOPs *= ratio
	}
	q.ParamsActive *= ratio
	q.ParamsTotal *= ratio
	return q, nil
}

// WithAccelerator returns p on accelerator a, keeping the precision when a
// has a peak for it and falling back to a's default precision otherwise.
func (p Plan) WithAccelerator(a Accelerator) (Plan, error) {
	q, err := p.anchored()
	if err != nil {
		return Plan{}, err
	}
	q.Accelerator = a
	if q.Precision != "" && a.PeakTFLOPS[q.Precision] <= 0 {
		q.Precision = ""
	}
	return q, nil
}

// anchored turns given hours into FLOPs at the plan's throughput, so a
// change of hardware, precision, utilisation or work rescales the hours.
// When the plan also has FLOPs, the utilisation implied by FLOPs and hours
// is kept instead of the default.
func (p Plan) anchored() (Plan, error) {
	if p.AcceleratorHours == 0 && p.WallClockHours == 0 {
		return p, nil
	}
	if p.Accelerator.Name == "" {
		return Plan{}, errors.New("this change needs an accelerator to turn hours into FLOPs")
	}
	peak, _, err := p.Accelerator.PeakFLOPS(p.Precision)
	if err != nil {
		return Plan{}, err
	}
	hours := p.AcceleratorHours
	if hours == 0 {
		p.Count = max(p.Count, 1)
		hours = p.WallClockHours * float64(p.Count)
	}
	capacity := hours * secondsPerHour * peak
	if flops, _ := p.flops(); flops > 0 {
		p.MFU = min(flops/capacity, 1)
	} else {
		mfu := p.MFU
		if mfu == 0 {
			mfu = p.Accelerator.MFUDefault().Value
		}
		p.FLOPs = capacity * mfu
	}
	p.AcceleratorHours, p.WallClockHours = 0, 0
	return p, nil
}

// Scenario is a plan at a site, with a label for tables.
type Scenario struct {
	Label string
	Plan  Plan
	Site  Site
}

// Comparison is one scenario measured against the baseline. Positive
// savings mean fewer emissions; positive deltas mean more hours.
type Comparison struct {
	Label        string   `json:"change"`
	Estimate     Estimate `json:"estimate"`
	SavedKg      float64  `json:"saved_kg"`
	SavedPercent float64  `json:"saved_percent"`
	// WallClockDeltaHours is nil when either wall-clock time is unknown.
	WallClockDeltaHours   *float64 `json:"wall_clock_delta_hours"`
	AcceleratorHoursDelta float64  `json:"accelerator_hours_delta"`
}

// Compare estimates the baseline and each alternative and returns the
// alternatives ranked by emissions saved, largest first.
func Compare(base Scenario, alts []Scenario) (Estimate, []Comparison, error) {
	baseEst, err := base.Plan.Estimate(base.Site)
	if err != nil {
		return Estimate{}, nil, fmt.Errorf("baseline: %w", err)
	}
	out := make([]Comparison, 0, len(alts))
	for _, alt := range alts {
		est, err := alt.Plan.Estimate(alt.Site)
		if err != nil {
			return Estimate{}, nil, fmt.Errorf("change %s: %w", alt.Label, err)
		}
		c := Comparison{
			Label:                 alt.Label,
			Estimate:              est,
			SavedKg:               baseEst.EmissionsKg - est.EmissionsKg,
			AcceleratorHoursDelta: est.AcceleratorHours - baseEst.AcceleratorHours,
		}
		if est.WallClockHours != nil && baseEst.WallClockHours != nil {
			delta := *est.WallClockHours - *baseEst.WallClockHours
			c.WallClockDeltaHours = &delta
		}
		if baseEst.EmissionsKg > 0 {
			c.SavedPercent = 100 * c.SavedKg / baseEst.EmissionsKg
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].SavedKg > out[j].SavedKg })
	return baseEst, out, nil
}
