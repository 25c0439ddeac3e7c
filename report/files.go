// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// File names inside a job's report directory.
const (
	JSONFile     = "report.json"
	MarkdownFile = "report.md"
	SamplesFile  = "samples.csv"
)

// JSON returns the report as indented JSON with a trailing newline.
func (r *Report) JSON() ([]byte, error) {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding report %s: %w", r.JobID, err)
	}
	return append(data, '\n'), nil
}

// Write writes report.json and report.md into dir, each atomically. The JSON
// file goes last so that a reader polling for it finds the Markdown in place.
func (r *Report) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating report directory: %w", err)
	}
	if err := writeFileSynced(filepath.Join(dir, MarkdownFile), r.Markdown(), 0o644); err != nil {
		return err
	}
	data, err := r.JSON()
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, JSONFile), data, 0o644)
}

// Read loads a report.json file.
func Read(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading report: %w", err)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("parsing report %s: %w", path, err)
	}
	return &r, nil
}
