// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/carbonrun/carbonrun/estimator"
	"github.com/carbonrun/carbonrun/internal/grid"
	"github.com/carbonrun/carbonrun/internal/hardware"
	"github.com/carbonrun/carbonrun/internal/units"
)

func runSingle(o options, stdout, stderr io.Writer) int {
	plan, err := buildPlan(o)
	if err != nil {
		return report(stderr, err)
	}
	if err := checkFLOPs(o, plan); err != nil {
		return report(stderr, err)
	}
	for _, msg := range unusedInputs(o) {
		fmt.Fprintf(stderr, "carbon-estimate: warning: %s\n", msg)
	}
	site, warnings, err := resolveSite(o.region, o.carbonIntensity, o.pue)
	if err != nil {
		return report(stderr, err)
	}
	base := estimator.Scenario{Label: "baseline", Plan: plan, Site: site}

	var (
		est   estimator.Estimate
		comps []estimator.Comparison
		title string
	)
	switch {
	case o.recommend:
		title = "recommendations"
		est, comps, err = estimator.Recommend(base, recommendOptions(site, o.pue))
	case len(o.compare) > 0:
		title = "comparison"
		var alts []estimator.Scenario
		alts, err = buildAlternatives(o, base)
		if err == nil {
			est, comps, err = estimator.Compare(base, alts)
		}
	default:
		est, err = plan.Estimate(site)
	}
	if errors.Is(err, estimator.ErrNotFinite) {
		err = fmt.Errorf("%w; check the sizes given in %s", err, numericFlags(o))
	}
	if err != nil {
		return report(stderr, usageError{err})
	}
	est.Warnings = append(warnings, est.Warnings...)

	if err := write(stdout, o.format, est, title, comps); err != nil {
		return report(stderr, fmt.Errorf("writing output: %w", err))
	}
	return exitOK
}

func buildPlan(o options) (estimator.Plan, error) {
	p := estimator.Plan{
		Count:             o.count,
		FLOPs:             o.flops,
		ParamsTotal:       o.params,
		ParamsActive:      o.activeParams,
		Tokens:            o.tokens,
		AcceleratorHours:  o.gpuHours,
		WallClockHours:    o.hours,
		MFU:               o.mfu,
		PowerFraction:     o.powerFraction,
		PowerCap:          o.powerCap,
		HardwareLifeYears: o.lifeYears,
	}
	p.PowerWatts = units.Watts(o.powerWatts)
	if o.hfConfig != "" {
		total, active, err := paramsFromConfig(o.hfConfig)
		if err != nil {
			return p, err
		}
		p.ParamsTotal, p.ParamsActive = total, active
	}
	if o.hardware != "" {
		acc, err := lookupAccelerator(o.hardware)
		if err != nil {
			return p, err
		}
		p.Accelerator = acc
	}
	if o.precision != "" {
		prec, err := estimator.ParsePrecision(o.precision)
		if err != nil {
			return p, usageError{fmt.Errorf("invalid --precision: %w", err)}
		}
		p.Precision = prec
	}
	return p, nil
}

func paramsFromConfig(path string) (total, active float64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, usageError{fmt.Errorf("reading --hf-config: %w", err)}
	}
	defer f.Close()
	cfg, err := estimator.ParseHFConfig(f)
	if err != nil {
		return 0, 0, usageError{fmt.Errorf("reading --hf-config %s: %w", path, err)}
	}
	total, active = cfg.Params()
	return total, active, nil
}

// lookupAccelerator resolves a catalog name; an unknown name is a usage
// error whose message lists the closest catalog names.
func lookupAccelerator(name string) (estimator.Accelerator, error) {
	g, err := hardware.LookupGPU(name)
	if err != nil {
		return estimator.Accelerator{}, usageError{fmt.Errorf("invalid --hardware: %w", err)}
	}
	return estimator.FromCatalog(g), nil
}

// resolveSite turns the site flags into the estimator's site. The estimate
// never uses the network, so the intensity comes from the embedded tables.
func resolveSite(region string, intensity, pue float64) (estimator.Site, []string, error) {
	s, err := grid.Resolve(context.Background(), grid.Options{
		Region: region, CarbonIntensity: intensity, PUE: pue, Offline: true,
	})
	if err != nil {
		var unknown *grid.UnknownRegionError
		if errors.As(err, &unknown) {
			return estimator.Site{}, nil, usageError{fmt.Errorf("invalid --region: %w", err)}
		}
		return estimator.Site{}, nil, usageError{err}
	}
	return siteFromGrid(s), s.Warnings, nil
}

func siteFromGrid(s grid.Site) estimator.Site {
	source := "given with --carbon-intensity"
	if s.IntensitySource != grid.IntensityOverride {
		source = fmt.Sprintf("%s (%s, %d)", s.IntensitySource, s.Region.Source, s.Region.Year)
	}
	pueSource := s.PUESource
	if s.PUEReference != "" {
		pueSource += ": " + s.PUEReference
	}
	return estimator.Site{
		Region:          s.Region.Code,
		Intensity:       s.Intensity,
		IntensitySource: source,
		PUE:             s.PUE,
		PUESource:       pueSource,
	}
}

// buildAlternatives applies each --compare change to the baseline.
func buildAlternatives(o options, base estimator.Scenario) ([]estimator.Scenario, error) {
	var alts []estimator.Scenario
	for _, raw := range o.compare {
		c, err := estimator.ParseChange(raw)
		if err != nil {
			return nil, fmt.Errorf("invalid --compare: %w", err)
		}
		alt, err := applyChange(o, base, c)
		if err != nil {
			return nil, fmt.Errorf("invalid --compare %s: %w", c, err)
		}
		alts = append(alts, alt)
	}
	return alts, nil
}

func applyChange(o options, base estimator.Scenario, c estimator.Change) (estimator.Scenario, error) {
	alt := estimator.Scenario{Label: c.String(), Plan: base.Plan, Site: base.Site}
	var err error
	switch c.Key {
	case "hardware":
		var acc estimator.Accelerator
		if acc, err = lookupAccelerator(c.Value); err == nil {
			alt.Plan, err = base.Plan.WithAccelerator(acc)
		}
	case "region":
		// A new region brings its own default PUE, the same one a run with
		// --region would use, unless --pue was given.
		alt.Site, _, err = resolveSite(c.Value, 0, o.pue)
	case "pue", "carbon-intensity":
		var v float64
		if v, err = strconv.ParseFloat(c.Value, 64); err != nil {
			return alt, errors.New("want a number")
		}
		region, intensity, pue := o.region, o.carbonIntensity, o.pue
		if c.Key == "pue" {
			pue = v
		} else {
			intensity = v
		}
		if v <= 0 {
			return alt, errors.New("want a positive number")
		}
		alt.Site, _, err = resolveSite(region, intensity, pue)
	default:
		alt.Plan, err = base.Plan.With(c)
	}
	return alt, err
}

// recommendOptions gathers the alternatives Recommend may propose: cloud
// regions (of the baseline's provider when it is a cloud region) and the
// lowest published provider PUE. Each region is resolved as --region would
// resolve it, with its provider's PUE unless pue (--pue) is set, so that a
// recommended region matches a direct run in that region.
func recommendOptions(base estimator.Site, pue float64) estimator.RecommendOptions {
	opts := estimator.RecommendOptions{}
	for _, g := range hardware.GPUs() {
		opts.Catalog = append(opts.Catalog, estimator.FromCatalog(g))
	}
	provider := ""
	if r, err := grid.Lookup(base.Region); err == nil {
		provider = r.Provider
	}
	for _, r := range grid.Regions() {
		if r.Provider == "" || (provider != "" && r.Provider != provider) {
			continue
		}
		s, _, err := resolveSite(r.Code, 0, pue)
		if err != nil {
			continue
		}
		opts.Sites = append(opts.Sites, s)
	}
	for _, name := range grid.Providers() {
		p, ok := grid.ProviderPUE(name)
		if ok && p.Value >= 1 && (opts.PUE == 0 || p.Value < opts.PUE) {
			opts.PUE = p.Value
			opts.PUESource = fmt.Sprintf("%s fleet PUE: %s (%d)", name, p.Source, p.Year)
		}
	}
	return opts
}
