// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Command carbon-report reads, renders and combines the report.json files
// that carbon-run and carbon-agent write. Its render subcommand turns a
// report into an HTML page, Markdown or JSON, and merge combines the
// per-node reports of a multi-node job into one report.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/carbonrun/carbonrun/internal/version"
)

// Exit codes.
const (
	exitOK = 0
	// exitFailed means the command could not write its output.
	exitFailed = 1
	// exitUsage means invalid arguments or input files.
	exitUsage = 2
)

const usage = `carbon-report renders and combines carbonrun report.json files.

Usage:
  carbon-report COMMAND [OPTIONS] [ARGS]

Commands:
  render   render a report as a self-contained HTML page, Markdown or JSON
  merge    combine the per-node reports of one job into one report

Examples:
  carbon-report render -o report.html runs/42/report.json
  carbon-report render --format md job.json > job.md
  carbon-report merge node1.json node2.json > job.json
  carbon-report render --help

Run 'carbon-report COMMAND --help' for the options of a command.
Exit status: 0 on success, 1 when the output cannot be written,
2 on invalid arguments or input files.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes carbon-report with args (without the program name) and
// returns the process exit code. Every error becomes one line on stderr.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "carbon-report: missing command; run 'carbon-report --help' for usage")
		return exitUsage
	}

	switch args[0] {
	case "render":
		return runRender(args[1:], stdout, stderr)
	case "merge":
		return runMerge(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "--version", "version":
		fmt.Fprintf(stdout, "carbon-report %s\n", version.Version)
		return exitOK
	default:
		fmt.Fprintf(stderr, "carbon-report: unknown command %q; run 'carbon-report --help' for the list\n", args[0])
		return exitUsage
	}
}
