// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Package jobid checks and cleans job identifiers before they become
// directory names under a report directory.
package jobid

import (
	"fmt"
	"strings"
	"time"
)

// MaxLength is the longest job id accepted, well under the 255-byte limit
// of a file name on common Linux file systems.
const MaxLength = 128

// Validate returns an error unless id is 1 to MaxLength characters from
// [A-Za-z0-9._-] and is not "." or "..", so that it is safe as one path
// element.
func Validate(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("job id is empty: use letters, digits, '.', '_' or '-'")
	case len(id) > MaxLength:
		return fmt.Errorf("job id is %d characters long: use at most %d", len(id), MaxLength)
	case id == "." || id == "..":
		return fmt.Errorf("job id %q is not allowed: it names a directory", id)
	}
	for _, r := range id {
		if !allowed(r) {
			return fmt.Errorf("job id %q contains %q: use only letters, digits, '.', '_' or '-'", id, r)
		}
	}
	return nil
}

// Sanitize turns any string into a valid job id: characters outside
// [A-Za-z0-9._-] become '_', leading dots are dropped so the directory is
// neither hidden nor a parent reference, and the result is cut to MaxLength.
// An input with nothing left becomes "job".
func Sanitize(id string) string {
	var b strings.Builder
	for _, r := range id {
		if allowed(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	s := strings.TrimLeft(b.String(), ".")
	if len(s) > MaxLength {
		s = s[:MaxLength]
	}
	if s == "" {
		return "job"
	}
	return s
}

// Default returns the id of a run without --job-id: the Slurm job id (with
// the step id when present) if slurmJobID is set, else a UTC time stamp with
// the process id, unique on one host. A Slurm id is returned as given, so
// that a caller can tell when Sanitize changes it.
func Default(slurmJobID, slurmStepID string, now time.Time, pid int) string {
	if slurmJobID != "" {
		if slurmStepID != "" {
			return slurmJobID + "." + slurmStepID
		}
		return slurmJobID
	}
	return fmt.Sprintf("%s-%d", now.UTC().Format("20060102T150405Z"), pid)
}

func allowed(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '.' || r == '_' || r == '-'
}
