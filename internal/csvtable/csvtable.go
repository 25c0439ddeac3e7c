// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Package csvtable reads the embedded CSV reference tables (grid intensity,
// PUE, hardware) with a fixed header, so that a table edited out of shape
// fails loudly at first use instead of being read column-shifted.
package csvtable

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// Read reads the CSV file name from fsys, checks that its first row is
// header and calls fn for every later row. Errors name the file and line.
func Read(fsys fs.FS, name string, header []string, fn func(row []string) error) error {
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = len(header)
	rows, err := r.ReadAll()
	if err != nil {
		return fmt.Errorf("parsing %s: %w", name, err)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], header) {
		return fmt.Errorf("%s: header is not %q", name, strings.Join(header, ","))
	}
	for i, row := range rows[1:] {
		if err := fn(row); err != nil {
			return fmt.Errorf("%s line %d: %w", name, i+2, err)
		}
	}
	return nil
}
