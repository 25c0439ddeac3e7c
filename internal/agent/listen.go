// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

// DefaultListen is the default listen address: loopback only.
const DefaultListen = "127.0.0.1:9464"

// unixPrefix marks a Unix socket address, such as unix:/run/carbonrun/agent.sock.
const unixPrefix = "unix:"

// socketMode lets the owner and the group (such as a Slurm prolog's group)
// use the socket.
const socketMode = 0o660

// exampleSocket is the socket address that error messages suggest.
const exampleSocket = "unix:/run/carbonrun/agent.sock"

// CheckListenAddress applies the listen policy to addr and reports whether
// it is loopback-only. addr is host:port with a numeric port, or
// unix:/absolute/path. A Unix socket counts as loopback. A TCP address
// beyond loopback is a routable IP, a host name other than localhost, or an
// empty host such as ":9464". It is rejected unless explicit is true, which
// means the user set it with --listen or CARBONRUN_LISTEN. The caller then
// warns that the job API is reachable from the network.
func CheckListenAddress(addr string, explicit bool) (loopback bool, err error) {
	if path, ok := strings.CutPrefix(addr, unixPrefix); ok {
		if path == "" {
			return false, fmt.Errorf("listen address %q has no socket path: use %s", addr, exampleSocket)
		}
		if !filepath.IsAbs(path) {
			return false, fmt.Errorf("listen address %q has a relative socket path: use an absolute path "+
				"such as %s", addr, exampleSocket)
		}
		return true, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("listen address %q is not host:port or unix:/absolute/path, "+
			"such as %s or %s: %w", addr, DefaultListen, exampleSocket, err)
	}
	if port == "" {
		return false, fmt.Errorf("listen address %q has no port: use a form like %s", addr, DefaultListen)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return false, fmt.Errorf("listen address %q has port %q, which is not a number from 0 to 65535: "+
			"use a form like %s", addr, port, DefaultListen)
	}
	if isLoopbackHost(host) {
		return true, nil
	}
	if !explicit {
		return false, fmt.Errorf("listen address %q is not loopback and was not given explicitly: "+
			"pass --listen %s to expose the job API beyond this host", addr, addr)
	}
	return false, nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Listen opens the listener for addr after CheckListenAddress. For a Unix
// socket it removes a stale socket file left by a previous run, rejects a
// socket that still accepts connections and a file that is not a socket,
// and sets mode 0660. A non-loopback address is logged at Warn.
func Listen(addr string, explicit bool, log *zap.Logger) (net.Listener, error) {
	loopback, err := CheckListenAddress(addr, explicit)
	if err != nil {
		return nil, err
	}
	path, isUnix := strings.CutPrefix(addr, unixPrefix)
	if !isUnix {
		if !loopback {
			log.Warn("job API listens beyond loopback: anyone who reaches this address can start and end jobs",
				zap.String("listen", addr))
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("listening on %s: %w", addr, err)
		}
		return ln, nil
	}

	if err := removeStaleSocket(path); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listening on socket %s: %w", path, err)
	}
	if err := os.Chmod(path, socketMode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("setting mode of socket %s: %w", path, err)
	}
	return ln, nil
}

func removeStaleSocket(path string) error {
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking socket path %s: %w", path, err)
	}
	if info.Mode()&fs.ModeSocket == 0 {
		return fmt.Errorf("socket path %s exists and is not a socket: remove it or choose another path", path)
	}
	if conn, err := net.DialTimeout("unix", path, time.Second); err == nil {
		conn.Close()
		return fmt.Errorf("socket %s is in use by another process: stop that agent or choose another path", path)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("removing stale socket %s: %w", path, err)
	}
	return nil
}
