// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package grid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/carbonrun/carbonrun/internal/units"
)

// APITimeout bounds the intensity API request, so that a slow or
// unreachable API delays the start of a run by at most this long.
const APITimeout = 2 * time.Second

// maxResponseBytes bounds how much of an API response is read. The
// expected body is well under 1 KiB.
const maxResponseBytes = 1 << 20

// latestResponse is the part of the Electricity Maps v3
// /carbon-intensity/latest response that carbonrun reads.
type latestResponse struct {
	Zone            string   `json:"zone"`
	CarbonIntensity *float64 `json:"carbonIntensity"`
}

// fetchLatest gets the latest carbon intensity of zone from the API in
// opts. The request carries the key in the auth-token header and is
// cancelled after APITimeout.
func fetchLatest(ctx context.Context, opts Options, zone string) (units.GramsPerKWh, error) {
	ctx, cancel := context.WithTimeout(ctx, APITimeout)
	defer cancel()

	endpoint := strings.TrimRight(opts.APIURL, "/") + "/v3/carbon-intensity/latest?zone=" +
		url.QueryEscape(zone)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return 0, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("auth-token", opts.APIKey)
	req.Header.Set("Accept", "application/json")

	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: APITimeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, fmt.Errorf("request timed out: %w", err)
		}
		return 0, fmt.Errorf("request failed: %w", err)
	}
	defer resp.Body.Close()

	if resp.StatusCode != http.StatusOK {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
		return 0, fmt.Errorf("HTTP %s", resp.Status)
	}
	var body latestResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(&body); err != nil {
		return 0, fmt.Errorf("decoding response: %w", err)
	}
	if body.CarbonIntensity == nil {
		return 0, errors.New("response has no carbonIntensity")
	}
	if g := *body.CarbonIntensity; g <= 0 {
		return 0, fmt.Errorf("response carbonIntensity %g is not positive", g)
	}
	return units.GramsPerKWh(*body.CarbonIntensity), nil
}
