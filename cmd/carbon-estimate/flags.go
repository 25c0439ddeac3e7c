// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/carbonrun/carbonrun/estimator"
)

// options holds the parsed command line.
type options struct {
	params, activeParams, tokens, flops float64
	hfConfig                            string
	hardware                            string
	count                               int
	precision                           string
	mfu, powerFraction, powerCap        float64
	gpuHours, hours, powerWatts         float64
	region                              string
	carbonIntensity, pue                float64
	lifeYears                           float64
	format                              string
	compare                             []string
	recommend                           bool
	version                             bool
	runsFile                            string

	// changed reports a flag set on the command line or from its
	// CARBONRUN_ variable.
	changed func(name string) bool
	// onCommandLine lists the flags set on the command line, without the
	// ones filled from the environment.
	onCommandLine []string
}

// maxInput caps every numeric flag. The largest training runs are near
// 1e26 FLOPs, so a larger value is a typing error, and capping the inputs
// keeps the products of the model inside float64 range.
const maxInput = 1e30

// quantity is a float flag that accepts SI-style suffixes: 7B, 2T, 1.5e12.
type quantity struct{ v *float64 }

var suffixes = map[byte]float64{'K': 1e3, 'M': 1e6, 'B': 1e9, 'G': 1e9, 'T': 1e12, 'P': 1e15}

func (q quantity) String() string {
	if q.v == nil || *q.v == 0 {
		return ""
	}
	return strconv.FormatFloat(*q.v, 'g', -1, 64)
}

func (q quantity) Set(s string) error {
	s = strings.TrimSpace(s)
	scale := 1.0
	if n := len(s); n > 0 {
		if f, ok := suffixes[strings.ToUpper(s[n-1:])[0]]; ok {
			scale, s = f, s[:n-1]
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("want a number such as 7e9 or 7B")
	}
	*q.v = v * scale
	return nil
}

func (q quantity) Type() string { return "number" }

func newFlagSet(o *options, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("carbon-estimate", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false

	fs.Var(quantity{&o.params}, "params", "total parameter count, e.g. 7e9 or 7B")
	fs.Var(quantity{&o.activeParams}, "active-params",
		"parameters active per token, for mixture-of-experts models (default: --params)")
	fs.StringVar(&o.hfConfig, "hf-config", "",
		"Hugging Face config.json to count total and active parameters from")
	fs.Var(quantity{&o.tokens}, "tokens", "training tokens, e.g. 2e12 or 2T")
	fs.Var(quantity{&o.flops}, "flops",
		"training FLOPs (default: 6 x active params x tokens)")
	fs.StringVar(&o.hardware, "hardware", "",
		"accelerator catalog name, case-insensitive, e.g. H100, A100-80GB, \"TPU v3\"")
	fs.IntVar(&o.count, "count", 0, "number of accelerators used at the same time")
	fs.StringVar(&o.precision, "precision", "",
		"fp32, tf32, bf16, fp16 or fp8 (default bf16, else fp16, else fp32)")
	fs.Float64Var(&o.mfu, "mfu", 0,
		"model FLOPs utilisation in (0, 1] (default from published runs of the class)")
	fs.Float64Var(&o.powerFraction, "power-fraction", 0,
		"mean power per accelerator over its TDP, in (0, 1.5]; above 1 when it includes the "+
			"host's share (CPU, memory), as in the measured published runs behind the default "+
			"(default 0.90, range 0.59-1.18)")
	fs.Float64Var(&o.powerCap, "power-cap", 0, "power limit as a fraction of TDP in (0, 1]")
	fs.Float64Var(&o.gpuHours, "gpu-hours", 0,
		"accelerator-hours, replacing the FLOPs-based hours")
	fs.Float64Var(&o.hours, "hours", 0,
		"wall-clock hours; with --count gives accelerator-hours, with --power-watts the energy")
	fs.Float64Var(&o.powerWatts, "power-watts", 0,
		"mean power per device in watts, replacing TDP x power fraction")
	fs.StringVar(&o.region, "region", "",
		"grid region: ISO code (FR, US-CA) or cloud region (aws:us-east-1); default world average")
	fs.Float64Var(&o.carbonIntensity, "carbon-intensity", 0,
		"grid carbon intensity in g CO2e/kWh, overriding --region")
	fs.Float64Var(&o.pue, "pue", 0,
		"data-centre PUE, at least 1 (default: the cloud provider's, else 1.0)")
	fs.Float64Var(&o.lifeYears, "hardware-life", 0,
		"years over which embodied emissions are spread (default 5)")
	fs.StringVar(&o.format, "format", "text", "output format: text, json or csv")
	fs.StringArrayVar(&o.compare, "compare", nil,
		"what-if change key=value, repeatable: precision, hardware, count, mfu, "+
			"power-fraction, power-cap, tokens, params, region, pue, carbon-intensity")
	fs.BoolVar(&o.recommend, "recommend", false, "print the changes that save the most emissions")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.StringVar(&o.runsFile, "runs", "",
		"CSV of runs to estimate in one batch (one row per run)")
	return fs
}

// parseFlags parses args, fills unset flags from CARBONRUN_<FLAG> variables
// and checks every value; every error names the flag.
func parseFlags(args []string, env func(string) (string, bool), stderr io.Writer) (options, error) {
	var o options
	fs := newFlagSet(&o, stderr)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.version {
		return o, nil
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q: every input is a flag", fs.Arg(0))
	}
	fs.Visit(func(f *pflag.Flag) { o.onCommandLine = append(o.onCommandLine, f.Name) })
	var envErr error
	fs.VisitAll(func(f *pflag.Flag) {
		name := "CARBONRUN_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v, ok := env(name)
		if !ok || f.Changed || f.Name == "compare" || envErr != nil {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			envErr = fmt.Errorf("invalid %s %q: %w", name, v, err)
		}
	})
	if envErr != nil {
		return o, envErr
	}
	o.changed = func(name string) bool { return fs.Changed(name) }
	return o, o.check()
}

func (o options) check() error {
	positive := []struct {
		name  string
		value float64
	}{
		{"params", o.params}, {"active-params", o.activeParams}, {"tokens", o.tokens},
		{"flops", o.flops}, {"count", float64(o.count)}, {"mfu", o.mfu},
		{"power-fraction", o.powerFraction}, {"power-cap", o.powerCap},
		{"gpu-hours", o.gpuHours}, {"hours", o.hours}, {"power-watts", o.powerWatts},
		{"carbon-intensity", o.carbonIntensity}, {"hardware-life", o.lifeYears},
	}
	for _, p := range positive {
		if o.changed(p.name) && (p.value <= 0 || math.IsNaN(p.value) || math.IsInf(p.value, 0)) {
			return fmt.Errorf("invalid --%s %v: must be a positive number", p.name, p.value)
		}
		if p.value > maxInput {
			return fmt.Errorf("invalid --%s %g: must be at most %g", p.name, p.value, maxInput)
		}
	}
	if o.changed("pue") && (o.pue < 1 || o.pue > maxInput || math.IsNaN(o.pue)) {
		return fmt.Errorf("invalid --pue %v: must be at least 1 (facility energy / IT energy) "+
			"and at most %g", o.pue, maxInput)
	}
	if o.mfu > 1 {
		return fmt.Errorf("invalid --mfu %v: must be in (0, 1]", o.mfu)
	}
	if o.powerFraction > estimator.MaxPowerFraction {
		return fmt.Errorf("invalid --power-fraction %v: must be in (0, %g]; the fraction is "+
			"mean power per accelerator over its TDP, host share included", o.powerFraction,
			estimator.MaxPowerFraction)
	}
	if o.powerCap > 1 {
		return fmt.Errorf("invalid --power-cap %v: must be a fraction of TDP in (0, 1]", o.powerCap)
	}
	if o.params > 0 && o.activeParams > o.params {
		return fmt.Errorf("invalid --active-params %g: more than --params %g", o.activeParams, o.params)
	}
	switch o.format {
	case "text", "json", "csv":
	default:
		return fmt.Errorf("invalid --format %q: use text, json or csv", o.format)
	}
	return o.checkCombination()
}

func (o options) checkCombination() error {
	if o.hfConfig != "" && (o.changed("params") || o.changed("active-params")) {
		return fmt.Errorf("give --hf-config or --params/--active-params, not both")
	}
	if o.gpuHours > 0 && o.hours > 0 {
		return fmt.Errorf("give --gpu-hours or --hours, not both")
	}
	if o.powerWatts > 0 && o.gpuHours == 0 && o.hours == 0 {
		return fmt.Errorf("--power-watts needs --hours (or --gpu-hours) to give an energy")
	}
	if o.runsFile != "" {
		return o.checkBatchFlags()
	}
	if o.hardware == "" && o.powerWatts == 0 {
		return fmt.Errorf("missing --hardware: name the accelerator (e.g. --hardware H100), " +
			"or give --power-watts with --hours")
	}
	return nil
}

// batchFlags lists the flags that apply to a --runs batch: the site flags
// fill in rows without pue or intensity, and --format picks the output.
var batchFlags = []string{"runs", "region", "carbon-intensity", "pue", "format"}

// checkBatchFlags rejects command-line flags that a --runs batch would
// ignore, because every row carries its own plan. Flags filled from
// CARBONRUN_ variables are left alone, as they are defaults for every run.
func (o options) checkBatchFlags() error {
	var ignored []string
	for _, name := range o.onCommandLine {
		if !slices.Contains(batchFlags, name) {
			ignored = append(ignored, "--"+name)
		}
	}
	if len(ignored) > 0 {
		return fmt.Errorf("--runs cannot be combined with %s: each row of the CSV gives its own "+
			"plan, and only --region, --carbon-intensity, --pue and --format apply to a batch",
			strings.Join(ignored, ", "))
	}
	return nil
}
