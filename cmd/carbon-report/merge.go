// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/pflag"

	"github.com/carbonrun/carbonrun/internal/version"
	"github.com/carbonrun/carbonrun/report"
)

const mergeUsage = `Usage: carbon-report merge [OPTIONS] REPORT.json...

Combine the reports that one job wrote on each of its nodes into one report.
Energies add up. Emissions are computed per node from that node's own carbon
intensity and PUE, then summed. The time span runs from the earliest start to
the latest end, and each component keeps the host it was measured on.

Examples:
  # Merge two nodes' reports and print the result
  carbon-report merge node1/report.json node2/report.json > job.json

  # Merge the reports that the Slurm epilog saved for job 1234
  carbon-report merge -o job-1234.json /var/lib/carbonrun/slurm/1234-*.json

  # Merge runs recorded under different job ids as one job
  carbon-report merge --job-id train-7 run-a.json run-b.json

Options:
`

// jobIDPattern is the job id syntax that carbon-agent accepts, so a merged
// report's id can also name a file or an agent job.
var jobIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// mergeFlags are the options of the merge subcommand.
type mergeFlags struct {
	output string
	jobID  string
	force  bool
}

func newMergeFlagSet(opts *mergeFlags) *pflag.FlagSet {
	flags := pflag.NewFlagSet("merge", pflag.ContinueOnError)
	flags.SortFlags = false
	flags.SetOutput(io.Discard)
	flags.StringVarP(&opts.output, "output", "o", "",
		"write the merged report to `FILE` (through a temporary file in the same directory, "+
			"then renamed) instead of standard output")
	flags.StringVar(&opts.jobID, "job-id", "",
		"job `ID` of the merged report; reports with other job ids are merged under it "+
			"(letters, digits, '.', '_', '-', at most 128 characters)")
	flags.BoolVar(&opts.force, "force", false,
		"merge reports whose job ids differ, keeping the first report's job id, and reports "+
			"that share a host or component, with a warning that its energy is counted twice")
	return flags
}

// runMerge implements "carbon-report merge" and returns the exit code.
func runMerge(args []string, stdout, stderr io.Writer) int {
	var opts mergeFlags
	flags := newMergeFlagSet(&opts)
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(stdout, mergeUsage+flags.FlagUsagesWrapped(80))
			return exitOK
		}
		return failMerge(stderr, exitUsage, fmt.Errorf("%w; run 'carbon-report merge --help' for usage", err))
	}

	paths := flags.Args()
	if err := checkMergeArgs(paths, opts); err != nil {
		return failMerge(stderr, exitUsage, err)
	}
	if err := checkOutputNotInput(opts.output, paths); err != nil {
		return failMerge(stderr, exitUsage, err)
	}
	reports, err := readReports(paths)
	if err != nil {
		return failMerge(stderr, exitUsage, err)
	}
	merged, err := report.MergeWithOptions(reports, report.MergeOptions{
		JobID: opts.jobID, Force: opts.force, Names: paths,
	})
	if err != nil {
		return failMerge(stderr, exitUsage, withHint(err))
	}
	merged.Tool = report.Tool{Name: "carbon-report", Version: version.Version}

	if err := writeReport(merged, opts.output, stdout); err != nil {
		return failMerge(stderr, exitFailed, err)
	}
	if opts.output != "" {
		fmt.Fprintf(stderr, "carbon-report: merged %d reports of job %s into %s: %g kWh, %g kg CO2e, %d warnings\n",
			len(reports), merged.JobID, opts.output, merged.FacilityEnergyKWh, merged.EmissionsKg,
			len(merged.Warnings))
	}
	return exitOK
}

func failMerge(stderr io.Writer, code int, err error) int {
	fmt.Fprintf(stderr, "carbon-report merge: %v\n", err)
	return code
}

func checkMergeArgs(paths []string, opts mergeFlags) error {
	if len(paths) == 0 {
		return errors.New("missing report files; usage: carbon-report merge [OPTIONS] REPORT.json...")
	}
	if opts.jobID != "" && (!jobIDPattern.MatchString(opts.jobID) || opts.jobID == "." || opts.jobID == "..") {
		return fmt.Errorf("invalid --job-id %q: use 1 to 128 letters, digits, '.', '_' or '-', "+
			"other than \".\" and \"..\"", opts.jobID)
	}
	return nil
}

// checkOutputNotInput rejects an output file that is also an input, because
// writing it would replace a report before, or instead of, merging it. Paths
// are compared cleaned and absolute, and by file identity when the output
// exists, which also catches links and other names for the same file.
func checkOutputNotInput(output string, inputs []string) error {
	if output == "" {
		return nil
	}
	outAbs, err := filepath.Abs(output)
	if err != nil {
		return fmt.Errorf("invalid -o/--output %s: %w", output, err)
	}
	outInfo, statErr := os.Stat(output)
	for _, input := range inputs {
		same := false
		if inAbs, err := filepath.Abs(input); err == nil && inAbs == outAbs {
			same = true
		}
		if statErr == nil {
			if inInfo, err := os.Stat(input); err == nil && os.SameFile(outInfo, inInfo) {
				same = true
			}
		}
		if same {
			return fmt.Errorf("invalid -o/--output %s: it is also the input report %s; "+
				"write the merged report to a new file", output, input)
		}
	}
	return nil
}

// withHint adds what to do next to the errors that Merge returns.
func withHint(err error) error {
	switch {
	case errors.Is(err, report.ErrJobIDMismatch):
		return fmt.Errorf("%w; merge the reports of one job, or set --job-id to merge them under one id", err)
	case errors.Is(err, report.ErrSchemaVersionMismatch):
		return fmt.Errorf("%w; merge reports written by the same carbonrun release", err)
	case errors.Is(err, report.ErrSchemaVersionUnsupported):
		return fmt.Errorf("%w; check that the file is a report.json from carbon-run or carbon-agent", err)
	case errors.Is(err, report.ErrDuplicateReport):
		return fmt.Errorf("%w; pass each report once", err)
	case errors.Is(err, report.ErrDuplicateHost):
		return fmt.Errorf("%w; pass each node's report once (not a merged report together "+
			"with its inputs), or set --force to merge anyway", err)
	case errors.Is(err, report.ErrInvalidReport):
		return fmt.Errorf("%w; check that the file is a report.json from carbon-run or "+
			"carbon-agent", err)
	}
	return err
}

// readReports decodes each file as a report.Report.
func readReports(paths []string) ([]report.Report, error) {
	reports := make([]report.Report, 0, len(paths))
	for _, path := range paths {
		r, err := readReport(path)
		if err != nil {
			return nil, err
		}
		reports = append(reports, r)
	}
	return reports, nil
}

func readReport(path string) (report.Report, error) {
	var r report.Report
	data, err := os.ReadFile(path)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err
		}
		return r, fmt.Errorf("reading %s: %w", path, err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("%s: %w", path, describeJSONError(data, err))
	}
	return r, nil
}

// describeJSONError rewrites a decoding error with the line and column of a
// syntax error, or the field and types of a type mismatch.
func describeJSONError(data []byte, err error) error {
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		// Offset counts the bytes read up to and including the invalid one.
		line, column := lineColumn(data, max(syntaxErr.Offset-1, 0))
		return fmt.Errorf("invalid JSON at line %d, column %d: %w", line, column, err)
	}
	// A type mismatch is restated in the report's JSON field names, because
	// the decoder's message names Go types that a user never sees.
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if typeErr.Field == "" {
			return fmt.Errorf("invalid report: the file contains a JSON %s, want a report object",
				typeErr.Value)
		}
		return fmt.Errorf("invalid report: field %q is a JSON %s, want %s",
			typeErr.Field, typeErr.Value, typeErr.Type)
	}
	return fmt.Errorf("invalid report: %w", err)
}

// lineColumn returns the 1-based line and column of the byte at offset,
// counting an offset past the end as just after the last byte.
func lineColumn(data []byte, offset int64) (line, column int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := string(data[:offset])
	line = strings.Count(before, "\n") + 1
	column = int(offset) - strings.LastIndex(before, "\n")
	return line, column
}

// writeReport writes r as indented JSON to the file output, or to stdout
// when output is empty.
func writeReport(r report.Report, output string, stdout io.Writer) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding merged report: %w", err)
	}
	data = append(data, '\n')

	if output == "" {
		if _, err := stdout.Write(data); err != nil {
			return fmt.Errorf("writing merged report to standard output: %w", err)
		}
		return nil
	}
	return writeFileAtomic(output, data)
}

// writeFileAtomic writes data to a temporary file in path's directory and
// renames it over path, so readers see either the old file or the whole new
// one, never a partial write. Rename is atomic only within one file system,
// which is why the temporary file lives next to path.
func writeFileAtomic(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name()) // best effort, because the write error is what matters
		}
	}()

	if _, err = tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err = tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("syncing %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp.Name(), err)
	}
	// CreateTemp makes the file 0600, but a report is meant to be shared.
	if err = os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("setting mode of %s: %w", tmp.Name(), err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", tmp.Name(), path, err)
	}
	return nil
}
