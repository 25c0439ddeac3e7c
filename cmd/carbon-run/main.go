// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Command carbon-run wraps a command, measures the energy of the machine
// while it runs and writes a per-job energy and emissions report when it
// ends, whichever way it ends. See carbon-run --help.
package main

import "os"

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:]))
}
