// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/carbonrun/carbonrun/internal/grid"
	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/report"
	"github.com/carbonrun/carbonrun/sampler"
)

// agentClient talks to a carbon-agent's job API over TCP or a Unix socket.
type agentClient struct {
	base string
	name string // the address as given, for messages
	http *http.Client
}

// newAgentClient accepts "host:port", "http://host:port" or "unix:/path".
func newAgentClient(addr string) (*agentClient, error) {
	c := &agentClient{base: "http://" + addr, name: addr, http: &http.Client{Timeout: 10 * time.Second}}
	switch {
	case strings.HasPrefix(addr, "unix:"):
		path := strings.TrimPrefix(addr, "unix:")
		if !filepath.IsAbs(path) {
			return nil, fmt.Errorf("invalid --agent %q: give an absolute socket path, as in "+
				"unix:/run/carbonrun/agent.sock", addr)
		}
		c.base = "http://carbon-agent"
		c.http.Transport = &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", path)
			},
		}
	case strings.HasPrefix(addr, "http://"), strings.HasPrefix(addr, "https://"):
		c.base = strings.TrimSuffix(addr, "/")
	default:
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			return nil, fmt.Errorf("invalid --agent %q: give host:port, as in 127.0.0.1:9464, "+
				"or unix:/path/to/socket", addr)
		}
	}
	return c, nil
}

// call sends a JSON request and decodes the JSON response into out.
func (c *agentClient) call(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encoding request: %w", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("carbon-agent at %s: %w", c.name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("reading carbon-agent response: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e struct{ Error string }
		_ = json.Unmarshal(data, &e)
		return fmt.Errorf("carbon-agent %s %s: %s: %s", method, path, resp.Status, e.Error)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("parsing carbon-agent response: %w", err)
		}
	}
	return nil
}

// runWithAgent registers carbon-run's own process with a running
// carbon-agent, which samples the node for every job, then runs the command
// as a child, so the agent's process tree covers the command from its first
// instruction. When the command ends, the agent's final report is written
// into the report directory with the command's exit status.
func runWithAgent(cfg *config, site grid.Site, log *zap.Logger, warn *sampler.Warnings) int {
	client, err := newAgentClient(cfg.agent)
	if err != nil {
		fmt.Fprintf(os.Stderr, "carbon-run: %v\n", err)
		return exitUsage
	}
	if err := client.call(http.MethodGet, "/healthz", nil, nil); err != nil {
		fmt.Fprintf(os.Stderr, "carbon-run: %v\n(start carbon-agent, or drop --agent to measure here)\n", err)
		return exitSetup
	}
	id, dir, err := reportDir(cfg, warn)
	if err != nil {
		fmt.Fprintf(os.Stderr, "carbon-run: %v\n", err)
		return exitUsage
	}
	start := map[string]any{"id": id, "pids": []int{os.Getpid()}}
	if gpus, ok := os.LookupEnv("CUDA_VISIBLE_DEVICES"); ok {
		start["gpus"] = visibleGPUList(gpus)
	}
	if err := client.call(http.MethodPost, "/v1/jobs", start, nil); err != nil {
		fmt.Fprintf(os.Stderr, "carbon-run: registering job %s: %v\n", id, err)
		_ = os.Remove(dir)
		return exitSetup
	}

	signals := make(chan os.Signal, 4)
	notifySignals(signals)
	c, code, err := startChild(cfg.command)
	if err != nil {
		fmt.Fprintf(os.Stderr, "carbon-run: %v\n", err)
		_ = client.call(http.MethodPost, "/v1/jobs/"+url.PathEscape(id)+"/end", nil, nil)
		_ = os.Remove(dir)
		return code
	}
	var waitErr error
	for done := false; !done; {
		select {
		case sig := <-signals:
			c.forward(sig)
		case waitErr = <-c.done:
			done = true
		}
	}
	exit, sigName := exitStatus(waitErr, c.cmd.ProcessState)

	var r report.Report
	if err := client.call(http.MethodPost, "/v1/jobs/"+url.PathEscape(id)+"/end", nil, &r); err != nil {
		log.Warn("ending the job in carbon-agent failed, no report written", zap.Error(err))
		return exit
	}
	r.Command, r.ExitCode, r.ChildSignal = cfg.command, &exit, sigName
	r.Status = finalStatus(c.stopRequested, sigName)
	if explicitSite(cfg) {
		addSiteWarnings(site, warn)
		applySite(&r, site)
	}
	r.Warnings = append(r.Warnings, warn.List()...)
	if err := r.Write(dir); err != nil {
		fmt.Fprintf(os.Stderr, "carbon-run: writing the report failed: %v\n", err)
	} else if !cfg.quiet {
		printSummary(os.Stderr, &r, dir)
	}
	return exit
}

// visibleGPUList turns CUDA_VISIBLE_DEVICES into the agent's GPU list. An
// empty value or -1 hides every GPU, which the agent reads as an empty list.
func visibleGPUList(value string) []string {
	gpus := []string{}
	for _, g := range strings.Split(value, ",") {
		g = strings.TrimSpace(g)
		if g == "" || strings.HasPrefix(g, "-") {
			break // CUDA stops at the first invalid entry
		}
		gpus = append(gpus, g)
	}
	return gpus
}

// explicitSite reports whether the user chose the grid or facility on the
// command line; the agent's own settings apply otherwise.
func explicitSite(cfg *config) bool {
	return cfg.region != "" || cfg.carbonIntensity != 0 || cfg.pue != 0
}

// applySite recomputes a report's facility energy and emissions for site,
// keeping the agent's measured IT energy.
func applySite(r *report.Report, site grid.Site) {
	r.Region = report.Region{Code: site.Region.Code, Name: site.Region.Name, Source: site.Region.Source,
		Year: site.Region.Year}
	r.CarbonIntensityGPerKWh = float64(site.Intensity)
	r.IntensitySource = site.IntensitySource
	r.PUE = site.PUE
	r.PUESource = site.PUESource
	if site.PUEReference != "" {
		r.PUESource += ": " + site.PUEReference
	}
	facility := units.KWh(r.ITEnergyKWh * site.PUE)
	r.FacilityEnergyKWh = float64(facility)
	r.EmissionsKg = site.Intensity.Emissions(facility).Kilograms()
	r.Warnings = append(r.Warnings, "grid intensity and PUE are carbon-run's --region, "+
		"--carbon-intensity and --pue, not the agent's")
}
