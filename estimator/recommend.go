// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package estimator

import (
	"fmt"
	"math"
)

// Recommendation defaults. The power cap is within the 60-80% of TDP range
// that power-capping studies of GPU training commonly test; the work cut is
// a sensitivity figure, not a claim about model quality.
const (
	recommendPowerCap = 0.7
	recommendWorkCut  = 0.8
)

// RecommendOptions holds the looked-up alternatives a recommendation may
// choose from.
type RecommendOptions struct {
	// Catalog is the hardware catalog; the accelerator with the lowest
	// energy per FLOP at its default precision is proposed.
	Catalog []Accelerator
	// Sites are candidate sites, each with the intensity and PUE that a run
	// in it would use; the one with the lowest intensity x PUE is proposed
	// when it beats the baseline.
	Sites []Site
	// PUE is the lowest PUE worth proposing, with its source.
	PUE       float64
	PUESource string
}

// Recommend returns the changes that lower the baseline's emissions, ranked
// by emissions saved: lower precision, more efficient hardware, a cleaner
// region, a lower PUE, a power cap, higher utilisation and less work.
func Recommend(base Scenario, opts RecommendOptions) (Estimate, []Comparison, error) {
	var alts []Scenario
	try := func(label string, plan Plan, err error, site Site) {
		if err != nil {
			return
		}
		if _, err := plan.Estimate(site); err != nil {
			return
		}
		alts = append(alts, Scenario{Label: label, Plan: plan, Site: site})
	}
	p, s := base.Plan, base.Site

	if p.Accelerator.PeakTFLOPS[FP8] > 0 && p.Precision != FP8 {
		q, err := p.With(Change{"precision", string(FP8)})
		try("precision=fp8", q, err, s)
	}
	if best, ok := mostEfficient(opts.Catalog, p.Accelerator.Class); ok &&
		p.Accelerator.Name != "" && best.Name != p.Accelerator.Name {
		q, err := p.WithAccelerator(best)
		try("hardware="+best.Name, q, err, s)
	}
	if site, ok := cleanest(opts.Sites); ok && gramsPerITKWh(site) < gramsPerITKWh(s) {
		try("region="+site.Region, p, nil, site)
	}
	if opts.PUE >= 1 && opts.PUE < s.PUE {
		site := s
		site.PUE, site.PUESource = opts.PUE, opts.PUESource
		try(fmt.Sprintf("pue=%.2f", opts.PUE), p, nil, site)
	}
	if p.PowerCap == 0 || p.PowerCap > recommendPowerCap {
		q, err := p.With(Change{"power-cap", fmt.Sprint(recommendPowerCap)})
		try(fmt.Sprintf("power-cap=%.1f", recommendPowerCap), q, err, s)
	}
	if high := p.Accelerator.MFUDefault().High; p.Accelerator.Name != "" && p.MFU < high {
		q, err := p.With(Change{"mfu", fmt.Sprint(high)})
		try(fmt.Sprintf("mfu=%.2f", high), q, err, s)
	}
	if p.Tokens > 0 {
		v := math.Round(p.Tokens * recommendWorkCut)
		q, err := p.With(Change{"tokens", fmt.Sprint(v)})
		try(fmt.Sprintf("tokens=%.3g (-20%%)", v), q, err, s)
	}
	if n := max(p.ParamsActive, p.ParamsTotal); n > 0 {
		v := math.Round(n * recommendWorkCut)
		q, err := p.With(Change{"params", fmt.Sprint(v)})
		try(fmt.Sprintf("params=%.3g (-20%%)", v), q, err, s)
	}

	baseEst, comps, err := Compare(base, alts)
	if err != nil {
		return Estimate{}, nil, err
	}
	kept := comps[:0]
	for _, c := range comps {
		if c.SavedKg > 0 {
			kept = append(kept, c)
		}
	}
	return baseEst, kept, nil
}

// mostEfficient returns the accelerator of class c with the lowest expected
// energy per FLOP: TDP / (default-precision peak x class MFU). It stays in
// one class because the GPU and TPU utilisation defaults come from different
// runs, and the TPU power column holds measured maxima rather than TDPs.
func mostEfficient(catalog []Accelerator, c Class) (Accelerator, bool) {
	var best Accelerator
	bestJoulesPerFLOP := math.Inf(1)
	for _, a := range catalog {
		peak, _, err := a.PeakFLOPS("")
		if err != nil || a.TDP <= 0 || a.Class != c {
			continue
		}
		j := float64(a.TDP) / (peak * a.MFUDefault().Value)
		if j < bestJoulesPerFLOP {
			best, bestJoulesPerFLOP = a, j
		}
	}
	return best, !math.IsInf(bestJoulesPerFLOP, 1)
}

// cleanest returns the site with the lowest emissions per IT kWh. PUE
// counts as well as intensity, because candidate regions of different cloud
// providers come with different PUEs.
func cleanest(sites []Site) (Site, bool) {
	if len(sites) == 0 {
		return Site{}, false
	}
	best := sites[0]
	for _, s := range sites[1:] {
		if gramsPerITKWh(s) < gramsPerITKWh(best) {
			best = s
		}
	}
	return best, true
}

// gramsPerITKWh returns the emissions of one kWh of IT energy at site s.
func gramsPerITKWh(s Site) float64 { return float64(s.Intensity) * s.PUE }
