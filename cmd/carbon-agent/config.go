// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/carbonrun/carbonrun/internal/agent"
	"github.com/carbonrun/carbonrun/internal/grid"
)

// envPrefix starts the environment variable of every flag:
// --job-retention is CARBONRUN_JOB_RETENTION.
const envPrefix = "CARBONRUN_"

// Limits of the numeric flags. Values beyond them are taken for typos.
const (
	// minInterval keeps rounds, which read every source and the process
	// table, from running back to back.
	minInterval = 10 * time.Millisecond
	// maxPUE is the largest accepted PUE. At 10, nine tenths of the
	// facility's power would be overhead, while the embedded industry
	// average is 1.56.
	maxPUE = 10
	// maxCarbonIntensity in g CO2e/kWh is more than twice the highest
	// figure of the embedded region table (1306, Turkmenistan, 2022).
	maxCarbonIntensity = 3000
)

// config is the parsed command line.
type config struct {
	listen string
	// listenExplicit is true when --listen or CARBONRUN_LISTEN was set,
	// which allows a non-loopback address.
	listenExplicit  bool
	sysfs           string
	procfs          string
	interval        time.Duration
	region          string
	carbonIntensity float64
	pue             float64
	reportDir       string
	stateDir        string
	logFormat       string
	jobRetention    time.Duration
	version         bool
}

// parseConfig parses args. Each flag's default comes from its
// CARBONRUN_<FLAG> environment variable when set; the command line wins.
func parseConfig(args []string, env func(string) (string, bool), stderr io.Writer) (config, error) {
	var cfg config
	fs := pflag.NewFlagSet("carbon-agent", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.listen, "listen", agent.DefaultListen,
		"address of the job API and /metrics: host:port, or unix:/path for a Unix socket (mode 0660); "+
			"a non-loopback address must be given explicitly")
	fs.StringVar(&cfg.sysfs, "sysfs", "/sys", "sysfs mount point, read for RAPL powercap zones and cgroups")
	fs.StringVar(&cfg.procfs, "procfs", "/proc", "procfs mount point, read for process and machine CPU time")
	fs.DurationVar(&cfg.interval, "interval", agent.DefaultInterval, "time between sampling rounds, at least 10ms")
	fs.StringVar(&cfg.region, "region", "",
		"grid region for the carbon intensity, such as FR, US-CA or aws:us-east-1 (default: world average)")
	fs.Float64Var(&cfg.carbonIntensity, "carbon-intensity", 0,
		"grid carbon intensity in g CO2e/kWh, above 0 and at most 3000, overriding the region's "+
			"(default: the region's)")
	fs.Float64Var(&cfg.pue, "pue", 0,
		"facility power usage effectiveness, from 1 to 10 (default: the cloud provider's published PUE, else 1)")
	fs.StringVar(&cfg.reportDir, "report-dir", "/var/lib/carbonrun/reports",
		"directory that receives <job-id>/report.json for every ended job, and for every open job at "+
			"shutdown; a job id whose directory holds an earlier job's report gets <job-id>.2, .3, ...")
	fs.StringVar(&cfg.stateDir, "state-dir", "/var/lib/carbonrun/state",
		"directory of the checkpoint that keeps open jobs open across an agent restart")
	fs.StringVar(&cfg.logFormat, "log-format", "console", "log format: console or json")
	fs.DurationVar(&cfg.jobRetention, "job-retention", agent.DefaultJobRetention,
		"how long an ended job's metrics series and id are kept")
	fs.BoolVar(&cfg.version, "version", false, "print the version and exit")

	if err := applyEnv(fs, env); err != nil {
		return config{}, err
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q: carbon-agent takes only flags", fs.Arg(0))
	}
	cfg.listenExplicit = fs.Changed("listen")
	if err := checkConfig(cfg, fs); err != nil {
		return config{}, err
	}
	return cfg, nil
}

// checkConfig rejects values that parse but cannot be used, so that a
// mistyped flag stops the agent before anything starts.
func checkConfig(cfg config, fs *pflag.FlagSet) error {
	if cfg.interval < minInterval {
		return fmt.Errorf("--interval %s is below the minimum of %s: use a duration such as 1s",
			cfg.interval, minInterval)
	}
	if cfg.jobRetention <= 0 {
		return fmt.Errorf("--job-retention %s is not positive: use a duration such as 5m", cfg.jobRetention)
	}
	if fs.Changed("pue") {
		if err := checkPUE(cfg.pue); err != nil {
			return err
		}
	}
	if fs.Changed("carbon-intensity") {
		if err := checkCarbonIntensity(cfg.carbonIntensity); err != nil {
			return err
		}
	}
	if cfg.region != "" {
		if _, err := grid.Lookup(cfg.region); err != nil {
			return fmt.Errorf("invalid --region: %w", err)
		}
	}
	if _, err := agent.CheckListenAddress(cfg.listen, cfg.listenExplicit); err != nil {
		return fmt.Errorf("invalid --listen: %w", err)
	}
	return nil
}

// checkPUE checks a --pue value that the user set.
func checkPUE(pue float64) error {
	const fix = "set the data centre's PUE, such as 1.2, or omit --pue to use the cloud provider's " +
		"published PUE (else 1.0)"
	switch {
	case math.IsNaN(pue) || math.IsInf(pue, 0):
		return fmt.Errorf("--pue %g is not a finite number: %s", pue, fix)
	case pue < 1:
		return fmt.Errorf("--pue %g is below 1: PUE is facility energy divided by IT energy, "+
			"so it is at least 1.0; %s", pue, fix)
	case pue > maxPUE:
		return fmt.Errorf("--pue %g is above the maximum of %d: PUE is facility energy divided by IT energy, "+
			"and %d would mean nine tenths of the power is overhead; %s", pue, maxPUE, maxPUE, fix)
	}
	return nil
}

// checkCarbonIntensity checks a --carbon-intensity value that the user set.
func checkCarbonIntensity(gramsPerKWh float64) error {
	const fix = "set the grid's intensity in g CO2e/kWh, such as 50, or omit --carbon-intensity " +
		"to use the --region figure"
	switch {
	case math.IsNaN(gramsPerKWh) || math.IsInf(gramsPerKWh, 0):
		return fmt.Errorf("--carbon-intensity %g is not a finite number: %s", gramsPerKWh, fix)
	case gramsPerKWh <= 0:
		return fmt.Errorf("--carbon-intensity %g is not positive, so no emissions would be counted: %s",
			gramsPerKWh, fix)
	case gramsPerKWh > maxCarbonIntensity:
		return fmt.Errorf("--carbon-intensity %g is above the maximum of %d g CO2e/kWh: check that the "+
			"value is in grams per kWh, not per MWh; %s", gramsPerKWh, maxCarbonIntensity, fix)
	}
	return nil
}

// applyEnv sets each flag that has an environment variable, before the
// command line is parsed.
func applyEnv(fs *pflag.FlagSet, env func(string) (string, bool)) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		name := envPrefix + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		value, ok := env(name)
		if !ok || err != nil {
			return
		}
		if setErr := fs.Set(f.Name, value); setErr != nil {
			err = fmt.Errorf("invalid %s=%q: %w", name, value, setErr)
		}
	})
	return err
}

// newLogger returns a logger at Info level writing to w in the given format.
func newLogger(format string, w io.Writer) (*zap.Logger, error) {
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	var encoder zapcore.Encoder
	switch format {
	case "console":
		enc.EncodeLevel = zapcore.CapitalLevelEncoder
		encoder = zapcore.NewConsoleEncoder(enc)
	case "json":
		encoder = zapcore.NewJSONEncoder(enc)
	default:
		return nil, fmt.Errorf("--log-format %q is not supported: use console or json", format)
	}
	sink := zapcore.Lock(zapcore.AddSync(w))
	return zap.New(zapcore.NewCore(encoder, sink, zap.InfoLevel)), nil
}
