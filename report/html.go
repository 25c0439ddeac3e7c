// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package report

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/carbonrun/carbonrun/sampler"
)

// HTMLFile is the name of the HTML report inside a job's report directory.
const HTMLFile = "report.html"

// htmlTemplate lays out the page. html/template escapes every value placed
// in it, including those inside the SVG charts.
var htmlTemplate = template.Must(template.New("page").Parse(htmlPage))

// PrepareHTML renders an empty report once and discards it. html/template
// analyses the template's escaping contexts on its first execution, which
// takes a few milliseconds. A caller that starts PrepareHTML in a goroutine
// while a job runs keeps that cost out of the time between the job's exit
// and the report.
func PrepareHTML() {
	_, _ = (&Report{}).HTML(nil)
}

// HTML renders the report as one self-contained page. The page contains the
// summary, the components with their methods, a chart of power over time
// per component drawn from series and a chart of energy by component. The
// compute statement, the model-card block, warnings and data sources follow.
// The page has no script and loads nothing from elsewhere, so it also works offline and as an
// email attachment. With no series, as for a merged report, one sentence
// replaces the power chart. Series longer than MaxPlotPoints are
// downsampled.
func (r *Report) HTML(series []Series) ([]byte, error) {
	view := htmlView{
		Title:       "Energy and emissions report: " + r.JobID,
		Checkpoint:  !r.Complete,
		Duration:    formatSeconds(r.DurationSeconds),
		Headline:    r.headline(),
		Summary:     r.summaryRows(),
		Components:  r.componentRows(),
		PowerChart:  newLineChart(series),
		EnergyChart: newBarChart(r.Components),
		Statement:   r.Statement(),
		ModelCard:   r.ModelCardYAML(),
		Warnings:    r.Warnings,
		DataSources: r.DataSources,
		Tool:        strings.TrimSpace(r.Tool.Name + " " + r.Tool.Version),
	}
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, view); err != nil {
		return nil, fmt.Errorf("rendering HTML report %s: %w", r.JobID, err)
	}
	return b.Bytes(), nil
}

// htmlView is the data that htmlPage renders.
type htmlView struct {
	Title       string
	Checkpoint  bool
	Duration    string
	Headline    []htmlRow
	Summary     []htmlRow
	Components  []htmlComponent
	PowerChart  *lineChart
	EnergyChart *barChart
	Statement   string
	ModelCard   string
	Warnings    []string
	DataSources []DataSource
	Tool        string
}

// htmlRow is one labelled value of the summary.
type htmlRow struct {
	Label string
	Value string
	// Code sets the value in a monospace font.
	Code bool
}

// htmlComponent is one row of the components table.
type htmlComponent struct {
	Kind, Host, Name, Detail string
	Index                    int
	Method                   string
	// MethodDescription explains Method in words.
	MethodDescription string
	Estimated         bool
	EnergyKWh         string
	MeanPowerWatts    string
	MaxPowerWatts     string
}

// headline picks the three figures a reader looks for first.
func (r *Report) headline() []htmlRow {
	return []htmlRow{
		{Label: "Emissions", Value: kg(r.EmissionsKg) + " kg CO2e"},
		{Label: "Facility energy", Value: kwh(r.FacilityEnergyKWh) + " kWh"},
		{Label: "Duration", Value: formatSeconds(r.DurationSeconds)},
	}
}

// summaryRows holds the same facts as the summary table of report.md.
func (r *Report) summaryRows() []htmlRow {
	var rows []htmlRow
	add := func(label, value string) { rows = append(rows, htmlRow{Label: label, Value: value}) }

	if len(r.Command) > 0 {
		rows = append(rows, htmlRow{Label: "Command", Value: ShellQuote(r.Command), Code: true})
	}
	switch {
	case len(r.Hostnames) > 0:
		add("Hosts", strings.Join(r.Hostnames, ", "))
	case r.Hostname != "":
		add("Host", r.Hostname)
	}
	add("Status", string(r.Status))
	if r.ExitCode != nil {
		add("Exit code", strconv.Itoa(*r.ExitCode))
	}
	if r.ChildSignal != "" {
		add("Killed by", r.ChildSignal)
	}
	add("Start", r.StartTime.Format("2006-01-02 15:04:05 MST"))
	add("Duration", formatSeconds(r.DurationSeconds))
	add("Tracking mode", r.TrackingMode)
	add("IT energy", fmt.Sprintf("%s kWh (measured %s, estimated %s)",
		kwh(r.ITEnergyKWh), kwh(r.MeasuredEnergyKWh), kwh(r.EstimatedEnergyKWh)))
	add("PUE", fmt.Sprintf("%.2f (%s)", r.PUE, r.PUESource))
	add("Facility energy", kwh(r.FacilityEnergyKWh)+" kWh")
	add("Grid intensity", fmt.Sprintf("%.1f gCO2e/kWh, %s (%s)",
		r.CarbonIntensityGPerKWh, r.regionLabel(), r.IntensityCitation()))
	add("Emissions", kg(r.EmissionsKg)+" kg CO2e")
	if r.GPUScope != "" {
		add("GPU scope", strings.TrimSpace(r.GPUScope+" "+r.GPUNote))
	}
	return rows
}

func (r *Report) componentRows() []htmlComponent {
	rows := make([]htmlComponent, 0, len(r.Components))
	for _, c := range r.Components {
		rows = append(rows, htmlComponent{
			Kind: c.Kind, Host: c.Host, Name: c.Name, Detail: c.Detail, Index: c.Index,
			Method:            c.Method,
			MethodDescription: methodPhrase(c.Method),
			Estimated:         !sampler.Method(c.Method).Measured(),
			EnergyKWh:         kwh(c.EnergyKWh),
			MeanPowerWatts:    fmt.Sprintf("%.1f", c.MeanPowerWatts),
			MaxPowerWatts:     fmt.Sprintf("%.1f", c.MaxPowerWatts),
		})
	}
	return rows
}

// componentLabel names a component in a chart: "node1 gpu 0: NVIDIA H100".
func componentLabel(host, kind string, index int, name string) string {
	label := fmt.Sprintf("%s %d", kind, index)
	if name != "" {
		label += ": " + name
	}
	if host != "" {
		label = host + " " + label
	}
	return label
}

// palette is the Okabe-Ito set of eight colours, which people with the
// common forms of colour blindness can tell apart. Yellow comes last
// because it shows poorly on white.
var palette = []string{
	"#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000", "#F0E442",
}

// dashes tell apart lines that share a colour once there are more series
// than colours.
var dashes = []string{"", "8 4", "2 3", "8 3 2 3"}

// Geometry of the power chart, in SVG user units (pixels at full width).
const (
	lineChartWidth  = 800
	lineChartHeight = 340
	lineChartLeft   = 64
	lineChartRight  = lineChartWidth - 16
	lineChartTop    = 16
	lineChartBottom = lineChartHeight - 52
)

// lineChart is the geometry of the power chart.
type lineChart struct {
	Width, Height            float64
	Left, Right, Top, Bottom float64
	// XTickEnd and YTickEnd are where the tick marks outside the axes end.
	XTickEnd, YTickEnd float64
	XTicks, YTicks     []tick
	XLabel, YLabel     string
	// XLabelX is the centre of the x axis. YLabelX is the centre of the y
	// axis in the coordinates of the rotated y label, so it is negative.
	XLabelX, YLabelX float64
	Lines            []chartLine
}

// tick is one labelled position along an axis.
type tick struct {
	Pos   float64
	Label string
}

// chartLine is one component's power as an SVG polyline.
type chartLine struct {
	Label  string
	Colour string
	Dash   string
	// Points is the polyline's points attribute: "x,y x,y ...".
	Points string
	// Dot is set for a series of one point, which a polyline cannot show.
	Dot  bool
	DotX float64
	DotY float64
}

// newLineChart lays out power over elapsed time, one line per series. It
// returns nil when no series has a point.
func newLineChart(series []Series) *lineChart {
	var maxSeconds, maxWatts float64
	var plotted []Series
	for _, s := range series {
		s.Points = Downsample(finitePoints(s.Points), MaxPlotPoints)
		if len(s.Points) == 0 {
			continue
		}
		for _, p := range s.Points {
			maxSeconds = max(maxSeconds, p.ElapsedSeconds)
			maxWatts = max(maxWatts, p.PowerWatts)
		}
		plotted = append(plotted, s)
	}
	if len(plotted) == 0 {
		return nil
	}

	c := &lineChart{
		Width: lineChartWidth, Height: lineChartHeight,
		Left: lineChartLeft, Right: lineChartRight, Top: lineChartTop, Bottom: lineChartBottom,
		XTickEnd: lineChartBottom + 5, YTickEnd: lineChartLeft - 5,
		XLabelX: (lineChartLeft + lineChartRight) / 2, YLabelX: -(lineChartTop + lineChartBottom) / 2,
		YLabel: "Power (W)",
	}
	unitSeconds, unitName := timeUnit(maxSeconds)
	c.XLabel = "Elapsed time (" + unitName + ")"
	xValues, xTop := niceTicks(maxSeconds / unitSeconds)
	yValues, yTop := niceTicks(maxWatts)
	x := func(seconds float64) float64 {
		return round1(c.Left + seconds/unitSeconds/xTop*(c.Right-c.Left))
	}
	y := func(watts float64) float64 { return round1(c.Bottom - watts/yTop*(c.Bottom-c.Top)) }

	for _, v := range xValues {
		c.XTicks = append(c.XTicks, tick{Pos: x(v * unitSeconds), Label: formatTick(v, xValues)})
	}
	for _, v := range yValues {
		c.YTicks = append(c.YTicks, tick{Pos: y(v), Label: formatTick(v, yValues)})
	}
	for i, s := range plotted {
		c.Lines = append(c.Lines, newChartLine(i, s, x, y))
	}
	return c
}

func newChartLine(i int, s Series, x, y func(float64) float64) chartLine {
	label := componentLabel("", s.Kind, s.Index, s.Name)
	if !sampler.Method(s.Method).Measured() {
		label += " (estimate)"
	}
	line := chartLine{
		Label:  label,
		Colour: palette[i%len(palette)],
		Dash:   dashes[(i/len(palette))%len(dashes)],
	}
	var points strings.Builder
	for j, p := range s.Points {
		if j > 0 {
			points.WriteByte(' ')
		}
		fmt.Fprintf(&points, "%g,%g", x(p.ElapsedSeconds), y(p.PowerWatts))
	}
	line.Points = points.String()
	if len(s.Points) == 1 {
		line.Dot = true
		line.DotX, line.DotY = x(s.Points[0].ElapsedSeconds), y(s.Points[0].PowerWatts)
	}
	return line
}

// finitePoints returns points without those that an SVG coordinate cannot
// hold, leaving the caller's slice as it was.
func finitePoints(points []Point) []Point {
	return slices.DeleteFunc(slices.Clone(points), func(p Point) bool {
		return !isFinite(p.ElapsedSeconds) || !isFinite(p.PowerWatts)
	})
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// timeUnit picks seconds up to 10 minutes, minutes up to 10 hours and
// hours beyond, so tick labels stay short.
func timeUnit(maxSeconds float64) (seconds float64, name string) {
	switch {
	case maxSeconds <= 600:
		return 1, "s"
	case maxSeconds <= 36000:
		return 60, "min"
	}
	return 3600, "h"
}

// niceTicks returns ticks from 0 to top, the first multiple of the step at
// or above maxValue. The step is the smallest of 1, 2 or 5 times a power of
// ten that needs no more than maxTickIntervals intervals.
func niceTicks(maxValue float64) (ticks []float64, top float64) {
	if !(maxValue > 0) || math.IsInf(maxValue, 0) {
		maxValue = 1
	}
	const maxTickIntervals = 8
	raw := maxValue / maxTickIntervals
	magnitude := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * magnitude
	for _, m := range []float64{1, 2, 5} {
		if m*magnitude >= raw {
			step = m * magnitude
			break
		}
	}
	n := math.Ceil(maxValue/step - 1e-9)
	for i := 0.0; i <= n; i++ {
		ticks = append(ticks, i*step)
	}
	return ticks, n * step
}

// formatTick prints v with as many decimals as the step between ticks needs.
func formatTick(v float64, ticks []float64) string {
	decimals := 0
	if len(ticks) > 1 {
		decimals = max(0, int(-math.Floor(math.Log10(ticks[1]-ticks[0])+1e-9)))
	}
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// Geometry of the energy chart, in SVG user units.
const (
	barChartWidth     = 800
	barChartLabelEnd  = 250
	barChartLeft      = barChartLabelEnd + 8
	barChartRight     = barChartWidth - 100
	barChartTop       = 8
	barChartRowHeight = 24
	barHeight         = 16
	// barLabelMaxRunes keeps a label within the 250 units left of the bars
	// at the chart's 12-pixel font.
	barLabelMaxRunes = 34
)

// barChart is the geometry of the energy-by-component chart.
type barChart struct {
	Width, Height float64
	Left, Right   float64
	Top, Bottom   float64
	LabelEnd      float64
	// TickEnd is where the tick marks below the axis end.
	TickEnd float64
	Ticks   []tick
	XLabel  string
	// XLabelX is the centre of the x axis.
	XLabelX      float64
	Bars         []chartBar
	HasEstimates bool
}

// chartBar is one component's energy as a horizontal bar.
type chartBar struct {
	// Label may be shortened. Title is the full text, shown on hover.
	Label, Title string
	Value        string
	Estimated    bool
	Y, TextY     float64
	BarWidth     float64
	ValueX       float64
}

// newBarChart lays out one bar per component. It returns nil when there
// is no component.
func newBarChart(components []Component) *barChart {
	if len(components) == 0 {
		return nil
	}
	var maxKWh float64
	for _, comp := range components {
		maxKWh = max(maxKWh, comp.EnergyKWh)
	}
	perKWh, unit := energyUnit(maxKWh)
	values, top := niceTicks(maxKWh * perKWh)

	bottom := float64(barChartTop + len(components)*barChartRowHeight)
	c := &barChart{
		Width: barChartWidth, Height: bottom + 40,
		Left: barChartLeft, Right: barChartRight, Top: barChartTop, Bottom: bottom,
		LabelEnd: barChartLabelEnd, TickEnd: bottom + 5,
		XLabel: "Energy (" + unit + ")", XLabelX: (barChartLeft + barChartRight) / 2,
	}
	x := func(v float64) float64 { return round1(c.Left + v/top*(c.Right-c.Left)) }
	for _, v := range values {
		c.Ticks = append(c.Ticks, tick{Pos: x(v), Label: formatTick(v, values)})
	}

	for i, comp := range components {
		value := max(comp.EnergyKWh*perKWh, 0)
		if !isFinite(value) {
			value = 0
		}
		title := componentLabel(comp.Host, comp.Kind, comp.Index, comp.Name)
		estimated := !sampler.Method(comp.Method).Measured()
		if estimated {
			title += " (estimate)"
			c.HasEstimates = true
		}
		rowTop := float64(barChartTop + i*barChartRowHeight)
		c.Bars = append(c.Bars, chartBar{
			Label: shorten(title, barLabelMaxRunes), Title: title,
			Value:     fmt.Sprintf("%.4g %s", value, unit),
			Estimated: estimated,
			Y:         rowTop + (barChartRowHeight-barHeight)/2,
			TextY:     rowTop + barChartRowHeight/2,
			BarWidth:  x(value) - c.Left,
			ValueX:    x(value) + 6,
		})
	}
	return c
}

// energyUnit picks the unit that keeps the largest bar's value at 1 or
// above where it can: kWh, Wh, or J for very short runs.
func energyUnit(maxKWh float64) (perKWh float64, unit string) {
	switch {
	case maxKWh >= 1:
		return 1, "kWh"
	case maxKWh >= 0.001:
		return 1000, "Wh"
	}
	return 3.6e6, "J"
}

// shorten cuts s to at most n runes, ending it with an ellipsis when cut.
func shorten(s string, n int) string {
	runes := []rune(s)
	if len(runes) <= n {
		return s
	}
	return string(runes[:n-1]) + "…"
}

// htmlPage is the page template. It has no script and no external link;
// the Content-Security-Policy makes a browser refuse to load anything
// else, so the page looks the same offline.
const htmlPage = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color: #1a1a1a; background: #fff; max-width: 960px; margin: 0 auto;
  padding: 1rem 1.5rem 3rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.5rem; word-break: break-word; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd;
  padding-bottom: 0.2rem; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.number { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: 0.9em; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: 0.6rem; white-space: pre-wrap;
  word-break: break-word; }
.banner { background: #fff4ce; border: 2px solid #b07d00; padding: 0.6rem 0.8rem;
  font-size: 1.05rem; }
.headline { display: flex; flex-wrap: wrap; gap: 0.75rem; margin: 1rem 0; padding: 0; }
.headline div { border: 1px solid #ddd; padding: 0.5rem 0.9rem; min-width: 10rem; }
.headline dt { font-size: 0.85rem; color: #555; }
.headline dd { margin: 0; font-size: 1.3rem; font-weight: 600; }
.estimate { display: inline-block; border: 1px dashed #a04600; color: #a04600;
  font-size: 0.8rem; padding: 0 0.3rem; margin-left: 0.3rem; }
svg.chart { width: 100%; height: auto; max-width: 800px; display: block; }
svg.chart text { font-size: 12px; fill: #1a1a1a; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 0.3rem 1.2rem; }
.legend svg { vertical-align: middle; margin-right: 0.3rem; }
footer { margin-top: 2rem; color: #555; font-size: 0.9rem; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{if .Checkpoint}}<p class="banner" role="alert"><strong>Checkpoint:</strong> the run was still going
when this report was written, so its figures cover only the first {{.Duration}}.</p>
{{end}}
<dl class="headline">
{{- range .Headline}}<div><dt>{{.Label}}</dt><dd>{{.Value}}</dd></div>{{end -}}
</dl>

<h2>Summary</h2>
<table>
{{range .Summary}}<tr><th scope="row">{{.Label}}</th><td>
	{{- if .Code}}<code>{{.Value}}</code>{{else}}{{.Value}}{{end}}</td></tr>
{{end}}</table>

<h2>Components</h2>
{{if .Components}}<table>
<tr><th>Kind</th><th>Index</th><th>Name</th><th>Method</th><th>Energy (kWh)</th>
<th>Mean power (W)</th><th>Max power (W)</th><th>Detail</th></tr>
{{range .Components}}<tr><td>{{.Kind}}</td><td class="number">{{.Index}}</td>
<td>{{if .Host}}{{.Host}}: {{end}}{{.Name}}</td>
<td><code title="{{.MethodDescription}}">{{.Method}}</code>
	{{- if .Estimated}}<span class="estimate">estimate</span>{{end}}</td>
<td class="number">{{.EnergyKWh}}</td><td class="number">{{.MeanPowerWatts}}</td>
<td class="number">{{.MaxPowerWatts}}</td><td>{{.Detail}}</td></tr>
{{end}}</table>
{{else}}<p>No component was measured or estimated.</p>
{{end}}
<h2>Power over time</h2>
{{with .PowerChart}}{{template "linechart" .}}{{else}}<p>This report has no power samples,
so it shows no power chart: merged reports have none, and a single-node report takes them
from its samples.csv.</p>
{{end}}
<h2>Energy by component</h2>
{{with .EnergyChart}}{{template "barchart" .}}{{else}}<p>No component was measured or estimated.</p>
{{end}}
<h2>Compute statement</h2>
<pre>{{.Statement}}</pre>

<h2>Hugging Face model card</h2>
<p>Paste into the YAML header of the model card:</p>
<pre>{{.ModelCard}}</pre>
{{if .Warnings}}
<h2>Warnings</h2>
<ul>
{{range .Warnings}}<li>{{.}}</li>
{{end}}</ul>
{{end}}{{if .DataSources}}
<h2>Data sources</h2>
<table>
<tr><th>What</th><th>Value</th><th>Source</th><th>Year</th></tr>
{{range .DataSources}}<tr><td>{{.What}}</td><td>{{.Value}}</td><td>{{.Source}}</td>
<td>{{if .Year}}{{.Year}}{{end}}</td></tr>
{{end}}</table>
{{end}}
<footer>Written by {{.Tool}}.</footer>
</body>
</html>
{{define "linechart"}}<svg class="chart" viewBox="0 0 {{.Width}} {{.Height}}" role="img"
  aria-labelledby="power-chart-title">
<title id="power-chart-title">Power of each component over elapsed time</title>
<g stroke="#e4e4e4" stroke-width="1">
{{- range .YTicks}}<line x1="{{$.Left}}" y1="{{.Pos}}" x2="{{$.Right}}" y2="{{.Pos}}"/>{{end -}}
</g>
<g stroke="#1a1a1a" stroke-width="1">
<line x1="{{.Left}}" y1="{{.Top}}" x2="{{.Left}}" y2="{{.Bottom}}"/>
<line x1="{{.Left}}" y1="{{.Bottom}}" x2="{{.Right}}" y2="{{.Bottom}}"/>
{{range .XTicks}}<line x1="{{.Pos}}" y1="{{$.Bottom}}" x2="{{.Pos}}" y2="{{$.XTickEnd}}"/>{{end}}
{{range .YTicks}}<line x1="{{$.YTickEnd}}" y1="{{.Pos}}" x2="{{$.Left}}" y2="{{.Pos}}"/>{{end}}
</g>
{{range .YTicks -}}
<text x="{{$.Left}}" y="{{.Pos}}" dx="-6" dy="0.32em" text-anchor="end">{{.Label}}</text>
{{end}}{{range .XTicks -}}
<text x="{{.Pos}}" y="{{$.Bottom}}" dy="18" text-anchor="middle">{{.Label}}</text>
{{end -}}
<text x="{{.XLabelX}}" y="{{.Height}}" dy="-10" text-anchor="middle">{{.XLabel}}</text>
<text transform="rotate(-90)" x="{{.YLabelX}}" y="16" text-anchor="middle">{{.YLabel}}</text>
<g fill="none" stroke-width="2" stroke-linejoin="round">
{{range .Lines}}<polyline points="{{.Points}}" stroke="{{.Colour}}"
	{{- if .Dash}} stroke-dasharray="{{.Dash}}"{{end}}><title>{{.Label}}</title></polyline>
{{if .Dot}}<circle cx="{{.DotX}}" cy="{{.DotY}}" r="3" fill="{{.Colour}}"/>
{{end}}{{end}}</g>
</svg>
<ul class="legend">
{{range .Lines}}<li><svg width="28" height="10" aria-hidden="true">
<line x1="0" y1="5" x2="28" y2="5" stroke="{{.Colour}}" stroke-width="3"
	{{- if .Dash}} stroke-dasharray="{{.Dash}}"{{end}}/></svg>{{.Label}}</li>
{{end}}</ul>
{{end}}
{{define "barchart"}}<svg class="chart" viewBox="0 0 {{.Width}} {{.Height}}" role="img"
  aria-labelledby="energy-chart-title">
<title id="energy-chart-title">Energy of each component</title>
<defs><pattern id="estimate-hatch" width="6" height="6" patternUnits="userSpaceOnUse"
  patternTransform="rotate(45)">
<rect width="6" height="6" fill="#E69F00" fill-opacity="0.3"/>
<line x1="0" y1="0" x2="0" y2="6" stroke="#E69F00" stroke-width="3"/>
</pattern></defs>
<g stroke="#e4e4e4" stroke-width="1">
{{- range .Ticks}}<line x1="{{.Pos}}" y1="{{$.Top}}" x2="{{.Pos}}" y2="{{$.Bottom}}"/>{{end -}}
</g>
{{range .Bars}}<g><title>{{.Title}}: {{.Value}}</title>
<text x="{{$.LabelEnd}}" y="{{.TextY}}" dy="0.32em" text-anchor="end">{{.Label}}</text>
{{if .Estimated -}}
<rect x="{{$.Left}}" y="{{.Y}}" width="{{.BarWidth}}" height="16" fill="url(#estimate-hatch)"
  stroke="#E69F00"/>
{{else -}}
<rect x="{{$.Left}}" y="{{.Y}}" width="{{.BarWidth}}" height="16" fill="#0072B2"/>
{{end -}}
<text x="{{.ValueX}}" y="{{.TextY}}" dy="0.32em">{{.Value}}</text></g>
{{end}}<g stroke="#1a1a1a" stroke-width="1">
<line x1="{{.Left}}" y1="{{.Top}}" x2="{{.Left}}" y2="{{.Bottom}}"/>
<line x1="{{.Left}}" y1="{{.Bottom}}" x2="{{.Right}}" y2="{{.Bottom}}"/>
{{range .Ticks}}<line x1="{{.Pos}}" y1="{{$.Bottom}}" x2="{{.Pos}}" y2="{{$.TickEnd}}"/>{{end}}
</g>
{{range .Ticks -}}
<text x="{{.Pos}}" y="{{$.Bottom}}" dy="16" text-anchor="middle">{{.Label}}</text>
{{end -}}
<text x="{{.XLabelX}}" y="{{.Height}}" dy="-6" text-anchor="middle">{{.XLabel}}</text>
</svg>
{{if .HasEstimates}}<ul class="legend">
<li><svg width="16" height="10" aria-hidden="true"><rect width="16" height="10" fill="#0072B2"/>
</svg>measured</li>
<li><svg width="16" height="10" aria-hidden="true"><rect width="16" height="10" fill="#E69F00"
  fill-opacity="0.3" stroke="#E69F00"/></svg>estimate</li>
</ul>
{{end}}{{end}}`
