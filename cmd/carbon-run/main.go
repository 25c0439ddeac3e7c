// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Command carbon-run wraps a command, measures the energy of the machine
// while it runs and writes a per-job energy and emissions report when it
// ends, whichever way it ends. See carbon-run --help.
package main

import (
	"os"
	"runtime"
)

func main() {
	// carbon-run does a few microseconds of work per interval, so one
	// processor is plenty, and fewer scheduler threads wake for its timers.
	// The wrapped command is unaffected: the setting is not inherited.
	runtime.GOMAXPROCS(1)
	os.Exit(run(os.Args[1:]))
}
