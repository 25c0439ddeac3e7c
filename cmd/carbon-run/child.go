// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Exit codes that carbon-run chooses itself; every other code is the
// command's own.
const (
	exitUsage         = 2   // invalid flags or region
	exitSetup         = 1   // the report directory cannot be written
	exitCannotExecute = 126 // the command exists but cannot run, as in POSIX shells
	exitNotFound      = 127 // the command was not found, as in POSIX shells
)

// forwardedSignals reach the command when carbon-run receives them.
var forwardedSignals = []os.Signal{
	syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2,
}

// child is the wrapped command. Its standard streams are carbon-run's own,
// untouched, and it stays in carbon-run's process group so that it keeps
// the terminal and job control works as without carbon-run.
type child struct {
	cmd  *exec.Cmd
	done chan error
	// stopRequested is set once SIGINT, SIGTERM or SIGHUP reached carbon-run.
	stopRequested bool
}

// startChild starts argv and returns the exit code to use when it cannot start.
func startChild(argv []string) (*child, int, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, lookPathExitCode(argv[0], err), lookPathError(argv[0], err)
	}
	cmd := exec.Command(path, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, exitCannotExecute, fmt.Errorf("starting %q: %w", argv[0], err)
	}
	c := &child{cmd: cmd, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait() }()
	return c, 0, nil
}

// lookPathExitCode follows POSIX shells: 127 when no such file exists, 126
// when it exists but cannot be executed (no execute permission, a directory).
func lookPathExitCode(name string, err error) int {
	if strings.ContainsRune(name, '/') {
		if _, statErr := os.Stat(name); statErr == nil {
			return exitCannotExecute
		}
	}
	return exitNotFound
}

func lookPathError(name string, err error) error {
	if lookPathExitCode(name, err) == exitCannotExecute {
		return fmt.Errorf("command %q cannot be executed: %w (check that it is a file with execute permission)",
			name, errors.Unwrap(err))
	}
	if strings.ContainsRune(name, '/') {
		return fmt.Errorf("command %q not found: check the path", name)
	}
	return fmt.Errorf("command %q not found in PATH: check its name or give a path", name)
}

// forward sends sig to the command. A SIGINT is not sent again when
// carbon-run runs in the terminal's foreground process group: the terminal
// already delivered Ctrl-C to every process of the group, the command
// included, and a second SIGINT would cut its clean-up short.
func (c *child) forward(sig os.Signal) {
	if sig == syscall.SIGINT || sig == syscall.SIGTERM || sig == syscall.SIGHUP {
		c.stopRequested = true
	}
	if sig == syscall.SIGINT && inForegroundGroup() {
		return
	}
	_ = c.cmd.Process.Signal(sig) // the process may have exited already
}

// exitStatus converts the result of Wait into carbon-run's exit code and, when
// a signal ended the command, the signal's name.
func exitStatus(waitErr error, state *os.ProcessState) (code int, signalName string) {
	if state == nil {
		var exitErr *exec.ExitError
		if errors.As(waitErr, &exitErr) {
			state = exitErr.ProcessState
		}
	}
	if state == nil {
		return exitCannotExecute, ""
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		sig := ws.Signal()
		return 128 + int(sig), signalNameOf(sig)
	}
	return state.ExitCode(), ""
}

// signalNameOf returns the conventional name, such as SIGKILL.
func signalNameOf(sig syscall.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return name
	}
	return fmt.Sprintf("signal %d", int(sig))
}

// inForegroundGroup reports whether carbon-run's process group owns the
// controlling terminal on stdin.
func inForegroundGroup() bool {
	pgrp, err := unix.IoctlGetInt(int(os.Stdin.Fd()), unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}

// notifySignals routes the forwarded signals to ch.
func notifySignals(ch chan<- os.Signal) { signal.Notify(ch, forwardedSignals...) }
