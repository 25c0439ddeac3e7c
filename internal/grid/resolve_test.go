// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package grid

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// stubAPI serves /v3/carbon-intensity/latest with handler and counts the
// requests it receives.
type stubAPI struct {
	*httptest.Server
	requests atomic.Int64
}

func newStubAPI(t *testing.T, handler http.HandlerFunc) *stubAPI {
	t.Helper()
	s := &stubAPI{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		handler(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func intensityHandler(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v3/carbon-intensity/latest" || r.Header.Get("auth-token") != "secret" {
			http.Error(w, `{"message":"bad request"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}
}

func TestResolveRegionsDistinct_CR28(t *testing.T) {
	// NL and US-CA have distinct table rows; each run must carry its own.
	tests := []struct {
		region    string
		intensity float64
		source    string
		year      int
	}{
		{"NL", 267.62, "owid-ember-via-codecarbon", 2023},
		{"US-CA", 216.43, "green-algorithms-v3.0", 2020},
	}
	for _, tc := range tests {
		t.Run(tc.region, func(t *testing.T) {
			site, err := Resolve(context.Background(), Options{Region: tc.region})
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if float64(site.Intensity) != tc.intensity {
				t.Errorf("intensity = %g, want %g", site.Intensity, tc.intensity)
			}
			if site.IntensitySource != IntensityTable {
				t.Errorf("intensity source = %q, want %q", site.IntensitySource, IntensityTable)
			}
			if site.Region.Code != tc.region || site.Region.Source != tc.source || site.Region.Year != tc.year {
				t.Errorf("region = %+v, want code %s, source %s, year %d", site.Region, tc.region, tc.source, tc.year)
			}
		})
	}
}

func TestResolveAPIUnauthorized_CR28(t *testing.T) {
	api := newStubAPI(t, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"message":"invalid token"}`, http.StatusUnauthorized)
	})
	site, err := Resolve(context.Background(), Options{Region: "NL", APIURL: api.URL, APIKey: "secret", PUE: 1.1})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if got := api.requests.Load(); got != 1 {
		t.Errorf("API requests = %d, want 1", got)
	}
	if site.IntensitySource != IntensityFallback {
		t.Errorf("intensity source = %q, want %q", site.IntensitySource, IntensityFallback)
	}
	if site.Intensity != 267.62 {
		t.Errorf("intensity = %g, want the NL table value 267.62", site.Intensity)
	}
	if len(site.Warnings) != 1 || !strings.Contains(site.Warnings[0], "401") {
		t.Errorf("warnings = %q, want one naming HTTP 401", site.Warnings)
	}
	if strings.Contains(strings.Join(site.Warnings, " "), "secret") {
		t.Errorf("warnings = %q, must not contain the API key", site.Warnings)
	}
}

func TestResolveAPILive_CR28(t *testing.T) {
	var zone atomic.Value
	api := newStubAPI(t, func(w http.ResponseWriter, r *http.Request) {
		zone.Store(r.URL.Query().Get("zone"))
		intensityHandler(`{"zone":"NL","carbonIntensity":302,"datetime":"2026-12-04T15:00:00.000Z"}`)(w, r)
	})
	site, err := Resolve(context.Background(), Options{Region: "nl", APIURL: api.URL + "/", APIKey: "secret"})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if site.IntensitySource != IntensityAPI || site.Intensity != 302 {
		t.Errorf("intensity = %g from %q, want 302 from %q", site.Intensity, site.IntensitySource, IntensityAPI)
	}
	if got := zone.Load(); got != "NL" {
		t.Errorf("zone queried = %v, want NL", got)
	}
	if site.Region.Intensity != 267.62 {
		t.Errorf("region table intensity = %g, want 267.62 kept", site.Region.Intensity)
	}
}

func TestResolveAPICloudRegionUsesCountry(t *testing.T) {
	var zone atomic.Value
	api := newStubAPI(t, func(w http.ResponseWriter, r *http.Request) {
		zone.Store(r.URL.Query().Get("zone"))
		intensityHandler(`{"carbonIntensity":250}`)(w, r)
	})
	site, err := Resolve(context.Background(), Options{Region: "gcp:europe-west4", APIURL: api.URL, APIKey: "secret"})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if got := zone.Load(); got != "NL" {
		t.Errorf("zone queried = %v, want NL", got)
	}
	if site.IntensitySource != IntensityAPI || site.Intensity != 250 {
		t.Errorf("intensity = %g from %q, want 250 from api", site.Intensity, site.IntensitySource)
	}
}

func TestResolveAPIFailures(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		warning string
	}{
		{"server error", http.StatusInternalServerError, `{}`, "500"},
		{"invalid JSON", http.StatusOK, `{"carbonIntensity":`, "decoding"},
		{"missing field", http.StatusOK, `{"zone":"FR"}`, "no carbonIntensity"},
		{"zero value", http.StatusOK, `{"carbonIntensity":0}`, "not positive"},
		{"negative value", http.StatusOK, `{"carbonIntensity":-5}`, "not positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newStubAPI(t, func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			site, err := Resolve(context.Background(), Options{Region: "FR", APIURL: api.URL, APIKey: "k", PUE: 1.1})
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if site.IntensitySource != IntensityFallback || site.Intensity != 56.04 {
				t.Errorf("intensity = %g from %q, want table 56.04 from %q",
					site.Intensity, site.IntensitySource, IntensityFallback)
			}
			if len(site.Warnings) != 1 || !strings.Contains(site.Warnings[0], tc.warning) {
				t.Errorf("warnings = %q, want one containing %q", site.Warnings, tc.warning)
			}
		})
	}
}

func TestResolveNoRegion_CR11(t *testing.T) {
	// Without a region no country is guessed, and the API is not asked
	// because there is no zone to ask for.
	api := newStubAPI(t, intensityHandler(`{"carbonIntensity":1}`))
	site, err := Resolve(context.Background(), Options{APIURL: api.URL, APIKey: "secret"})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if site.Region.Code != WorldCode {
		t.Errorf("region = %q, want %q", site.Region.Code, WorldCode)
	}
	if site.Intensity != 480 || site.IntensitySource != IntensityFallback {
		t.Errorf("intensity = %g from %q, want 480 from %q", site.Intensity, site.IntensitySource, IntensityFallback)
	}
	if got := api.requests.Load(); got != 0 {
		t.Errorf("API requests = %d, want 0", got)
	}
	var regionWarning string
	for _, w := range site.Warnings {
		if strings.Contains(w, "no region") {
			regionWarning = w
		}
	}
	for _, part := range []string{"world-average", "480", "ember-ger-2024", "2023", "--region"} {
		if !strings.Contains(regionWarning, part) {
			t.Errorf("warning %q, want it to contain %q", regionWarning, part)
		}
	}
}

func TestResolveSlowAPI_CR11(t *testing.T) {
	release := make(chan struct{})
	api := newStubAPI(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
			intensityHandler(`{"carbonIntensity":1}`)(w, r)
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)

	// The caller's deadline is shorter than APITimeout, so the test does
	// not wait the full budget; the result must be the labelled table value.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	site, err := Resolve(ctx, Options{Region: "FR", APIURL: api.URL, APIKey: "secret", PUE: 1.1})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if site.IntensitySource != IntensityFallback || site.Intensity != 56.04 {
		t.Errorf("intensity = %g from %q, want table 56.04 from %q", site.Intensity, site.IntensitySource, IntensityFallback)
	}
	if len(site.Warnings) != 1 || !strings.Contains(site.Warnings[0], "timed out") {
		t.Errorf("warnings = %q, want one saying the request timed out", site.Warnings)
	}
}

func TestResolveAPIDeadline_CR11(t *testing.T) {
	// Without a caller deadline the request still carries one no later
	// than APITimeout from now.
	deadline := make(chan time.Time, 1)
	api := newStubAPI(t, func(w http.ResponseWriter, r *http.Request) {
		intensityHandler(`{"carbonIntensity":100}`)(w, r)
	})
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		d, _ := r.Context().Deadline()
		deadline <- d
		return http.DefaultTransport.RoundTrip(r)
	})}
	start := time.Now()
	if _, err := Resolve(context.Background(), Options{
		Region: "FR", APIURL: api.URL, APIKey: "secret", HTTPClient: client,
	}); err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	end := time.Now()
	got := <-deadline
	if got.Before(start.Add(APITimeout)) || got.After(end.Add(APITimeout)) {
		t.Errorf("request deadline = %v, want %v after a time in [%v, %v]", got, APITimeout, start, end)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestResolveOfflineMakesNoRequests_CR11(t *testing.T) {
	api := newStubAPI(t, intensityHandler(`{"carbonIntensity":1}`))
	for _, region := range []string{"", "FR", "aws:us-east-1"} {
		site, err := Resolve(context.Background(), Options{
			Region: region, APIURL: api.URL, APIKey: "secret", Offline: true,
		})
		if err != nil {
			t.Fatalf("Resolve(%q): %v", region, err)
		}
		if site.IntensitySource == IntensityAPI {
			t.Errorf("Resolve(%q) intensity source = api, want no API use offline", region)
		}
	}
	if got := api.requests.Load(); got != 0 {
		t.Errorf("API requests = %d, want 0", got)
	}
}

func TestResolveOverride(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want Site
	}{
		{
			name: "override with region keeps region",
			opts: Options{Region: "FR", CarbonIntensity: 100},
			want: Site{Region: mustLookup(t, "FR"), Intensity: 100, IntensitySource: IntensityOverride,
				PUE: 1, PUESource: PUEDefault},
		},
		{
			name: "override without region",
			opts: Options{CarbonIntensity: 100, PUE: 1.3},
			want: Site{Region: Region{Code: UnknownCode, Name: UnknownCode}, Intensity: 100,
				IntensitySource: IntensityOverride, PUE: 1.3, PUESource: PUEOverride},
		},
		{
			name: "cloud region gets provider PUE",
			opts: Options{Region: "aws:us-east-1"},
			want: Site{Region: mustLookup(t, "aws:us-east-1"), Intensity: 308, IntensitySource: IntensityTable,
				PUE: 1.14, PUESource: PUEProvider, PUEYear: 2025},
		},
		{
			name: "explicit PUE beats provider",
			opts: Options{Region: "gcp:europe-west4", PUE: 1.0},
			want: Site{Region: mustLookup(t, "gcp:europe-west4"), Intensity: 208.81, IntensitySource: IntensityTable,
				PUE: 1.0, PUESource: PUEOverride},
		},
		{
			name: "azure provider PUE",
			opts: Options{Region: "azure:westeurope"},
			want: Site{Region: mustLookup(t, "azure:westeurope"), Intensity: 267.62, IntensitySource: IntensityTable,
				PUE: 1.18, PUESource: PUEProvider, PUEYear: 2023},
		},
	}
	ignore := cmpopts.IgnoreFields(Site{}, "Warnings", "PUEReference")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve(context.Background(), tc.opts)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, ignore); diff != "" {
				t.Errorf("Resolve mismatch (-want +got):\n%s", diff)
			}
			if got.PUESource == PUEProvider && !strings.Contains(got.PUEReference, fmt.Sprint(got.PUEYear)) {
				t.Errorf("PUE reference = %q, want source and year", got.PUEReference)
			}
		})
	}
}

func TestResolvePUEDefaultWarns(t *testing.T) {
	site, err := Resolve(context.Background(), Options{Region: "FR"})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if site.PUE != 1 || site.PUESource != PUEDefault {
		t.Errorf("PUE = %g from %q, want 1 from %q", site.PUE, site.PUESource, PUEDefault)
	}
	if len(site.Warnings) != 1 {
		t.Fatalf("warnings = %q, want exactly one", site.Warnings)
	}
	for _, part := range []string{"facility overhead", "cooling", "--pue"} {
		if !strings.Contains(site.Warnings[0], part) {
			t.Errorf("warning %q, want it to contain %q", site.Warnings[0], part)
		}
	}
}

func TestResolveInvalidInput(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"unknown region", Options{Region: "XX"}, `unknown region "XX"`},
		{"unknown cloud region", Options{Region: "aws:us-east-9"}, "aws:us-east-1"},
		{"negative intensity", Options{Region: "FR", CarbonIntensity: -1}, "--carbon-intensity"},
		{"PUE below one", Options{Region: "FR", PUE: 0.9}, "--pue"},
		{"negative PUE", Options{Region: "FR", PUE: -1.2}, "--pue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Resolve(context.Background(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Resolve error = %v, want one containing %q", err, tc.want)
			}
		})
	}

	_, err := Resolve(context.Background(), Options{Region: "XX"})
	var unknown *UnknownRegionError
	if !errors.As(err, &unknown) {
		t.Errorf("Resolve unknown region error = %T, want *UnknownRegionError", err)
	}
}

func mustLookup(t *testing.T, code string) Region {
	t.Helper()
	r, err := Lookup(code)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", code, err)
	}
	return r
}
