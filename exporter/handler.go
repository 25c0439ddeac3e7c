// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package exporter

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// Handler returns the /metrics handler over a registry holding c. A
// gathering error, such as one invalid series, is logged at Debug and the
// rest is served with HTTP 200, so one bad series never empties a scrape.
func Handler(c prometheus.Collector, log *zap.Logger) (http.Handler, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		return nil, fmt.Errorf("registering collector: %w", err)
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      zapPrintln{log: log},
		ErrorHandling: promhttp.ContinueOnError,
	}), nil
}

// zapPrintln adapts a zap logger to promhttp.Logger.
type zapPrintln struct{ log *zap.Logger }

func (z zapPrintln) Println(v ...any) {
	z.log.Debug("metrics gathering error", zap.String("error", fmt.Sprint(v...)))
}
