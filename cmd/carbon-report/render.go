// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/carbonrun/carbonrun/report"
)

const renderUsage = `Usage: carbon-report render [OPTIONS] REPORT.json

Render a report.json as a self-contained HTML page, as Markdown or as JSON.
The HTML page charts each component's power over time from samples.csv,
which it looks for beside the report unless --samples names another file.
A merged report has no samples of its own, so its page shows no power chart
unless --samples is given.

Examples:
  # Render a run's report as HTML next to it
  carbon-report render -o runs/42/report.html runs/42/report.json

  # Render a merged report, which has no samples, as Markdown
  carbon-report render --format md job.json > job.md

  # Take the samples from another directory
  carbon-report render --samples /scratch/42/samples.csv -o report.html report.json

Options:
`

// Output formats of the render subcommand.
const (
	formatHTML     = "html"
	formatMarkdown = "md"
	formatJSON     = "json"
)

// renderFlags are the options of the render subcommand.
type renderFlags struct {
	format  string
	samples string
	output  string
}

func newRenderFlagSet(opts *renderFlags) *pflag.FlagSet {
	flags := pflag.NewFlagSet("render", pflag.ContinueOnError)
	flags.SortFlags = false
	flags.SetOutput(io.Discard)
	flags.StringVarP(&opts.format, "format", "f", formatHTML,
		"output `FORMAT`: html, md (Markdown) or json")
	flags.StringVar(&opts.samples, "samples", "",
		"read power samples for the HTML chart from `FILE` "+
			"(default: samples.csv beside the report when it exists and the report is not merged; "+
			"'' to draw no chart)")
	flags.StringVarP(&opts.output, "output", "o", "",
		"write to `FILE` (through a temporary file in the same directory, then renamed) "+
			"instead of standard output")
	return flags
}

// runRender implements "carbon-report render" and returns the exit code.
func runRender(args []string, stdout, stderr io.Writer) int {
	var opts renderFlags
	flags := newRenderFlagSet(&opts)
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(stdout, renderUsage+flags.FlagUsagesWrapped(80))
			return exitOK
		}
		return failRender(stderr, exitUsage, fmt.Errorf("%w; run 'carbon-report render --help' for usage", err))
	}
	if err := checkRenderArgs(flags, opts); err != nil {
		return failRender(stderr, exitUsage, err)
	}

	path := flags.Arg(0)
	data, err := renderReport(path, opts, flags.Changed("samples"))
	if err != nil {
		return failRender(stderr, exitUsage, err)
	}

	if opts.output == "" {
		if _, err := stdout.Write(data); err != nil {
			return failRender(stderr, exitFailed, fmt.Errorf("writing to standard output: %w", err))
		}
		return exitOK
	}
	if err := report.WriteFileAtomic(opts.output, data, 0o644); err != nil {
		return failRender(stderr, exitFailed, err)
	}
	fmt.Fprintf(stderr, "carbon-report: rendered %s as %s into %s\n", path, opts.format, opts.output)
	return exitOK
}

func failRender(stderr io.Writer, code int, err error) int {
	fmt.Fprintf(stderr, "carbon-report render: %v\n", err)
	return code
}

func checkRenderArgs(flags *pflag.FlagSet, opts renderFlags) error {
	switch n := flags.NArg(); {
	case n == 0:
		return errors.New("missing report file; usage: carbon-report render [OPTIONS] REPORT.json")
	case n > 1:
		return fmt.Errorf("got %d report files, want one; run 'carbon-report merge' first to combine them", n)
	}
	switch opts.format {
	case formatHTML, formatMarkdown, formatJSON:
	default:
		return fmt.Errorf("invalid --format %q: use html, md or json", opts.format)
	}
	if flags.Changed("samples") && opts.samples != "" && opts.format != formatHTML {
		return fmt.Errorf("--samples applies only to --format html, not %s", opts.format)
	}
	return nil
}

// renderReport reads the report at path and renders it in opts.format.
// samplesSet reports whether --samples was given, so that an empty value
// means no chart rather than the default file.
func renderReport(path string, opts renderFlags, samplesSet bool) ([]byte, error) {
	r, err := readReport(path)
	if err != nil {
		return nil, err
	}
	if r.SchemaVersion != report.SchemaVersion {
		return nil, fmt.Errorf("%s: %w %d (want %d); check that the file is a report.json "+
			"from carbon-run, carbon-agent or carbon-report merge",
			path, report.ErrSchemaVersionUnsupported, r.SchemaVersion, report.SchemaVersion)
	}

	switch opts.format {
	case formatMarkdown:
		return r.Markdown(), nil
	case formatJSON:
		return r.JSON()
	}
	// A merged report covers several nodes, so one node's samples.csv that
	// happens to lie beside it would chart only part of the job.
	if len(r.Hostnames) > 0 && !samplesSet {
		return r.HTML(nil)
	}
	series, err := readSeries(path, opts.samples, samplesSet)
	if err != nil {
		return nil, err
	}
	return r.HTML(series)
}

// readSeries reads the samples for the HTML chart: from samplesPath when
// it was given, else from samples.csv beside the report if that exists.
func readSeries(reportPath, samplesPath string, samplesSet bool) ([]report.Series, error) {
	if samplesSet {
		if samplesPath == "" {
			return nil, nil
		}
		return report.ReadSamples(samplesPath)
	}

	beside := filepath.Join(filepath.Dir(reportPath), report.SamplesFile)
	if _, err := os.Stat(beside); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	series, err := report.ReadSamples(beside)
	if err != nil {
		return nil, fmt.Errorf("%w; pass --samples '' to render without the power chart", err)
	}
	return series, nil
}
