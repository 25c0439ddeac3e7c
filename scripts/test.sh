#!/usr/bin/env bash
# Runs the project's checks: go vet and the unit tests of every package.
# Needs only Go: no GPU, no RAPL access and no network beyond the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g -Wno-deprecated-declarations}"
go vet ./...
go test -count=1 ./...
