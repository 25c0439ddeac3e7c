// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux

package cpu

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ModelName returns the CPU model name and core count from
// <procfsRoot>/cpuinfo, for a lookup in the hardware catalog.
//
// The name is the first "model name" line, as x86 kernels print it. arm64
// kernels print none, so the name is empty there without an error. The count
// is the number of distinct (physical id, core id) pairs, that is physical
// cores, when the file lists them, and otherwise the number of "processor"
// entries.
func ModelName(procfsRoot string) (string, int, error) {
	path := filepath.Join(procfsOrDefault(procfsRoot), "cpuinfo")
	data, err := os.ReadFile(path)
	if err != nil {
		return "", 0, fmt.Errorf("reading cpu model: %w", err)
	}

	info := parseCPUInfo(data)
	if info.processors == 0 {
		return "", 0, fmt.Errorf("reading cpu model from %s: no processor entries", path)
	}
	cores := len(info.cores)
	if cores == 0 {
		cores = info.processors
	}
	return info.model, cores, nil
}

type cpuInfo struct {
	model      string
	processors int
	cores      map[[2]string]struct{} // (physical id, core id)
}

// parseCPUInfo reads the "key<TAB>: value" lines of /proc/cpuinfo, one block
// per logical CPU separated by blank lines.
func parseCPUInfo(data []byte) cpuInfo {
	info := cpuInfo{cores: make(map[[2]string]struct{})}
	var physicalID, coreID string

	endBlock := func() {
		if physicalID != "" && coreID != "" {
			info.cores[[2]string{physicalID, coreID}] = struct{}{}
		}
		physicalID, coreID = "", ""
	}

	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		key, value, ok := strings.Cut(scanner.Text(), ":")
		if !ok {
			endBlock()
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.TrimSpace(key) {
		case "processor":
			info.processors++
		case "model name":
			if info.model == "" {
				info.model = value
			}
		case "physical id":
			physicalID = value
		case "core id":
			coreID = value
		}
	}
	endBlock()
	return info
}
