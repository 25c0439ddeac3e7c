// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"errors"
	"fmt"
	"net/http"
)

// Errors returned by the job methods, checked with errors.Is. The HTTP API
// maps each one to a status code (StatusCode).
var (
	// ErrInvalidRequest marks a malformed job request, such as an invalid
	// job id or a negative PID (HTTP 400).
	ErrInvalidRequest = errors.New("invalid request")
	// ErrUnresolvable marks a well-formed request that names something
	// this node does not have: a PID that does not exist, an unknown GPU or
	// a missing cgroup (HTTP 422).
	ErrUnresolvable = errors.New("request names something this node does not have")
	// ErrProcessNotAllowed marks a PID that no job may claim: init, whose
	// process tree is the whole machine, or the agent itself (HTTP 422).
	ErrProcessNotAllowed = errors.New("process not allowed in a job")
	// ErrJobNotFound marks an id that is neither open nor recently ended
	// (HTTP 404).
	ErrJobNotFound = errors.New("job not found")
	// ErrJobConflict marks a second start of an open or recently ended id,
	// or a second end of a job (HTTP 409).
	ErrJobConflict = errors.New("job conflict")
	// ErrTooManyJobs marks a start beyond the open-job limit (HTTP 429).
	ErrTooManyJobs = errors.New("too many open jobs")
	// ErrShuttingDown marks a request that arrives after Shutdown began
	// (HTTP 503).
	ErrShuttingDown = errors.New("agent is shutting down")
)

// requestError is an error of one of the kinds above with a message that
// names the problem and the fix.
type requestError struct {
	kind error
	msg  string
}

func (e *requestError) Error() string { return e.msg }

func (e *requestError) Unwrap() error { return e.kind }

// newRequestError returns an error of the given kind with a formatted message.
func newRequestError(kind error, format string, args ...any) error {
	return &requestError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// StatusCode returns the HTTP status for an error returned by the job
// methods: 400, 404, 409, 422, 429 or 503, and 500 for any other error.
func StatusCode(err error) int {
	switch {
	case errors.Is(err, ErrInvalidRequest):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnresolvable), errors.Is(err, ErrProcessNotAllowed):
		return http.StatusUnprocessableEntity
	case errors.Is(err, ErrJobNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrJobConflict):
		return http.StatusConflict
	case errors.Is(err, ErrTooManyJobs):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrShuttingDown):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}
