// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/carbonrun/carbonrun/exporter"
	"github.com/carbonrun/carbonrun/internal/agent"
	"github.com/carbonrun/carbonrun/report"
	"github.com/carbonrun/carbonrun/sampler"
)

// documentedFamilies are the metric families every agent scrape carries on
// a node with GPUs and RAPL.
var documentedFamilies = []string{
	"carbonrun_gpu_energy_joules_total",
	"carbonrun_gpu_power_watts",
	"carbonrun_cpu_energy_joules_total",
	"carbonrun_cpu_power_watts",
	"carbonrun_rapl_domain_up",
	"carbonrun_job_energy_joules_total",
	"carbonrun_job_emissions_grams_total",
	"carbonrun_jobs_open",
	"carbonrun_grid_intensity_grams_per_kwh",
	"carbonrun_pue",
	"carbonrun_sampler_duration_seconds",
	"carbonrun_sampler_errors_total",
	"carbonrun_build_info",
}

type server struct {
	agent  *agent.Agent
	src    *agent.FakeSource
	clock  *agent.FakeClock
	http   *httptest.Server
	client *http.Client
}

func newServer(t *testing.T, log *zap.Logger, modify func(*agent.Options)) *server {
	t.Helper()
	s := &server{src: agent.NewFakeSource(2, agent.CPUZone("package-0", 0)), clock: agent.NewFakeClock()}
	s.src.Fail(nil, map[string]bool{"package-0": true})
	opts := agent.Options{
		Sources:   []sampler.Source{agent.FakeDomainSource{FakeSource: s.src}},
		CPU:       agent.NewFakeCPU(),
		Processes: agent.FakeProcesses{Live: map[int]bool{100: true}},
		Site:      agent.TestSite,
		Now:       s.clock.Now,
		Log:       log,
		Version:   "test",
	}
	if modify != nil {
		modify(&opts)
	}
	a, err := agent.New(opts)
	require.NoError(t, err)
	metrics, err := exporter.Handler(exporter.New(a, "test"), log)
	require.NoError(t, err)
	s.agent = a
	s.http = httptest.NewServer(a.Handler(metrics))
	s.client = s.http.Client()
	t.Cleanup(func() {
		s.client.CloseIdleConnections()
		s.http.Close()
	})
	return s
}

func (s *server) do(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.http.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := s.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, data
}

func (s *server) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	status, body := s.do(t, http.MethodGet, "/metrics", "")
	require.Equal(t, http.StatusOK, status, "scrape status; body %s", body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(t, err, "exposition must parse")
	return families
}

func gaugeOrCounter(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	fam, ok := fams[name]
	require.True(t, ok, "family %s missing", name)
	for _, m := range fam.GetMetric() {
		match := true
		for _, lp := range m.GetLabel() {
			if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
				match = false
			}
		}
		if match {
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no %s series with labels %v", name, labels)
	return 0
}

func TestAPIJobLifecycleAndScrape(t *testing.T) {
	s := newServer(t, zap.NewNop(), nil)
	s.agent.Sample()
	s.clock.Advance(time.Second)
	s.src.Set(1000, 50, 10)

	status, body := s.do(t, http.MethodPost, "/v1/jobs", `{"id":"train-1","pids":[100],"gpus":["1"]}`)
	require.Equal(t, http.StatusCreated, status, "start: %s", body)
	status, _ = s.do(t, http.MethodGet, "/healthz", "")
	assert.Equal(t, http.StatusOK, status, "healthz")

	s.clock.Advance(time.Second)
	s.src.Set(1100, 250, 20)
	s.agent.Sample()
	s.clock.Advance(time.Second)
	s.src.Set(1200, 650, 30)

	fams := s.scrape(t)
	for _, name := range documentedFamilies {
		assert.Contains(t, fams, name, "documented family")
	}
	assert.Equal(t, 1.0, gaugeOrCounter(t, fams, "carbonrun_jobs_open", nil), "jobs open")
	assert.Equal(t, 200.0, gaugeOrCounter(t, fams, "carbonrun_job_energy_joules_total",
		map[string]string{"job_id": "train-1", "kind": "gpu"}), "job gpu joules so far")

	status, body = s.do(t, http.MethodPost, "/v1/jobs/train-1/end", "")
	require.Equal(t, http.StatusOK, status, "end: %s", body)
	var rep report.Report
	require.NoError(t, json.Unmarshal(body, &rep))
	require.NotEmpty(t, rep.Components)
	assert.Equal(t, "gpu", rep.Components[0].Kind)
	assert.InDelta(t, 650.0-50, rep.Components[0].EnergyJoules, 1e-9,
		"report energy = GPU 1 counter difference over the job's life")
	assert.Equal(t, report.StatusEnded, rep.Status)

	fams = s.scrape(t)
	assert.Equal(t, 0.0, gaugeOrCounter(t, fams, "carbonrun_jobs_open", nil), "jobs open after end")
	assert.Equal(t, 1200.0, gaugeOrCounter(t, fams, "carbonrun_gpu_energy_joules_total",
		map[string]string{"gpu": "0"}), "node counter of GPU 0 keeps rising across jobs")
	assert.Equal(t, 600.0, gaugeOrCounter(t, fams, "carbonrun_job_energy_joules_total",
		map[string]string{"job_id": "train-1", "kind": "gpu"}), "ended job keeps its final value")
	assert.Equal(t, 1250.0, gaugeOrCounter(t, fams, "carbonrun_job_energy_joules_total",
		map[string]string{"job_id": "idle", "kind": "gpu"}), "idle gpu joules")
}

func TestAPIBadInput(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantError  string
	}{
		{"malformed json", "POST", "/v1/jobs", `{"id":"a",`, 400, "malformed JSON"},
		{"not an object", "POST", "/v1/jobs", `[1]`, 400, "wrong type"},
		{"empty body", "POST", "/v1/jobs", ``, 400, "empty"},
		{"trailing data", "POST", "/v1/jobs", `{"id":"a","gpus":["0"]} {}`, 400, "after the JSON object"},
		{"unknown field", "POST", "/v1/jobs", `{"id":"a","gpus":["0"],"user":"x"}`, 400, `unknown field "user"`},
		{"wrong type", "POST", "/v1/jobs", `{"id":"a","pids":"100"}`, 400, `"pids"`},
		{"id with slash", "POST", "/v1/jobs", `{"id":"a/b","gpus":["0"]}`, 400, "job id"},
		{"id dot dot", "POST", "/v1/jobs", `{"id":"..","gpus":["0"]}`, 400, "job id"},
		{"missing pid", "POST", "/v1/jobs", `{"id":"a","pids":[999999]}`, 422, "does not exist"},
		{"init pid", "POST", "/v1/jobs", `{"id":"a","pids":[1]}`, 422, "process tree is the whole machine"},
		{"init among pids", "POST", "/v1/jobs", `{"id":"a","pids":[100,1]}`, 422, "pid 1 is init"},
		{"agent pid", "POST", "/v1/jobs", fmt.Sprintf(`{"id":"a","pids":[%d]}`, os.Getpid()), 422,
			"carbon-agent process itself"},
		{"unknown gpu", "POST", "/v1/jobs", `{"id":"a","gpus":["9"]}`, 422, "gpu \"9\" not found"},
		{"duplicate start", "POST", "/v1/jobs", `{"id":"open-1","gpus":["0"]}`, 409, "already open"},
		{"too large", "POST", "/v1/jobs", `{"id":"a","gpus":["` + strings.Repeat("0", 70000) + `"]}`, 413, "larger than"},
		{"unknown job", "GET", "/v1/jobs/nope", "", 404, "not found"},
		{"end unknown job", "POST", "/v1/jobs/nope/end", "", 404, "not found"},
		{"path dot dot", "POST", "/v1/jobs/../open-1/end", "", 400, "segment"},
		{"encoded dot dot", "GET", "/v1/jobs/%2e%2e", "", 400, "segment"},
		{"encoded slash", "POST", "/v1/jobs/a%2Fb/end", "", 400, "job id"},
		{"wrong method", "DELETE", "/v1/jobs/open-1", "", 405, "not allowed"},
		{"no route", "GET", "/v2/jobs", "", 404, "no endpoint"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := newServer(t, zap.NewNop(), func(o *agent.Options) { o.ReportDir = dir })
			s.agent.Sample()
			status, _ := s.do(t, "POST", "/v1/jobs", `{"id":"open-1","gpus":["0"]}`)
			require.Equal(t, http.StatusCreated, status)
			before := s.agent.Jobs()

			status, body := s.do(t, tc.method, tc.path, tc.body)
			assert.Equal(t, tc.wantStatus, status, "status; body %s", body)
			var msg map[string]string
			require.NoError(t, json.Unmarshal(body, &msg), "body %q is a JSON object", body)
			assert.Len(t, msg, 1, "only the error field")
			assert.Contains(t, msg["error"], tc.wantError)

			assert.Equal(t, before, s.agent.Jobs(), "state unchanged")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Empty(t, entries, "no report written")
		})
	}
}

func TestAPIEmptyGPUListMeansNoGPUs(t *testing.T) {
	s := newServer(t, zap.NewNop(), nil)
	s.agent.Sample()

	status, body := s.do(t, http.MethodPost, "/v1/jobs", `{"id":"cpu-only","pids":[100],"gpus":[]}`)
	require.Equal(t, http.StatusCreated, status, "start: %s", body)
	var view agent.JobView
	require.NoError(t, json.Unmarshal(body, &view))
	assert.Empty(t, view.GPUs, "an empty gpus list claims no GPU")

	s.clock.Advance(time.Second)
	s.src.Set(300, 500, 0)
	status, body = s.do(t, http.MethodPost, "/v1/jobs/cpu-only/end", "")
	require.Equal(t, http.StatusOK, status, "end: %s", body)
	var rep report.Report
	require.NoError(t, json.Unmarshal(body, &rep))
	for _, c := range rep.Components {
		assert.NotEqual(t, "gpu", c.Kind, "report component %+v", c)
	}
	idle, err := s.agent.Job(agent.IdleJobID)
	require.NoError(t, err)
	assert.Equal(t, 800.0, idle.EnergyJoules["gpu"], "both GPUs' energy stays idle")
}

func TestAPIEndTwice_CR25(t *testing.T) {
	dir := t.TempDir()
	s := newServer(t, zap.NewNop(), func(o *agent.Options) { o.ReportDir = dir })
	s.agent.Sample()
	status, _ := s.do(t, "POST", "/v1/jobs", `{"id":"dup","gpus":["0"]}`)
	require.Equal(t, http.StatusCreated, status)

	const callers = 8
	statuses := make([]int, callers)
	var wg sync.WaitGroup
	for k := range callers {
		wg.Go(func() {
			statuses[k], _ = s.do(t, "POST", "/v1/jobs/dup/end", "")
		})
	}
	wg.Wait()
	counts := map[int]int{}
	for _, st := range statuses {
		counts[st]++
	}
	assert.Equal(t, map[int]int{200: 1, 409: callers - 1}, counts, "one report, then conflicts")

	files, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(dir, "dup", "report.json")}, files, "exactly one report file")
}

func TestScrapeWithFailingDomain_CR17(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	s := newServer(t, zap.New(core), nil)
	// The dram domain fails on every read, as EINVAL or EACCES would.
	s.src.Fail(errors.New("reading intel-rapl:0:2/energy_uj: invalid argument"),
		map[string]bool{"package-0": true, "dram-0": false})
	s.agent.Sample() // baseline

	for range 100 {
		s.clock.Advance(time.Second)
		s.src.Add(0, 300)
		s.agent.Sample()
		fams := s.scrape(t)
		require.Equal(t, 0.0, gaugeOrCounter(t, fams, "carbonrun_rapl_domain_up",
			map[string]string{"domain": "dram-0"}), "failing domain is down")
		require.Equal(t, 1.0, gaugeOrCounter(t, fams, "carbonrun_rapl_domain_up",
			map[string]string{"domain": "package-0"}), "healthy domain is up")
		require.Contains(t, fams, "carbonrun_gpu_energy_joules_total", "other series stay")
	}
	fams := s.scrape(t)
	assert.Equal(t, 30000.0, gaugeOrCounter(t, fams, "carbonrun_gpu_energy_joules_total",
		map[string]string{"gpu": "0"}), "GPU 0 still counted")
	assert.Equal(t, 101.0, gaugeOrCounter(t, fams, "carbonrun_sampler_errors_total", nil),
		"one read error per round, baseline included")
	assert.LessOrEqual(t, logs.Len(), 1, "at most one warning for the one failing domain, got %v",
		logs.All())
}

func TestSoakStartEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test")
	}
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := newServer(t, zap.NewNop(), func(o *agent.Options) { o.JobRetention = time.Minute })
	s.agent.Sample()

	const cycles = 10000
	var heapAt2000 uint64
	var snap agent.Snapshot
	for k := range cycles {
		id := fmt.Sprintf("soak-%d", k)
		status, body := s.do(t, "POST", "/v1/jobs", `{"id":"`+id+`","gpus":["0"],"pids":[100]}`)
		require.Equal(t, http.StatusCreated, status, "start %d: %s", k, body)
		s.clock.Advance(time.Second)
		s.src.Add(0, 1)
		status, body = s.do(t, "POST", "/v1/jobs/"+id+"/end", "")
		require.Equal(t, http.StatusOK, status, "end %d: %s", k, body)
		if k == 2000 {
			heapAt2000 = heapInUse()
		}
	}
	heapAtEnd := heapInUse()
	s.agent.Snapshot(&snap)
	assert.Equal(t, 0, snap.OpenJobs, "open jobs")
	assert.LessOrEqual(t, len(snap.Jobs), 61, "ended jobs kept only for the one-minute retention")
	assert.Less(t, int64(heapAtEnd)-int64(heapAt2000), int64(4<<20),
		"heap in use grows by less than 4 MiB between cycle 2000 (%d B) and %d (%d B)",
		heapAt2000, cycles, heapAtEnd)

	s.client.CloseIdleConnections()
	s.http.Close()
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
