// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
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

	site, err := resolveSite(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "carbon-run: %v\n", err)
		return exitUsage
	}
	// A missing command is reported before any source is opened or any
	// directory is created.
	if _, err := exec.LookPath(cfg.command[0]); err != nil {
		fmt.Fprintf(os.Stderr, "carbon-run: %v\n", lookPathError(cfg.command[0], err))
		return lookPathExitCode(cfg.command[0], err)
	}
	if cfg.agent != "" {
		return runWithAgent(cfg, site, log, warn)
	}
	addSiteWarnings(site, warn)

	job, err := newJob(cfg, site, log, warn)
	if err != nil {
		fmt.Fprintf(os.Stderr, "carbon-run: %v\n", err)
		return exitUsage
	}
	defer job.close()
	return job.run()
}

// resolveSite turns --region, --carbon-intensity and --pue into the grid
// intensity and PUE of the report.
func resolveSite(cfg *config) (grid.Site, error) {
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
	return site, nil
}

// addSiteWarnings records the site's warnings (world average used, PUE not
// counted) for a report whose figures use that site.
func addSiteWarnings(site grid.Site, warn *sampler.Warnings) {
	for _, w := range site.Warnings {
		warn.Add(w)
	}
}

// reportDir claims <report-dir>/<job-id>, adding a numeric suffix (.2, .3,
// ...) when that directory already exists, from an earlier run or one
// running now, so no report is overwritten. A job id changed by sanitising or by the suffix is logged
// as a warning, because scripts look for the directory by its name.
func reportDir(cfg *config, warn *sampler.Warnings) (string, string, error) {
	requested := cfg.jobID
	if requested == "" {
		requested = jobid.Default(os.Getenv("SLURM_JOB_ID"), os.Getenv("SLURM_STEP_ID"), time.Now(), os.Getpid())
	}
	base := jobid.Sanitize(requested)
	if err := os.MkdirAll(cfg.reportDir, 0o755); err != nil {
		return "", "", fmt.Errorf("invalid --report-dir %s: %w (choose a writable directory)",
			cfg.reportDir, err)
	}
	id := base
	for n := 2; ; n++ {
		// Mkdir fails on an existing directory, so two runs with the same
		// id, such as the nodes of one Slurm step on a shared file system,
		// each claim a directory of their own.
		dir := filepath.Join(cfg.reportDir, id)
		err := os.Mkdir(dir, 0o755)
		if errors.Is(err, fs.ErrExist) {
			id = fmt.Sprintf("%s.%d", base, n)
			continue
		}
		if err != nil {
			return "", "", fmt.Errorf("invalid --report-dir %s: %w (choose a writable directory)",
				cfg.reportDir, err)
		}
		if id != requested {
			warn.Add(fmt.Sprintf("job id %q is written as %q (only A-Z a-z 0-9 . _ - are kept, "+
				"and an existing report is never overwritten)", requested, id))
		}
		return id, dir, nil
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
