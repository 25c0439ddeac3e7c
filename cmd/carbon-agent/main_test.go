// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/carbonrun/carbonrun/internal/version"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name         string
		args         []string
		env          map[string]string
		wantListen   string
		wantExplicit bool
		wantInterval time.Duration
		wantErr      string
	}{
		{name: "defaults", wantListen: "127.0.0.1:9464", wantInterval: time.Second},
		{name: "flag", args: []string{"--listen", "0.0.0.0:9464", "--interval", "5s"},
			wantListen: "0.0.0.0:9464", wantExplicit: true, wantInterval: 5 * time.Second},
		{name: "env", env: map[string]string{"CARBONRUN_LISTEN": "unix:/run/a.sock", "CARBONRUN_INTERVAL": "2s"},
			wantListen: "unix:/run/a.sock", wantExplicit: true, wantInterval: 2 * time.Second},
		{name: "flag beats env", args: []string{"--interval", "3s"}, env: map[string]string{"CARBONRUN_INTERVAL": "2s"},
			wantListen: "127.0.0.1:9464", wantInterval: 3 * time.Second},
		{name: "bad env", env: map[string]string{"CARBONRUN_JOB_RETENTION": "soon"}, wantErr: "CARBONRUN_JOB_RETENTION"},
		{name: "zero interval", args: []string{"--interval", "0s"}, wantErr: "not positive"},
		{name: "stray argument", args: []string{"extra"}, wantErr: "unexpected argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseConfig(tc.args, envOf(tc.env), io.Discard)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantListen, cfg.listen, "listen")
			assert.Equal(t, tc.wantExplicit, cfg.listenExplicit, "listen explicit")
			assert.Equal(t, tc.wantInterval, cfg.interval, "interval")
		})
	}
}

func TestVersionFlag(t *testing.T) {
	var out bytes.Buffer
	code := run([]string{"--version"}, envOf(nil), &out, io.Discard)
	assert.Equal(t, 0, code)
	assert.Equal(t, "carbon-agent "+version.Version+"\n", out.String())
}

func TestUnsupportedLogFormat(t *testing.T) {
	var errOut bytes.Buffer
	code := run([]string{"--log-format", "yaml"}, envOf(nil), io.Discard, &errOut)
	assert.Equal(t, 2, code, "unsupported log format")
	assert.Contains(t, errOut.String(), "use console or json")
}

// TestServeAndShutdown runs the daemon on a Unix socket over an empty sysfs
// (no RAPL), opens a job, and stops it with SIGTERM.
func TestServeAndShutdown(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "agent.sock")
	reports := filepath.Join(dir, "reports")
	args := []string{"--listen", "unix:" + sock, "--sysfs", t.TempDir(), "--report-dir", reports,
		"--state-dir", filepath.Join(dir, "state"), "--region", "FR", "--interval", "50ms", "--log-format", "json"}
	done := make(chan int, 1)
	var logs bytes.Buffer
	go func() { done <- run(args, envOf(nil), io.Discard, &syncWriter{buf: &logs}) }()

	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
	defer client.CloseIdleConnections()
	require.Eventually(t, func() bool {
		resp, err := client.Get("http://agent/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond, "agent answers /healthz")

	resp, err := client.Post("http://agent/v1/jobs", "application/json",
		strings.NewReader(`{"id":"smoke","pids":[`+strconv.Itoa(os.Getpid())+`]}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	resp, err = client.Get("http://agent/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), `carbonrun_grid_intensity_grams_per_kwh{region="FR"}`)
	assert.Contains(t, string(body), "carbonrun_cpu_energy_joules_total")

	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	select {
	case code := <-done:
		assert.Equal(t, 0, code, "exit code; logs:\n%s", logs.String())
	case <-time.After(10 * time.Second):
		t.Fatal("agent did not stop within 10 s of SIGTERM")
	}
	data, err := os.ReadFile(filepath.Join(reports, "smoke", "report.json"))
	require.NoError(t, err)
	assert.Contains(t, string(data), `"status": "ended_by_shutdown"`)
}

// syncWriter lets the test read logs that the daemon goroutines write.
type syncWriter struct {
	mu  sync.Mutex
	buf *bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}
