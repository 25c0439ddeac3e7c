// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/carbonrun/carbonrun/internal/grid"
	"github.com/carbonrun/carbonrun/internal/machine"
	"github.com/carbonrun/carbonrun/internal/version"
	"github.com/carbonrun/carbonrun/report"
	"github.com/carbonrun/carbonrun/sampler"
)

// job is one wrapped command from start to report.
type job struct {
	cfg     *config
	log     *zap.Logger
	warn    *sampler.Warnings
	site    grid.Site
	id      string
	dir     string
	machine *machine.Machine
	samples *report.Samples
	sampler *sampler.Sampler
	child   *child
	start   time.Time
	status  *statusLine
	// processShare is the command tree's CPU share in process mode, else nil.
	processShare sampler.Share
}

// newJob prepares the report directory and opens the energy sources. The
// sources are opened before the command starts so that its whole life is
// measured.
func newJob(cfg *config, site grid.Site, log *zap.Logger, warn *sampler.Warnings) (*job, error) {
	id, dir, err := reportDir(cfg, warn)
	if err != nil {
		return nil, err
	}
	samples, err := report.NewSamples(dir)
	if err != nil {
		return nil, fmt.Errorf("%w (choose another directory with --report-dir)", err)
	}
	m := machine.Open(machineOptions(cfg, log, warn))
	return &job{
		cfg: cfg, log: log, warn: warn, site: site, id: id, dir: dir,
		machine: m, samples: samples,
		status: newStatusLine(os.Stderr, !cfg.quiet && stderrIsTerminal()),
	}, nil
}

// run starts the command, samples until it exits and writes the report. It
// returns the command's exit code.
func (j *job) run() int {
	signals := make(chan os.Signal, 4)
	notifySignals(signals)

	c, code, err := startChild(j.cfg.command)
	if err != nil {
		fmt.Fprintf(os.Stderr, "carbon-run: %v\n", err)
		j.discard()
		return code
	}
	go report.PrepareHTML()
	j.child = c
	j.processShare = j.share()
	j.sampler = sampler.New(j.machine.Sources, j.processShare, j.warn)
	j.start = time.Now()
	j.sampler.Sample(j.start)
	j.log.Info("command started", zap.String("job_id", j.id), zap.Int("pid", c.cmd.Process.Pid),
		zap.Strings("command", j.cfg.command), zap.String("report_dir", j.dir))

	tick := time.NewTicker(j.cfg.interval)
	defer tick.Stop()
	checkpoint := time.NewTicker(j.cfg.checkpointInterval)
	defer checkpoint.Stop()

	for {
		select {
		case now := <-tick.C:
			j.sampleRound(now)
		case <-checkpoint.C:
			j.writeCheckpoint()
		case sig := <-signals:
			j.log.Info("forwarding signal to command", zap.String("signal", sig.String()))
			c.forward(sig)
		case waitErr := <-c.done:
			return j.finish(waitErr)
		}
	}
}

// sampleRound reads every source once and appends the round to samples.csv.
func (j *job) sampleRound(now time.Time) {
	// The ticker's time has no monotonic reading; take a fresh one.
	now = time.Now()
	totals := j.sampler.Sample(now)
	if err := j.samples.Add(now.Sub(j.start), totals); err != nil {
		j.warn.Add("samples.csv could not be written, the report will still be written",
			zap.Error(err))
	}
	j.status.update(now.Sub(j.start), totals, j.site)
}

// writeCheckpoint writes report.json marked incomplete, so that a SIGKILL of
// carbon-run loses at most one checkpoint interval.
func (j *job) writeCheckpoint() {
	r := j.build(time.Now(), report.StatusIncomplete, nil, "")
	if err := r.Write(j.dir); err != nil {
		j.warn.Add("checkpoint report could not be written", zap.Error(err))
	}
	if err := j.samples.Flush(); err != nil {
		j.warn.Add("samples.csv could not be flushed", zap.Error(err))
	}
}

// finish takes the last reading, writes the final report once and returns
// the exit code.
func (j *job) finish(waitErr error) int {
	// Signals stay caught until carbon-run exits: a second Ctrl-C or a
	// repeated SIGTERM now only waits in the channel instead of killing
	// carbon-run halfway through writing the report.
	end := time.Now()
	j.status.clear()
	if exited, ok := j.processShare.(interface{ RootExited(time.Duration) }); ok {
		state := j.child.cmd.ProcessState
		exited.RootExited(state.UserTime() + state.SystemTime())
	}

	totals := j.sampler.Sample(end)
	if err := j.samples.Add(end.Sub(j.start), totals); err != nil {
		j.warn.Add("samples.csv could not be written", zap.Error(err))
	}
	code, sigName := exitStatus(waitErr, j.child.cmd.ProcessState)
	status := finalStatus(j.child.stopRequested, sigName)

	if err := j.samples.Finish(); err != nil {
		j.warn.Add("samples.csv could not be finished", zap.Error(err))
	}
	r := j.build(end, status, &code, sigName)
	if err := r.Write(j.dir); err != nil {
		fmt.Fprintf(os.Stderr, "carbon-run: writing the report failed: %v\n", err)
	}
	if err := writeHTML(r, j.dir); err != nil {
		j.log.Warn("report.html could not be written, report.json and report.md are complete",
			zap.Error(err))
	}
	if !j.cfg.quiet {
		printSummary(os.Stderr, r, j.dir)
	}
	return code
}

// build assembles the report as of now.
func (j *job) build(now time.Time, status report.Status, code *int, sigName string) *report.Report {
	run := report.Run{
		Tool:           report.Tool{Name: "carbon-run", Version: version.Version},
		JobID:          j.id,
		Hostname:       hostname(),
		Command:        j.cfg.command,
		Status:         status,
		ExitCode:       code,
		ChildSignal:    sigName,
		Start:          j.start,
		End:            now,
		TrackingMode:   j.cfg.trackingMode,
		GPUScope:       j.machine.GPUScope,
		GPUNote:        j.machine.GPUNote,
		CPUDomains:     j.machine.CPUDomains,
		IgnoredDomains: j.machine.IgnoredDomains,
		Warnings:       j.warn.List(),
		DataSources:    j.machine.DataSources,
	}
	return report.Build(run, j.sampler.Totals(), j.sampler.Elapsed(), j.site)
}

// share returns the process-tree CPU share in process mode, else nil.
func (j *job) share() sampler.Share {
	if j.cfg.trackingMode != "process" {
		return nil
	}
	s, err := machine.ProcessShare(j.cfg.procfs, j.child.cmd.Process.Pid)
	if err != nil {
		j.warn.Add("process tracking unavailable, attributing the whole machine", zap.Error(err))
		return nil
	}
	return s
}

// discard removes the report directory of a command that never started, so
// no empty report is left behind.
func (j *job) discard() {
	_ = j.samples.Abandon()
	_ = os.Remove(j.dir) // fails, as it should, if anything else is inside
}

func (j *job) close() {
	if j.sampler != nil {
		_ = j.sampler.Close()
		return
	}
	_ = j.machine.Close()
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

// writeHTML renders report.html with the power chart from samples.csv.
func writeHTML(r *report.Report, dir string) error {
	series, err := report.ReadSamples(filepath.Join(dir, report.SamplesFile))
	if err != nil {
		return err
	}
	page, err := r.HTML(series)
	if err != nil {
		return err
	}
	return report.WriteFileAtomic(filepath.Join(dir, report.HTMLFile), page, 0o644)
}

// finalStatus returns how the command ended: stopped on request (SIGINT,
// SIGTERM or SIGHUP reached carbon-run), killed by another signal, or
// completed on its own.
func finalStatus(stopRequested bool, signalName string) report.Status {
	switch {
	case stopRequested:
		return report.StatusTerminated
	case signalName != "":
		return report.StatusChildKilled
	}
	return report.StatusCompleted
}
