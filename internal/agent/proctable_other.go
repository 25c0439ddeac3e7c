// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build !linux

package agent

import (
	"os"
	"path/filepath"
)

// scan reads <root>/<pid>/stat of every process directory in root.
func (t *procTable) scan(root string) error {
	entries, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	for _, e := range entries {
		pid, ok := parsePID([]byte(e.Name()))
		if !ok {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(root, e.Name(), "stat"))
		if err == nil {
			t.add(pid, stat)
		}
	}
	return nil
}
