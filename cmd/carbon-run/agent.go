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
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/carbonrun/carbonrun/internal/grid"
	"github.com/carbonrun/carbonrun/report"
)

// agentClient talks to a carbon-agent's job API over TCP or a Unix socket.
type agentClient struct {
	base string
	http *http.Client
}

// newAgentClient accepts "host:port", "http://host:port" or "unix:/path".
func newAgentClient(addr string) *agentClient {
	c := &agentClient{base: "http://" + addr, http: &http.Client{Timeout: 10 * time.Second}}
	switch {
	case strings.HasPrefix(addr, "unix:"):
		path := strings.TrimPrefix(addr, "unix:")
		c.base = "http://carbon-agent"
		c.http.Transport = &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", path)
			},
		}
	case strings.HasPrefix(addr, "http://"), strings.HasPrefix(addr, "https://"):
		c.base = strings.TrimSuffix(addr, "/")
	}
	return c
}

// call sends a JSON request and decodes a JSON answer into out.
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
		return fmt.Errorf("carbon-agent at %s: %w", c.base, err)
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

// runWithAgent starts the command, registers its process with a running
// carbon-agent, which samples the node for every job, and writes the
// agent's final report into the report directory when the command ends.
func runWithAgent(cfg *config, site grid.Site, log *zap.Logger) int {
	client := newAgentClient(cfg.agent)
	if err := client.call(http.MethodGet, "/healthz", nil, nil); err != nil {
		fmt.Fprintf(os.Stderr, "carbon-run: %v\n(start carbon-agent, or drop --agent to measure here)\n", err)
		return exitSetup
	}
	id, dir, err := reportDir(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "carbon-run: %v\n", err)
		return exitSetup
	}

	signals := make(chan os.Signal, 4)
	notifySignals(signals)
	c, code, err := startChild(cfg.command)
	if err != nil {
		fmt.Fprintf(os.Stderr, "carbon-run: %v\n", err)
		return code
	}
	start := map[string]any{"id": id, "pids": []int{c.cmd.Process.Pid}}
	if gpus := os.Getenv("CUDA_VISIBLE_DEVICES"); gpus != "" {
		start["gpus"] = strings.Split(gpus, ",")
	}
	registered := true
	if err := client.call(http.MethodPost, "/v1/jobs", start, nil); err != nil {
		registered = false
		log.Warn("registering with carbon-agent failed, the command runs unmeasured", zap.Error(err))
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
	if !registered {
		return exit
	}

	var r report.Report
	if err := client.call(http.MethodPost, "/v1/jobs/"+url.PathEscape(id)+"/end", nil, &r); err != nil {
		log.Warn("ending the job in carbon-agent failed, no report written", zap.Error(err))
		return exit
	}
	r.Command, r.ExitCode, r.ChildSignal = cfg.command, &exit, sigName
	r.Status = report.StatusCompleted
	switch {
	case c.stopRequested:
		r.Status = report.StatusTerminated
	case sigName != "":
		r.Status = report.StatusChildKilled
	}
	if err := r.Write(dir); err != nil {
		fmt.Fprintf(os.Stderr, "carbon-run: writing the report failed: %v\n", err)
	} else if !cfg.quiet {
		printSummary(os.Stderr, &r, dir)
	}
	return exit
}
