// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Command carbon-run wraps a command, measures the energy of the machine
// while it runs and writes a per-job energy and emissions report when it
// ends, whichever way it ends. See carbon-run --help.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:]))
}
