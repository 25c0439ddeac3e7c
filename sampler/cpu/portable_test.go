// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package cpu

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carbonrun/carbonrun/sampler"
)

// TestTDPSourceOnEveryHost_CR35 opens the TDP source with the host's own CPU
// counters, as carbon-run does on a host without RAPL: /proc/stat on Linux,
// gopsutil on macOS and other systems. It is the CPU method on macOS, Intel
// or Apple silicon, because carbonrun has no Apple-silicon power backend.
func TestTDPSourceOnEveryHost_CR35(t *testing.T) {
	src, err := NewTDPSource(TDPOptions{TDP: 65, Method: sampler.MethodTDPEstimate})
	mustNoError(t, "NewTDPSource with the host's counters", err)
	dst := make([]sampler.Reading, 1)
	mustNoError(t, "first read", src.Read(time.Now(), dst))
	mustNoError(t, "second read", src.Read(time.Now(), dst))

	if got := src.Components()[0].Method; got != sampler.MethodTDPEstimate {
		t.Errorf("method = %q, want %q", got, sampler.MethodTDPEstimate)
	}
	if dst[0].Power < 0 || dst[0].Power > 65 {
		t.Errorf("power = %v W, want within [0, 65] W", dst[0].Power)
	}
}

// TestPackageRunsNoCommands_CR35 checks that no file of the package imports
// os/exec: reading power never starts a helper such as powermetrics, so it
// can never wait on a sudo password prompt.
func TestPackageRunsNoCommands_CR35(t *testing.T) {
	files, err := filepath.Glob("*.go")
	mustNoError(t, "listing package files", err)
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
		mustNoError(t, "parsing "+file, err)
		for _, imp := range parsed.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			mustNoError(t, "reading import path", err)
			if path == "os/exec" {
				t.Errorf("%s imports os/exec, want no external commands", file)
			}
		}
	}
}
