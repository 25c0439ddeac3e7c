// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
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
		{name: "zero interval", args: []string{"--interval", "0s"}, wantErr: "--interval 0s is below the minimum of 10ms"},
		{name: "tiny interval", args: []string{"--interval", "5ms"}, wantErr: "--interval 5ms is below the minimum"},
		{name: "min interval", args: []string{"--interval", "10ms"}, wantListen: "127.0.0.1:9464",
			wantInterval: 10 * time.Millisecond},
		{name: "pue below 1", args: []string{"--pue", "0.5"}, wantErr: "--pue 0.5 is below 1"},
		{name: "pue zero", args: []string{"--pue", "0"}, wantErr: "--pue 0 is below 1"},
		{name: "pue env zero", env: map[string]string{"CARBONRUN_PUE": "0"}, wantErr: "--pue 0 is below 1"},
		{name: "pue NaN", args: []string{"--pue", "NaN"}, wantErr: "--pue NaN is not a finite number"},
		{name: "pue infinite", args: []string{"--pue", "+Inf"}, wantErr: "--pue +Inf is not a finite number"},
		{name: "pue absurd", args: []string{"--pue", "12"}, wantErr: "--pue 12 is above the maximum of 10"},
		{name: "pue valid", args: []string{"--pue", "1.2"}, wantListen: "127.0.0.1:9464", wantInterval: time.Second},
		{name: "intensity zero", args: []string{"--carbon-intensity", "0"},
			wantErr: "--carbon-intensity 0 is not positive"},
		{name: "intensity negative", args: []string{"--carbon-intensity", "-5"},
			wantErr: "--carbon-intensity -5 is not positive"},
		{name: "intensity NaN", args: []string{"--carbon-intensity", "NaN"},
			wantErr: "--carbon-intensity NaN is not a finite number"},
		{name: "intensity infinite", args: []string{"--carbon-intensity", "Inf"},
			wantErr: "--carbon-intensity +Inf is not a finite number"},
		{name: "intensity absurd", args: []string{"--carbon-intensity", "52000"},
			wantErr: "--carbon-intensity 52000 is above the maximum of 3000"},
		{name: "intensity valid", args: []string{"--carbon-intensity", "52"}, wantListen: "127.0.0.1:9464",
			wantInterval: time.Second},
		{name: "unknown region", args: []string{"--region", "France"}, wantErr: "invalid --region: unknown region"},
		{name: "listen garbage", args: []string{"--listen", "garbage"}, wantErr: "invalid --listen"},
		{name: "listen named port", args: []string{"--listen", "127.0.0.1:http"}, wantErr: "not a number"},
		{name: "listen relative socket", args: []string{"--listen", "unix:agent.sock"},
			wantErr: "relative socket path"},
		{name: "listen env garbage", env: map[string]string{"CARBONRUN_LISTEN": "garbage"},
			wantErr: "invalid --listen"},
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

func TestConfigErrorExitsTwo(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown region", []string{"--region", "France"}, "invalid --region: unknown region \"France\" (did you mean"},
		{"pue below 1", []string{"--pue", "0.5"}, "--pue 0.5 is below 1: PUE is facility energy divided by IT energy"},
		{"listen garbage", []string{"--listen", "garbage"}, "invalid --listen: listen address \"garbage\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var errOut bytes.Buffer
			args := append([]string{"--sysfs", t.TempDir(), "--state-dir", t.TempDir(), "--report-dir",
				t.TempDir()}, tc.args...)
			code := run(args, envOf(nil), io.Discard, &errOut)
			assert.Equal(t, 2, code, "exit code; stderr:\n%s", errOut.String())
			lines := strings.Split(strings.TrimSuffix(errOut.String(), "\n"), "\n")
			require.Len(t, lines, 1, "stderr has one line: %q", errOut.String())
			assert.True(t, strings.HasPrefix(lines[0], "carbon-agent: "), "line %q names the command", lines[0])
			assert.Contains(t, lines[0], tc.want)
			assert.NotContains(t, lines[0], "ERROR", "a configuration error is not logged")
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

// daemon is a carbon-agent run inside the test process, on a Unix socket.
type daemon struct {
	client *http.Client
	done   chan int
	logs   *bytes.Buffer
}

// startDaemon runs the agent with args and waits until /healthz returns 200.
func startDaemon(t *testing.T, sock string, args []string) *daemon {
	t.Helper()
	d := &daemon{done: make(chan int, 1), logs: &bytes.Buffer{}}
	go func() { d.done <- run(args, envOf(nil), io.Discard, &syncWriter{buf: d.logs}) }()
	d.client = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
	t.Cleanup(d.client.CloseIdleConnections)
	require.Eventually(t, func() bool {
		resp, err := d.client.Get("http://agent/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond, "agent answers /healthz")
	return d
}

// stop sends SIGTERM, as systemd does, and waits for a clean exit.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	d.client.CloseIdleConnections()
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	select {
	case code := <-d.done:
		assert.Equal(t, 0, code, "exit code; logs:\n%s", d.logs.String())
	case <-time.After(10 * time.Second):
		t.Fatal("agent did not stop within 10 s of SIGTERM")
	}
}

// TestServeAndShutdown runs the daemon on a Unix socket over an empty sysfs
// (no RAPL), opens a job, stops the daemon with SIGTERM, and ends the job
// on a restarted daemon, as a Slurm epilog after `systemctl restart` does.
func TestServeAndShutdown(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "agent.sock")
	reports := filepath.Join(dir, "reports")
	args := []string{"--listen", "unix:" + sock, "--sysfs", t.TempDir(), "--report-dir", reports,
		"--state-dir", filepath.Join(dir, "state"), "--region", "FR", "--interval", "50ms", "--log-format", "json"}
	d := startDaemon(t, sock, args)

	// The agent runs inside the test process, which it rejects as a job
	// process, so the job is a child process.
	child := exec.Command("sleep", "60")
	require.NoError(t, child.Start())
	t.Cleanup(func() {
		_ = child.Process.Kill()
		_ = child.Wait()
	})
	resp, err := d.client.Post("http://agent/v1/jobs", "application/json",
		strings.NewReader(`{"id":"smoke","pids":[`+strconv.Itoa(child.Process.Pid)+`]}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	resp, err = d.client.Get("http://agent/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), `carbonrun_grid_intensity_grams_per_kwh{region="FR"}`)
	assert.Contains(t, string(body), "carbonrun_cpu_energy_joules_total")

	d.stop(t)
	path := filepath.Join(reports, "smoke", "report.json")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"status": "ended_by_shutdown"`)

	// FR has no cloud provider PUE, so the site resolves with a PUE warning.
	assert.Equal(t, 1, warnLines(d.logs.String(), "PUE unknown"), "the PUE warning is logged once; logs:\n%s",
		d.logs.String())

	restarted := startDaemon(t, sock, args)
	resp, err = restarted.client.Post("http://agent/v1/jobs/smoke/end", "application/json", nil)
	require.NoError(t, err)
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "end on the restarted agent: %s", body)
	var ended struct {
		Status    string `json:"status"`
		ReportDir string `json:"report_dir"`
	}
	require.NoError(t, json.Unmarshal(body, &ended))
	assert.Equal(t, "ended", ended.Status, "status in the end response")
	assert.Equal(t, filepath.Dir(path), ended.ReportDir, "report directory in the end response")
	data, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"status": "ended"`, "the end rewrites the shutdown report")
	restarted.stop(t)
}

// warnLines counts the Warn-level JSON log lines that contain text.
func warnLines(logs, text string) int {
	n := 0
	for line := range strings.SplitSeq(logs, "\n") {
		if strings.Contains(line, `"level":"warn"`) && strings.Contains(line, text) {
			n++
		}
	}
	return n
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
