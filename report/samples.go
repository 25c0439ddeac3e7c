// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package report

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/carbonrun/carbonrun/sampler"
)

// samplesHeader names the samples.csv columns; each carries its unit.
const samplesHeader = "elapsed_seconds,kind,name,index,method," +
	"power_watts,interval_energy_joules,cumulative_energy_joules\n"

// Samples streams one samples.csv row per interval and component. Rows go to
// a hidden partial file while the run goes on, so memory stays flat however
// long the run is; Finish renames it to samples.csv, which therefore only
// ever appears complete.
type Samples struct {
	dir     string
	partial *os.File
	buf     *bufio.Writer
	line    []byte
}

// NewSamples creates the partial samples file in dir.
func NewSamples(dir string) (*Samples, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating report directory: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "."+SamplesFile+".partial"))
	if err != nil {
		return nil, fmt.Errorf("creating samples file: %w", err)
	}
	s := &Samples{dir: dir, partial: f, buf: bufio.NewWriterSize(f, 64<<10)}
	if _, err := s.buf.WriteString(samplesHeader); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing samples header: %w", err)
	}
	return s, nil
}

// Add appends one row per component for the round that ended elapsed after
// the start. It does not allocate once its line buffer has grown.
func (s *Samples) Add(elapsed time.Duration, totals []sampler.Total) error {
	for i := range totals {
		t := &totals[i]
		b := s.line[:0]
		b = strconv.AppendFloat(b, elapsed.Seconds(), 'f', 3, 64)
		b = append(b, ',')
		b = append(b, t.Kind...)
		b = append(b, ',')
		b = appendCSVField(b, t.Name)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(t.Index), 10)
		b = append(b, ',')
		b = append(b, t.Method...)
		b = append(b, ',')
		b = strconv.AppendFloat(b, float64(t.Power), 'f', 3, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, float64(t.Delta), 'f', 6, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, float64(t.Energy), 'f', 6, 64)
		b = append(b, '\n')
		s.line = b
		if _, err := s.buf.Write(b); err != nil {
			return fmt.Errorf("writing samples: %w", err)
		}
	}
	return nil
}

// Flush pushes buffered rows to the partial file, for checkpoints.
func (s *Samples) Flush() error {
	if err := s.buf.Flush(); err != nil {
		return fmt.Errorf("flushing samples: %w", err)
	}
	return nil
}

// Finish flushes, syncs and renames the partial file to samples.csv.
func (s *Samples) Finish() error {
	if err := s.Flush(); err != nil {
		s.partial.Close()
		return err
	}
	if err := s.partial.Sync(); err != nil {
		s.partial.Close()
		return fmt.Errorf("syncing samples: %w", err)
	}
	if err := s.partial.Close(); err != nil {
		return fmt.Errorf("closing samples: %w", err)
	}
	final := filepath.Join(s.dir, SamplesFile)
	if err := os.Rename(s.partial.Name(), final); err != nil {
		return fmt.Errorf("renaming samples file: %w", err)
	}
	return syncDir(s.dir)
}

// Abandon closes and deletes the partial file, for a run that never started.
func (s *Samples) Abandon() error {
	s.partial.Close()
	if err := os.Remove(s.partial.Name()); err != nil {
		return fmt.Errorf("removing samples file: %w", err)
	}
	return nil
}

// appendCSVField quotes a field that contains a comma, quote or newline.
func appendCSVField(b []byte, field string) []byte {
	needsQuotes := false
	for i := 0; i < len(field); i++ {
		if c := field[i]; c == ',' || c == '"' || c == '\n' || c == '\r' {
			needsQuotes = true
			break
		}
	}
	if !needsQuotes {
		return append(b, field...)
	}
	b = append(b, '"')
	for i := 0; i < len(field); i++ {
		if field[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, field[i])
	}
	return append(b, '"')
}
