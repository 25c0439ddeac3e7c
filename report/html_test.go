// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package report

import (
	"encoding/xml"
	"errors"
	"html"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const scriptName = `<script>alert(1)</script>`

// htmlTestReport returns a completed one-node report with a measured GPU,
// an estimated CPU whose name is markup, a warning and two data sources.
func htmlTestReport() *Report {
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	code := 0
	return &Report{
		SchemaVersion: SchemaVersion,
		Tool:          Tool{Name: "carbon-run", Version: "1.2.3"},
		JobID:         "train-7", Hostname: "node1",
		Command: []string{"python", "train.py", "--lr", "1e-4 & more"},
		Status:  StatusCompleted, Complete: true, ExitCode: &code,
		StartTime: start, EndTime: start.Add(time.Hour), DurationSeconds: 3600,
		TrackingMode:           "machine",
		Region:                 Region{Code: "FR", Name: "France", Source: "Ember", Year: 2024},
		CarbonIntensityGPerKWh: 56, IntensitySource: "table",
		PUE: 1.2, PUESource: "default for a cloud data centre",
		ITEnergyKWh: 1.1, MachineEnergyKWh: 1.1, FacilityEnergyKWh: 1.32, EmissionsKg: 0.07392,
		MeasuredEnergyKWh: 1, EstimatedEnergyKWh: 0.1,
		Components: []Component{
			{Kind: "gpu", Name: "NVIDIA H100 80GB HBM3", Index: 0, Method: "energy_counter",
				EnergyKWh: 1, EnergyJoules: 3.6e6, MeanPowerWatts: 1000, MaxPowerWatts: 700},
			{Kind: "cpu", Name: scriptName, Index: 0, Method: "tdp_estimate", Detail: "TDP 350 W <datasheet>",
				EnergyKWh: 0.1, EnergyJoules: 3.6e5, MeanPowerWatts: 100, MaxPowerWatts: 120},
		},
		Warnings: []string{"RAPL unreadable & skipped"},
		DataSources: []DataSource{
			{What: "grid intensity FR", Value: "56 g/kWh", Source: "Ember", Year: 2024},
			{What: "CPU TDP", Value: "350 W", Source: "vendor <spec>"},
		},
	}
}

func htmlTestSeries() []Series {
	return []Series{
		{Kind: "gpu", Name: "NVIDIA H100 80GB HBM3", Index: 0, Method: "energy_counter", Points: []Point{
			{ElapsedSeconds: 1, PowerWatts: 650}, {ElapsedSeconds: 1800, PowerWatts: 700},
			{ElapsedSeconds: 3600, PowerWatts: 690},
		}},
		{Kind: "cpu", Name: scriptName, Index: 0, Method: "tdp_estimate", Points: []Point{
			{ElapsedSeconds: 1, PowerWatts: 100}, {ElapsedSeconds: 3600, PowerWatts: 120},
		}},
	}
}

func renderHTML(t *testing.T, r *Report, series []Series) string {
	t.Helper()
	page, err := r.HTML(series)
	if err != nil {
		t.Fatalf("HTML: %v", err)
	}
	checkWellFormed(t, string(page))
	return string(page)
}

// checkWellFormed parses page as HTML with the void elements auto-closed,
// which fails on a tag closed out of order, and each SVG as strict XML.
func checkWellFormed(t *testing.T, page string) {
	t.Helper()
	decoder := xml.NewDecoder(strings.NewReader(page))
	decoder.Strict = false
	decoder.AutoClose = xml.HTMLAutoClose
	decoder.Entity = xml.HTMLEntity
	for {
		_, err := decoder.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("page is not well-formed: %v", err)
		}
	}

	for i, svg := range regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(page, -1) {
		decoder := xml.NewDecoder(strings.NewReader(svg))
		for {
			_, err := decoder.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("SVG %d is not well-formed XML: %v\n%s", i, err, svg)
			}
		}
	}
}

func TestHTMLContents(t *testing.T) {
	r := htmlTestReport()

	page := renderHTML(t, r, htmlTestSeries())

	wants := []string{
		"<title>Energy and emissions report: train-7</title>",
		`<svg class="chart"`,
		"<polyline",
		"Power (W)",
		"Elapsed time (min)",
		"Energy (kWh)",
		"NVIDIA H100 80GB HBM3",
		`<span class="estimate">estimate</span>`,
		"cpu 0: &lt;script&gt;alert(1)&lt;/script&gt; (estimate)",
		"RAPL unreadable &amp; skipped",
		"vendor &lt;spec&gt;",
		"TDP 350 W &lt;datasheet&gt;",
		"0.07392 kg CO2e",
		"1.1 kWh (measured 1, estimated 0.1)",
		"1.20 (default for a cloud data centre)",
		"56.0 gCO2e/kWh, France (FR) (Ember 2024)",
		"<td>2024</td>",
	}
	for _, want := range wants {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, scriptName) {
		t.Errorf("page contains the component name %q unescaped", scriptName)
	}
	if strings.Contains(page, "Checkpoint") {
		t.Errorf("page of a complete report shows the checkpoint banner")
	}
}

func TestHTMLSelfContained(t *testing.T) {
	page := renderHTML(t, htmlTestReport(), htmlTestSeries())

	lower := strings.ToLower(page)
	for _, banned := range []string{"<script", "src=", "href=", "@import", "@font-face", "<link", "<iframe"} {
		if strings.Contains(lower, banned) {
			t.Errorf("page contains %q, want no script and no external resource", banned)
		}
	}
}

func TestHTMLStatementAndModelCard(t *testing.T) {
	r := htmlTestReport()

	page := html.UnescapeString(renderHTML(t, r, nil))

	for _, want := range []string{"<pre>" + r.Statement() + "</pre>", "<pre>" + r.ModelCardYAML() + "</pre>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestHTMLCheckpointBanner(t *testing.T) {
	r := htmlTestReport()
	r.Complete = false
	r.Status = StatusIncomplete
	r.ExitCode = nil
	r.DurationSeconds = 300

	page := renderHTML(t, r, htmlTestSeries())

	want := `<p class="banner" role="alert"><strong>Checkpoint:</strong> the run was still going`
	if !strings.Contains(page, want) {
		t.Errorf("page lacks the checkpoint banner %q", want)
	}
	if !strings.Contains(page, "cover only the first 5m0s") {
		t.Errorf("banner does not say how much of the run it covers")
	}
}

func TestHTMLWithoutSeries(t *testing.T) {
	r := htmlTestReport()
	r.Hostnames = []string{"node1", "node2"}

	page := renderHTML(t, r, nil)

	if strings.Contains(page, "<polyline") {
		t.Errorf("page without series has a power line")
	}
	if !strings.Contains(page, "This report has no power samples") {
		t.Errorf("page lacks the sentence that replaces the power chart")
	}
	if !strings.Contains(page, "Energy of each component") {
		t.Errorf("page lacks the energy chart")
	}
	if !strings.Contains(page, "<td>node1, node2</td>") {
		t.Errorf("page lacks the merged report's hosts")
	}
}

func TestHTMLWithoutComponents(t *testing.T) {
	r := htmlTestReport()
	r.Components = nil

	page := renderHTML(t, r, nil)

	if strings.Contains(page, "<svg") {
		t.Errorf("page without components or series has a chart")
	}
	if got := strings.Count(page, "No component was measured or estimated."); got != 2 {
		t.Errorf("got %d notes on missing components, want 2 (table and chart)", got)
	}
}

func TestHTMLDownsamplesLongSeries(t *testing.T) {
	points := spikyPoints(5000)
	series := []Series{{Kind: "gpu", Name: "H100", Method: "energy_counter", Points: points}}

	page := renderHTML(t, htmlTestReport(), series)

	match := regexp.MustCompile(`<polyline points="([^"]*)"`).FindStringSubmatch(page)
	if match == nil {
		t.Fatalf("page has no polyline")
	}
	if got := len(strings.Fields(match[1])); got > MaxPlotPoints || got < 2 {
		t.Errorf("polyline has %d points, want 2 to %d", got, MaxPlotPoints)
	}
	if len(series[0].Points) != 5000 {
		t.Errorf("HTML changed the caller's series to %d points", len(series[0].Points))
	}
}

func TestHTMLManySeriesCycleColours(t *testing.T) {
	var series []Series
	for i := range 10 {
		series = append(series, Series{Kind: "gpu", Name: "H100", Index: i, Method: "energy_counter",
			Points: []Point{{ElapsedSeconds: 1, PowerWatts: 100}, {ElapsedSeconds: 2, PowerWatts: 200}}})
	}

	chart := newLineChart(series)

	if got := len(chart.Lines); got != 10 {
		t.Fatalf("got %d lines, want 10", got)
	}
	first, ninth := chart.Lines[0], chart.Lines[8]
	if first.Colour != ninth.Colour || first.Dash == ninth.Dash {
		t.Errorf("lines 1 and 9: colours %s and %s, dashes %q and %q; want the same colour, other dashes",
			first.Colour, ninth.Colour, first.Dash, ninth.Dash)
	}
}

func TestHTMLSinglePointSeries(t *testing.T) {
	series := []Series{{Kind: "gpu", Name: "H100", Method: "energy_counter",
		Points: []Point{{ElapsedSeconds: 0, PowerWatts: 0}}}}

	page := renderHTML(t, htmlTestReport(), series)

	if !strings.Contains(page, "<circle") {
		t.Errorf("page lacks the dot that shows a one-point series")
	}
}

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		maxValue float64
		want     []float64
	}{
		{0, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{7, []float64{0, 1, 2, 3, 4, 5, 6, 7}},
		{10, []float64{0, 2, 4, 6, 8, 10}},
		{120, []float64{0, 20, 40, 60, 80, 100, 120}},
		{700, []float64{0, 100, 200, 300, 400, 500, 600, 700}},
		{701, []float64{0, 100, 200, 300, 400, 500, 600, 700, 800}},
		{2400, []float64{0, 500, 1000, 1500, 2000, 2500}},
		{0.042, []float64{0, 0.01, 0.02, 0.03, 0.04, 0.05}},
	}
	for _, tc := range tests {
		got, top := niceTicks(tc.maxValue)
		if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b float64) bool {
			return a-b < 1e-12 && b-a < 1e-12
		})); diff != "" {
			t.Errorf("niceTicks(%g) mismatch (-want +got):\n%s", tc.maxValue, diff)
		}
		if want := tc.want[len(tc.want)-1]; top < want-1e-12 || top > want+1e-12 {
			t.Errorf("niceTicks(%g) top: got %g, want %g", tc.maxValue, top, want)
		}
	}
}

func TestFormatTick(t *testing.T) {
	tests := []struct {
		v     float64
		ticks []float64
		want  string
	}{
		{400, []float64{0, 200}, "400"},
		{0.3, []float64{0, 0.1}, "0.3"},
		{0.03, []float64{0, 0.01}, "0.03"},
		{5, []float64{5}, "5"},
	}
	for _, tc := range tests {
		if got := formatTick(tc.v, tc.ticks); got != tc.want {
			t.Errorf("formatTick(%g, %v): got %q, want %q", tc.v, tc.ticks, got, tc.want)
		}
	}
}

func TestTimeUnit(t *testing.T) {
	tests := []struct {
		maxSeconds  float64
		wantSeconds float64
		wantName    string
	}{
		{30, 1, "s"}, {600, 1, "s"}, {601, 60, "min"}, {36000, 60, "min"}, {86400, 3600, "h"},
	}
	for _, tc := range tests {
		seconds, name := timeUnit(tc.maxSeconds)
		if seconds != tc.wantSeconds || name != tc.wantName {
			t.Errorf("timeUnit(%g): got %g %s, want %g %s", tc.maxSeconds, seconds, name, tc.wantSeconds, tc.wantName)
		}
	}
}
