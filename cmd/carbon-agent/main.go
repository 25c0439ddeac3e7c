// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Command carbon-agent is the carbonrun node daemon. One sampling loop reads
// the node's GPUs (NVML) and CPU zones (RAPL or a TDP estimate). A job API
// charges each job its GPUs' energy and its CPU-time share of the CPU
// energy, and Prometheus metrics are served on the same listener.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/carbonrun/carbonrun/exporter"
	"github.com/carbonrun/carbonrun/internal/agent"
	"github.com/carbonrun/carbonrun/internal/grid"
	"github.com/carbonrun/carbonrun/internal/machine"
	"github.com/carbonrun/carbonrun/internal/version"
	"github.com/carbonrun/carbonrun/sampler"
	"github.com/carbonrun/carbonrun/sampler/nvml"
)

// shutdownTimeout bounds how long open HTTP requests may finish at exit.
const shutdownTimeout = 10 * time.Second

func main() {
	os.Exit(run(os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}

// run is main with its inputs passed in; it returns the exit code.
func run(args []string, env func(string) (string, bool), stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, env, stderr)
	if errors.Is(err, pflag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "carbon-agent: %v\n", err)
		return 2
	}
	if cfg.version {
		fmt.Fprintf(stdout, "carbon-agent %s\n", version.Version)
		return 0
	}
	log, err := newLogger(cfg.logFormat, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "carbon-agent: %v\n", err)
		return 2
	}
	defer func() { _ = log.Sync() }()

	// With Offline set, Resolve reads only the embedded tables, so an error
	// here comes from the flags and exits like the checks of parseConfig.
	site, err := grid.Resolve(context.Background(), grid.Options{Region: cfg.region,
		CarbonIntensity: cfg.carbonIntensity, PUE: cfg.pue, Offline: true})
	if err != nil {
		fmt.Fprintf(stderr, "carbon-agent: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := serve(ctx, cfg, site, log); err != nil {
		log.Error("carbon-agent failed", zap.Error(err))
		return 1
	}
	return 0
}

// serve opens the sources and the listener, runs until ctx is done, then
// stops the API, writes the open jobs' reports and checkpoints them, so
// that an agent restarted on the same --state-dir resumes them.
func serve(ctx context.Context, cfg config, site grid.Site, log *zap.Logger) error {
	warn := sampler.NewWarnings(log)
	node := machine.Open(machine.Options{SysfsRoot: cfg.sysfs, ProcfsRoot: cfg.procfs, Env: noEnv,
		Log: log, Warn: warn})
	var shares agent.GPUShareReader
	if node.GPU != nil {
		shares = gpuShares{node.GPU}
	}
	a, err := agent.New(agent.Options{
		GPUShares:      shares,
		Sources:        node.Sources,
		CPU:            agent.SystemCPU{ProcfsRoot: cfg.procfs},
		SysfsRoot:      cfg.sysfs,
		ProcfsRoot:     cfg.procfs,
		Site:           site,
		DataSources:    node.DataSources,
		ReportDir:      cfg.reportDir,
		StateDir:       cfg.stateDir,
		Interval:       cfg.interval,
		JobRetention:   cfg.jobRetention,
		Log:            log,
		Warn:           warn,
		Version:        version.Version,
		GPUScope:       node.GPUScope,
		GPUNote:        node.GPUNote,
		CPUDomains:     node.CPUDomains,
		IgnoredDomains: node.IgnoredDomains,
	})
	if err != nil {
		_ = node.Close()
		return fmt.Errorf("starting agent: %w", err)
	}

	metrics, err := exporter.Handler(exporter.New(a, version.Version), log)
	if err != nil {
		return errors.Join(err, a.Shutdown())
	}
	ln, err := agent.Listen(cfg.listen, cfg.listenExplicit, log)
	if err != nil {
		return errors.Join(err, a.Shutdown())
	}
	srv := &http.Server{
		Handler:           a.Handler(metrics),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	served := make(chan error, 1)
	go func() {
		served <- srv.Serve(ln)
		cancel()
	}()
	log.Info("carbon-agent started", zap.String("version", version.Version), zap.String("listen", cfg.listen),
		zap.Duration("interval", cfg.interval), zap.String("region", site.Region.Code),
		zap.Float64("intensity_grams_per_kwh", float64(site.Intensity)), zap.Float64("pue", site.PUE),
		zap.Int("sources", len(node.Sources)))

	_ = a.Run(ctx)
	log.Info("carbon-agent stopping")
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancelShutdown()
	errs := []error{srv.Shutdown(shutdownCtx)}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("serving %s: %w", cfg.listen, err))
	}
	errs = append(errs, a.Shutdown())
	return errors.Join(errs...)
}

// gpuShares adapts the NVML source to the agent's GPUShareReader.
type gpuShares struct{ src *nvml.Source }

// GPUShares returns each process's share of the GPU's utilisation.
func (g gpuShares) GPUShares(index int) (map[uint32]float64, error) {
	shares, _, err := g.src.ProcessShares(index)
	return shares, err
}

// noEnv hides the agent's own environment from GPU selection: the agent
// measures every GPU of the node, whatever CUDA_VISIBLE_DEVICES or
// LOCAL_RANK its service manager happens to set.
func noEnv(string) (string, bool) { return "", false }
