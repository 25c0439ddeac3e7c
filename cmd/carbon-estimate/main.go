// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Command carbon-estimate predicts the energy and emissions of a training
// job from its size, hardware and site, without running it. It prints the
// analytical model's figures with low/high ranges and the assumptions behind
// them, compares what-if changes, recommends lower-carbon options and
// estimates a CSV of runs in one batch.
package main

import (
	"errors"
	"fmt"
	"github.com/carbonrun/carbonrun/internal/version"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the estimate could not be made or written
	exitUsage = 2 // invalid flags or inputs
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command, callable from tests: it parses args, writes the
// result to stdout and messages to stderr, and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	return runWithEnv(args, os.LookupEnv, stdout, stderr)
}

func runWithEnv(args []string, env func(string) (string, bool), stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, env, stderr)
	if err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "carbon-estimate: %v\n", err)
		return exitUsage
	}
	if opts.version {
		fmt.Fprintf(stdout, "carbon-estimate %s\n", version.Version)
		return exitOK
	}
	if opts.runsFile != "" {
		return runBatch(opts, stdout, stderr)
	}
	return runSingle(opts, stdout, stderr)
}

// usageError marks an error caused by the user's input (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func report(stderr io.Writer, err error) int {
	msg := strings.TrimSpace(err.Error())
	fmt.Fprintf(stderr, "carbon-estimate: %s\n", msg)
	var u usageError
	if errors.As(err, &u) {
		return exitUsage
	}
	return exitError
}
