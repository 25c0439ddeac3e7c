// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package cpu

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// CgroupCPUTime returns the CPU time used by every process that ever ran in
// the cgroup v2 directory cgroupDir, descendants included: the usage_usec
// line of its cpu.stat file.
func CgroupCPUTime(cgroupDir string) (time.Duration, error) {
	path := filepath.Join(cgroupDir, "cpu.stat")
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("reading cgroup cpu time: %w", err)
	}

	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		key, value, ok := strings.Cut(scanner.Text(), " ")
		if !ok || key != "usage_usec" {
			continue
		}
		usageMicroseconds, err := strconv.ParseUint(strings.TrimSpace(value), 10, 63)
		if err != nil {
			return 0, fmt.Errorf("parsing usage_usec in %s: %w", path, err)
		}
		if usageMicroseconds > math.MaxInt64/uint64(time.Microsecond) {
			return 0, fmt.Errorf("parsing usage_usec in %s: %d µs is out of range",
				path, usageMicroseconds)
		}
		return time.Duration(usageMicroseconds) * time.Microsecond, nil
	}
	return 0, fmt.Errorf("reading cgroup cpu time from %s: no usage_usec line", path)
}
