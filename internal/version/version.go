// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Package version holds the release version that every carbonrun binary
// prints and writes into its reports.
package version

// Version is the release version. Release builds set it with
// -ldflags "-X github.com/carbonrun/carbonrun/internal/version.Version=v1.2.3".
var Version = "0.1.0-dev"
