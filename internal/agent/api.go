// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"go.uber.org/zap"
)

// MaxRequestBytes is the largest job request body the API reads.
const MaxRequestBytes = 64 << 10

// Handler returns the HTTP handler of the job API, /healthz, and metrics
// served at /metrics. Errors are JSON objects {"error": "..."} that name
// the problem and the fix.
func (a *Agent) Handler(metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("POST /v1/jobs", a.handleStart)
	mux.HandleFunc("GET /v1/jobs", a.handleList)
	mux.HandleFunc("GET /v1/jobs/{id}", a.handleGet)
	mux.HandleFunc("POST /v1/jobs/{id}/end", a.handleEnd)

	for path, allow := range map[string]string{
		"/metrics":          "GET, HEAD",
		"/healthz":          "GET, HEAD",
		"/v1/jobs":          "GET, HEAD, POST",
		"/v1/jobs/{id}":     "GET, HEAD",
		"/v1/jobs/{id}/end": "POST",
	} {
		mux.HandleFunc(path, methodNotAllowed(allow))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s: use /metrics, /healthz, "+
			"GET or POST /v1/jobs, GET /v1/jobs/{id} or POST /v1/jobs/{id}/end", r.Method, r.URL.Path))
	})
	return rejectDotSegments(mux)
}

func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed,
			fmt.Sprintf("method %s not allowed on %s: use %s", r.Method, r.URL.Path, allow))
	}
}

// rejectDotSegments returns 400 for paths with "." or ".." segments or
// empty segments. ServeMux would redirect them to a cleaned path, which
// could turn a job id like "../x" into another job's URL.
func rejectDotSegments(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		segments := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
		for k, s := range segments {
			last := k == len(segments)-1
			if s == "." || s == ".." || (s == "" && !last) {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("path %q contains an empty, \".\" or \"..\" "+
					"segment: job ids use 1 to 128 characters from A-Z a-z 0-9 . _ - and are not \".\" or \"..\"",
					r.URL.Path))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (a *Agent) handleStart(w http.ResponseWriter, r *http.Request) {
	var spec JobSpec
	if status, err := decodeJSON(w, r, &spec); err != nil {
		writeError(w, status, err.Error())
		return
	}
	view, err := a.Start(spec)
	if err != nil {
		a.writeJobError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, view)
}

func (a *Agent) handleList(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, a.Jobs())
}

func (a *Agent) handleGet(w http.ResponseWriter, r *http.Request) {
	view, err := a.Job(r.PathValue("id"))
	if err != nil {
		a.writeJobError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, view)
}

func (a *Agent) handleEnd(w http.ResponseWriter, r *http.Request) {
	rep, err := a.End(r.PathValue("id"))
	if err != nil {
		a.writeJobError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (a *Agent) writeJobError(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusCode(err)
	if status >= http.StatusInternalServerError {
		a.log.Error("job request failed", zap.String("method", r.Method), zap.String("path", r.URL.Path),
			zap.Error(err))
	} else {
		a.log.Debug("job request rejected", zap.String("method", r.Method), zap.String("path", r.URL.Path),
			zap.Int("status", status), zap.Error(err))
	}
	writeError(w, status, err.Error())
}

// decodeJSON reads one JSON object into dst, rejecting unknown fields,
// trailing data and bodies over MaxRequestBytes. It returns the HTTP status
// for the error.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) (int, error) {
	body := http.MaxBytesReader(w, r.Body, MaxRequestBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return http.StatusBadRequest, errors.New("request body has data after the JSON object: " +
				"send exactly one object")
		}
		return 0, nil
	}

	var tooLarge *http.MaxBytesError
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, fmt.Errorf("request body is larger than %d bytes: "+
			"send a job request of a few hundred bytes, with cgroup or slurm_job_id for large jobs", tooLarge.Limit)
	case errors.Is(err, io.EOF):
		return http.StatusBadRequest, errors.New(`request body is empty: send a JSON object such as ` +
			`{"id":"123","pids":[4242]}`)
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return http.StatusBadRequest, fmt.Errorf("malformed JSON in request body: %w: "+
			`send a JSON object such as {"id":"123","pids":[4242]}`, err)
	case errors.As(err, &typeErr):
		return http.StatusBadRequest, fmt.Errorf("field %q has the wrong type (%s): "+
			"id, cgroup and slurm_job_id are strings, pids a list of numbers, gpus a list of strings",
			typeErr.Field, typeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return http.StatusBadRequest, fmt.Errorf("unknown field %s in request body: "+
			"use only id, pids, cgroup, slurm_job_id and gpus", field)
	default:
		return http.StatusBadRequest, fmt.Errorf("reading request body: %w", err)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// The status line is already out, so an encoding error cannot be
	// reported to the client any more.
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
