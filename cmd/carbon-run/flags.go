// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// config holds the parsed command line.
type config struct {
	region             string
	carbonIntensity    float64
	pue                float64
	interval           time.Duration
	checkpointInterval time.Duration
	reportDir          string
	jobID              string
	trackingMode       string
	sysfs              string
	procfs             string
	cpuTDPWatts        float64
	quiet              bool
	logFormat          string
	version            bool
	agent              string
	offline            bool
	intensityAPIURL    string
	intensityAPIKey    string
	command            []string
}

// errHelp reports that --help was given; the usage is already printed.
var errHelp = errors.New("help requested")

const usageHead = `carbon-run measures the energy and CO2e of a command while it runs.

Usage:
  carbon-run [flags] -- COMMAND [ARGS...]

Examples:
  carbon-run --region FR -- python train.py
  carbon-run --region aws:us-east-1 --job-id bert-base -- torchrun --nproc-per-node 8 train.py
  CUDA_VISIBLE_DEVICES=0,1 carbon-run --region US-CA --tracking-mode process -- ./train.sh
  carbon-run --carbon-intensity 52 --pue 1.2 --interval 5s -- go run ./scripts/demo-train

The report goes to <report-dir>/<job-id>/ as report.json, report.md and
samples.csv. carbon-run exits with the command's exit code (128+N when
signal N killed it) and 2 when its own flags are invalid.

Flags (each also read from CARBONRUN_<FLAG> in the environment):
`

// parseFlags parses args into a config. Values from CARBONRUN_* environment
// variables are defaults that flags override.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := pflag.NewFlagSet("carbon-run", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SetInterspersed(false)

	fs.StringVar(&c.region, "region", "", "grid region: ISO 3166 code (FR, US-CA) or cloud region "+
		"(aws:us-east-1, gcp:europe-west4, azure:westeurope); default: world average with a warning")
	fs.Float64Var(&c.carbonIntensity, "carbon-intensity", 0,
		"grid carbon intensity in gCO2e/kWh; overrides the region's table value")
	fs.Float64Var(&c.pue, "pue", 0, "power usage effectiveness of the facility (>= 1.0); "+
		"default: the cloud provider's published PUE, else 1.0 with a warning")
	fs.DurationVar(&c.interval, "interval", time.Second, "time between energy readings")
	fs.DurationVar(&c.checkpointInterval, "checkpoint-interval", 30*time.Second,
		"time between checkpoint reports; a SIGKILL loses at most this much")
	fs.StringVar(&c.reportDir, "report-dir", "./carbon-reports", "directory that receives <job-id>/report.json")
	fs.StringVar(&c.jobID, "job-id", "", "job id, the report's directory name (default: "+
		"SLURM_JOB_ID, else a UTC time stamp and process id); unsafe characters become '_'")
	fs.StringVar(&c.trackingMode, "tracking-mode", "machine", "machine: all CPU energy of the host; "+
		"process: CPU and memory energy shared by the command's CPU time")
	fs.StringVar(&c.sysfs, "sysfs", "/sys", "sysfs mount point, for the powercap RAPL counters")
	fs.StringVar(&c.procfs, "procfs", "/proc", "procfs mount point, for CPU times and the CPU model")
	fs.Float64Var(&c.cpuTDPWatts, "cpu-tdp", 0, "CPU package TDP in watts for the utilisation x TDP "+
		"estimate where RAPL is unavailable (default: catalog by CPU model)")
	fs.BoolVarP(&c.quiet, "quiet", "q", false, "no live status line and no summary; warnings still print")
	fs.StringVar(&c.logFormat, "log-format", "console", "log format on stderr: console or json")
	fs.BoolVar(&c.version, "version", false, "print the version and exit")
	fs.StringVar(&c.agent, "agent", "", "register the command with a running carbon-agent at this "+
		"address (host:port or unix:/path) instead of sampling here")
	fs.BoolVar(&c.offline, "offline", false, "make no network calls (the intensity API is skipped)")
	fs.StringVar(&c.intensityAPIURL, "intensity-api-url", "", "base URL of an Electricity Maps "+
		"compatible API for live grid intensity")
	fs.StringVar(&c.intensityAPIKey, "intensity-api-key", "", "API key for --intensity-api-url")
	help := fs.BoolP("help", "h", false, "show this help")

	if err := applyEnv(fs, getenv); err != nil {
		return nil, err
	}
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%w (see carbon-run --help)", err)
	}
	if *help {
		fmt.Fprint(stderr, usageHead+fs.FlagUsages())
		return nil, errHelp
	}
	if c.version {
		return c, nil
	}
	c.command = fs.Args()
	return c, c.validate(func(name string) bool {
		return fs.Changed(name) || getenv(envName(name)) != ""
	})
}

// applyEnv sets each flag from CARBONRUN_<NAME> when that variable is set.
func applyEnv(fs *pflag.FlagSet, getenv func(string) string) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Name == "help" {
			return
		}
		name := envName(f.Name)
		if v := getenv(name); v != "" {
			if setErr := f.Value.Set(v); setErr != nil {
				err = fmt.Errorf("invalid %s=%q: %w", name, v, setErr)
			}
		}
	})
	return err
}

// envName is the environment variable that sets flag name.
func envName(flag string) string {
	return "CARBONRUN_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func (c *config) validate(changed func(string) bool) error {
	if !changed("checkpoint-interval") && c.checkpointInterval < c.interval {
		// A long --interval alone should not trip the default checkpoint.
		c.checkpointInterval = c.interval
	}
	switch {
	case len(c.command) == 0:
		return errors.New("no command given: put it after --, as in carbon-run -- python train.py")
	case c.interval < 10*time.Millisecond:
		return fmt.Errorf("invalid --interval %s: use 10ms or more, such as 1s", c.interval)
	case c.checkpointInterval < c.interval:
		return fmt.Errorf("invalid --checkpoint-interval %s: use at least --interval (%s)",
			c.checkpointInterval, c.interval)
	case c.trackingMode != "machine" && c.trackingMode != "process":
		return fmt.Errorf("invalid --tracking-mode %q: use machine or process", c.trackingMode)
	case c.logFormat != "console" && c.logFormat != "json":
		return fmt.Errorf("invalid --log-format %q: use console or json", c.logFormat)
	case strings.TrimSpace(c.reportDir) == "":
		return errors.New("invalid --report-dir \"\": name a directory, such as ./carbon-reports")
	case c.intensityAPIURL != "" && c.intensityAPIKey == "":
		return errors.New("--intensity-api-url needs --intensity-api-key: give both, or neither to use " +
			"the embedded table")
	}
	for _, q := range []struct {
		flag, unit, example string
		value, low, high    float64
	}{
		// The upper bounds are far above any real value and only catch typos
		// and overflow: the dirtiest grids are near 1,100 gCO2e/kWh, PUE
		// surveys stay under 3, and no CPU package draws 10 kW.
		{"--carbon-intensity", "gCO2e/kWh", "56", c.carbonIntensity, 0, 3000},
		{"--pue", "(facility energy / IT energy)", "1.2", c.pue, 1, 10},
		{"--cpu-tdp", "W", "65", c.cpuTDPWatts, 0, 10000},
	} {
		if !changed(strings.TrimPrefix(q.flag, "--")) {
			continue
		}
		// PUE 1.0 is valid (no facility overhead); zero intensity or TDP is not.
		tooLow, bounds := q.value <= q.low, fmt.Sprintf("above %g and at most %g", q.low, q.high)
		if q.flag == "--pue" {
			tooLow, bounds = q.value < q.low, fmt.Sprintf("from %g to %g", q.low, q.high)
		}
		if math.IsNaN(q.value) || tooLow || q.value > q.high {
			return fmt.Errorf("invalid %s %g: give a value %s %s, such as %s",
				q.flag, q.value, bounds, q.unit, q.example)
		}
	}
	return nil
}

// lookupEnv adapts os.LookupEnv for the sources.
func lookupEnv(name string) (string, bool) { return os.LookupEnv(name) }
