// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package sampler

import (
	"sync"

	"go.uber.org/zap"
)

// Warnings collects the warnings of a run for its report. Each distinct
// message is logged once at Warn level and kept once, so a condition that
// repeats every round (an unreadable zone, a lost GPU) cannot flood the log.
type Warnings struct {
	mu   sync.Mutex
	log  *zap.Logger
	seen map[string]struct{}
	list []string
}

// NewWarnings returns an empty collector that logs through log; a nil log
// discards log output but still collects.
func NewWarnings(log *zap.Logger) *Warnings {
	if log == nil {
		log = zap.NewNop()
	}
	return &Warnings{log: log, seen: make(map[string]struct{})}
}

// Add records msg unless it was recorded before and reports whether it was new.
// Fields go to the log line only.
func (w *Warnings) Add(msg string, fields ...zap.Field) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.seen[msg]; ok {
		return false
	}
	w.seen[msg] = struct{}{}
	w.list = append(w.list, msg)
	w.log.Warn(msg, fields...)
	return true
}

// List returns a copy of the recorded messages in the order they were added.
func (w *Warnings) List() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.list...)
}
