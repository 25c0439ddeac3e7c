// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/term"

	"github.com/carbonrun/carbonrun/internal/grid"
	"github.com/carbonrun/carbonrun/internal/jobid"
	"github.com/carbonrun/carbonrun/internal/machine"
	"github.com/carbonrun/carbonrun/internal/units"
	"github.com/carbonrun/carbonrun/internal/version"
	"github.com/carbonrun/carbonrun/report"
	"github.com/carbonrun/carbonrun/sampler"
)

// run is carbon-run from flags to exit code.
func run(args []string) int {
	cfg, err := parseFlags(args, os.Getenv, os.Stderr)
	switch {
	case errors.Is(err, errHelp):
		return 0
	case err != nil:
		fmt.Fprintf(os.Stderr, "carbon-run: %v\n", err)
		return exitUsage
	case cfg.version:
		fmt.Printf("carbon-run %s\n", version.Version)
		return 0
	}

	log := newLogger(cfg)
	defer log.Sync() //nolint:errcheck // stderr sync fails on terminals
	warn := sampler.NewWarnings(log)

	site, err := resolveSite(cfg, warn)
	if err != nil {
		fmt.Fprintf(os.Stderr, "carbon-run: %v\n", err)
		return exitUsage
	}
	if cfg.agent != "" {
		return runWithAgent(cfg, site, log)
	}

	job, err := newJob(cfg, site, log, warn)
	if err != nil {
		fmt.Fprintf(os.Stderr, "carbon-run: %v\n", err)
		return exitSetup
	}
	defer job.close()
	return job.run()
}

// resolveSite turns --region, --carbon-intensity and --pue into the grid
// intensity and PUE of the report.
func resolveSite(cfg *config, warn *sampler.Warnings) (grid.Site, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	site, err := grid.Resolve(ctx, grid.Options{
		Region:          cfg.region,
		CarbonIntensity: cfg.carbonIntensity,
		PUE:             cfg.pue,
		APIURL:          cfg.intensityAPIURL,
		APIKey:          cfg.intensityAPIKey,
		Offline:         cfg.offline,
	})
	var unknown *grid.UnknownRegionError
	if errors.As(err, &unknown) {
		return grid.Site{}, fmt.Errorf("invalid --region: %w", err)
	}
	if err != nil {
		return grid.Site{}, err
	}
	for _, w := range site.Warnings {
		warn.Add(w)
	}
	return site, nil
}

// reportDir picks <report-dir>/<job-id>, adding a numeric suffix when an
// earlier run already left a report there, so no report is overwritten.
func reportDir(cfg *config) (string, string, error) {
	id := cfg.jobID
	if id == "" {
		id = jobid.Default(os.Getenv("SLURM_JOB_ID"), os.Getenv("SLURM_STEP_ID"), time.Now(), os.Getpid())
	}
	id = jobid.Sanitize(id)
	base := id
	for n := 2; ; n++ {
		dir := filepath.Join(cfg.reportDir, id)
		if _, err := os.Stat(filepath.Join(dir, report.JSONFile)); errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return "", "", fmt.Errorf("cannot create report directory %s: %w "+
					"(choose another with --report-dir)", dir, err)
			}
			return id, dir, nil
		}
		id = fmt.Sprintf("%s.%d", base, n)
	}
}

// newLogger builds the zap logger on stderr. --quiet keeps warnings and errors.
func newLogger(cfg *config) *zap.Logger {
	level := zapcore.InfoLevel
	if cfg.quiet {
		level = zapcore.WarnLevel
	}
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	var enc zapcore.Encoder
	if cfg.logFormat == "json" {
		enc = zapcore.NewJSONEncoder(encCfg)
	} else {
		encCfg.EncodeLevel = zapcore.CapitalLevelEncoder
		encCfg.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05")
		enc = zapcore.NewConsoleEncoder(encCfg)
	}
	core := zapcore.NewCore(enc, zapcore.Lock(os.Stderr), level)
	return zap.New(core).Named("carbon-run")
}

// stderrIsTerminal reports whether a live status line makes sense.
func stderrIsTerminal() bool { return term.IsTerminal(int(os.Stderr.Fd())) }

// machineOptions maps the flags onto the machine's sources.
func machineOptions(cfg *config, log *zap.Logger, warn *sampler.Warnings) machine.Options {
	return machine.Options{
		SysfsRoot:  cfg.sysfs,
		ProcfsRoot: cfg.procfs,
		CPUTDP:     units.Watts(cfg.cpuTDPWatts),
		Env:        lookupEnv,
		Log:        log,
		Warn:       warn,
	}
}
