// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package grid

import (
	"context"
	"fmt"
	"math"
	"net/http"

	"github.com/carbonrun/carbonrun/internal/units"
)

// Values of Site.IntensitySource.
const (
	// IntensityTable means the intensity is the embedded table row of the
	// region.
	IntensityTable = "table"
	// IntensityAPI means the intensity is the latest value returned by the
	// intensity API.
	IntensityAPI = "api"
	// IntensityOverride means the user set the intensity with
	// --carbon-intensity.
	IntensityOverride = "override"
	// IntensityFallback means the preferred figure was not available. Either
	// no region was given, so the world average is used, or the intensity
	// API failed, so the region's table value is used.
	IntensityFallback = "fallback"
)

// Values of Site.PUESource.
const (
	// PUEOverride means the user set the PUE with --pue.
	PUEOverride = "override"
	// PUEProvider means the PUE is the published fleet average of the cloud
	// provider of the region.
	PUEProvider = "provider"
	// PUEDefault means no PUE was known and 1.0 was used, so facility
	// overhead is not counted.
	PUEDefault = "default"
)

// industryAveragePUE is the PUE table row quoted when no PUE is known.
const industryAveragePUE = "industry_average_uptime"

// UnknownCode is the Site.Region code when the intensity was set with
// --carbon-intensity and no region was given.
const UnknownCode = "unknown"

// Options selects the region, overrides and intensity API for Resolve.
type Options struct {
	// Region is a code accepted by Lookup, or empty when not given.
	Region string
	// CarbonIntensity in g CO2e/kWh overrides every other intensity
	// source. Zero means unset.
	CarbonIntensity float64
	// PUE overrides the facility PUE and must be at least 1. Zero means unset.
	PUE float64
	// APIURL is the base URL of an Electricity Maps v3 compatible API, such
	// as https://api.electricitymap.org. The API is used only when APIURL
	// and APIKey are both set and Offline is false.
	APIURL string
	// APIKey is sent in the auth-token header.
	APIKey string
	// Offline forbids every network request.
	Offline bool
	// HTTPClient sends the API request. Nil means a client with the
	// APITimeout limit.
	HTTPClient *http.Client
}

// Site is the resolved grid and facility for one run.
type Site struct {
	// Region is the table row of the region (World() when no region was
	// given, or a row with Code UnknownCode when only --carbon-intensity
	// was given).
	Region Region
	// Intensity is the intensity used for emissions.
	Intensity units.GramsPerKWh
	// IntensitySource is one of "table", "api", "override" or "fallback".
	IntensitySource string
	// PUE is the facility power usage effectiveness, at least 1.
	PUE float64
	// PUESource is one of "override", "provider" or "default".
	PUESource string
	// PUEReference gives the source and year of a provider PUE, empty for
	// the other PUE sources.
	PUEReference string
	// PUEYear is the year a provider PUE describes, 0 otherwise.
	PUEYear int
	// Warnings contains one message per degraded choice (world average,
	// failed API call, PUE not counted), for logs and the report.
	Warnings []string
}

// Resolve picks the carbon intensity and PUE for a run. The intensity is
// the --carbon-intensity override if set. Otherwise it is the live API
// value when the API is configured and answers, else the region's table
// row. Without a region it is the world average, with a warning. The PUE
// is the --pue override if set, else the published PUE of the region's
// cloud provider, else 1.0 with a warning.
//
// Resolve returns an error only for invalid input: an unknown region, a
// negative or non-finite intensity, or a PUE below 1. API failures become
// warnings. Resolve makes no network request when Offline is set or no
// region is given, because it never guesses the location.
func Resolve(ctx context.Context, opts Options) (Site, error) {
	if err := validate(opts); err != nil {
		return Site{}, err
	}
	var site Site
	if opts.Region != "" {
		r, err := Lookup(opts.Region)
		if err != nil {
			return Site{}, err
		}
		site.Region = r
	}

	switch {
	case opts.CarbonIntensity > 0:
		site.Intensity = units.GramsPerKWh(opts.CarbonIntensity)
		site.IntensitySource = IntensityOverride
		if site.Region.Code == "" {
			site.Region = Region{Code: UnknownCode, Name: UnknownCode}
		}
	case site.Region.Code == "":
		site.Region = World()
		site.Intensity = site.Region.Intensity
		site.IntensitySource = IntensityFallback
		site.warn(fmt.Sprintf("no region given, using the world-average carbon intensity "+
			"%g g/kWh (%s, %d). Set --region to an ISO 3166 code such as FR or US-CA or a "+
			"cloud region such as aws:us-east-1, or set --carbon-intensity",
			float64(site.Region.Intensity), site.Region.Source, site.Region.Year))
	default:
		site.Intensity = site.Region.Intensity
		site.IntensitySource = IntensityTable
		if opts.APIURL != "" && opts.APIKey != "" && !opts.Offline {
			site.applyLive(ctx, opts)
		}
	}

	site.resolvePUE(opts.PUE)
	return site, nil
}

func validate(opts Options) error {
	ci := opts.CarbonIntensity
	if ci < 0 || math.IsNaN(ci) || math.IsInf(ci, 0) {
		return fmt.Errorf("invalid --carbon-intensity %g: must be a positive number of g CO2e/kWh", ci)
	}
	p := opts.PUE
	if p != 0 && (p < 1 || math.IsNaN(p) || math.IsInf(p, 0)) {
		return fmt.Errorf("invalid --pue %g: must be at least 1.0 (facility energy divided by IT energy)", p)
	}
	return nil
}

// applyLive replaces the table intensity with the API value, or keeps the
// table value, labels it "fallback" and warns when the call fails.
func (s *Site) applyLive(ctx context.Context, opts Options) {
	zone := s.Region.Code
	if s.Region.Provider != "" {
		// NOTE: cloud regions are queried by country, because their
		// location within a country is not in the table.
		zone = s.Region.Country
	}
	// NOTE: Electricity Maps names most sub-national zones by grid operator
	// (US-CAL-CISO, not US-CA), so a subdivision code can fail there and
	// fall back to the table value with a warning.
	g, err := fetchLatest(ctx, opts, zone)
	if err != nil {
		s.IntensitySource = IntensityFallback
		s.warn(fmt.Sprintf("live carbon intensity for zone %s unavailable (%v), using the "+
			"table value %g g/kWh (%s, %d)", zone, err,
			float64(s.Region.Intensity), s.Region.Source, s.Region.Year))
		return
	}
	s.Intensity = g
	s.IntensitySource = IntensityAPI
}

func (s *Site) resolvePUE(override float64) {
	if override > 0 {
		s.PUE = override
		s.PUESource = PUEOverride
		return
	}
	if s.Region.Provider != "" {
		if p, ok := ProviderPUE(s.Region.Provider); ok {
			s.PUE = p.Value
			s.PUESource = PUEProvider
			s.PUEReference = fmt.Sprintf("%s (%d)", p.Source, p.Year)
			s.PUEYear = p.Year
			return
		}
	}
	s.PUE = 1
	s.PUESource = PUEDefault
	msg := "PUE unknown, using 1.0 so facility overhead (cooling, power delivery) " +
		"is not counted. Set --pue to the data centre's PUE"
	if avg, ok := ProviderPUE(industryAveragePUE); ok {
		msg += fmt.Sprintf(" (industry average %g in %d)", avg.Value, avg.Year)
	}
	s.warn(msg)
}

func (s *Site) warn(msg string) { s.Warnings = append(s.Warnings, msg) }
