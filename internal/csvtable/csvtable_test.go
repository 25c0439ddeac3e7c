// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package csvtable

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

func TestRead(t *testing.T) {
	fsys := fstest.MapFS{
		"ok.csv":     {Data: []byte("code,value\nFR,56\nDE,380\n")},
		"header.csv": {Data: []byte("code,val\nFR,56\n")},
		"short.csv":  {Data: []byte("code,value\nFR\n")},
	}
	var codes []string
	err := Read(fsys, "ok.csv", []string{"code", "value"}, func(row []string) error {
		codes = append(codes, row[0])
		return nil
	})
	if err != nil || strings.Join(codes, ",") != "FR,DE" {
		t.Errorf("Read(ok.csv) = %v with rows %v, want nil and FR,DE", err, codes)
	}

	tests := []struct {
		file, want string
		fn         func([]string) error
	}{
		{"header.csv", "header is not", nil},
		{"short.csv", "parsing short.csv", nil},
		{"missing.csv", "reading missing.csv", nil},
		{"ok.csv", "ok.csv line 3: bad row", func(row []string) error {
			if row[0] == "DE" {
				return errors.New("bad row")
			}
			return nil
		}},
	}
	for _, tc := range tests {
		fn := tc.fn
		if fn == nil {
			fn = func([]string) error { return nil }
		}
		err := Read(fsys, tc.file, []string{"code", "value"}, fn)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Read(%s) = %v, want an error containing %q", tc.file, err, tc.want)
		}
	}
}
