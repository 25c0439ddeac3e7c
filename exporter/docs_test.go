// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package exporter

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/metrics.md from the collector")

// metricsDoc renders the metric families that the collector exposes as a
// Markdown table, from a scrape of the golden snapshot.
func metricsDoc(t *testing.T) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(New(fixedState{snap: goldenSnapshot()}, "v0.1.0")))
	families, err := reg.Gather()
	require.NoError(t, err)

	var b strings.Builder
	b.WriteString("# carbon-agent metrics\n\n")
	b.WriteString("Generated from the collector's descriptors by\n")
	b.WriteString("`go test ./exporter -run TestMetricsDoc -update-docs`; a test fails when\n")
	b.WriteString("this file and the code disagree.\n\n")
	b.WriteString("| Name | Type | Labels | Help |\n|---|---|---|---|\n")
	for _, f := range families {
		labels := map[string]bool{}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = true
			}
		}
		names := make([]string, 0, len(labels))
		for l := range labels {
			names = append(names, l)
		}
		sort.Strings(names)
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.GetName(), strings.ToLower(f.GetType().String()),
			strings.Join(names, ", "), strings.ReplaceAll(f.GetHelp(), "|", "\\|"))
	}
	return b.String()
}

func TestMetricsDoc(t *testing.T) {
	path := filepath.Join("..", "docs", "metrics.md")
	want := metricsDoc(t)
	if *updateDocs {
		require.NoError(t, os.WriteFile(path, []byte(want), 0o644))
	}
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, want, string(got),
		"docs/metrics.md is out of date: run go test ./exporter -run TestMetricsDoc -update-docs")
}
