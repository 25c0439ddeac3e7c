// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package agent

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
)

func TestCheckListenAddress(t *testing.T) {
	tests := []struct {
		addr         string
		explicit     bool
		wantLoopback bool
		wantErr      bool
	}{
		{DefaultListen, false, true, false},
		{"[::1]:9464", false, true, false},
		{"localhost:9464", false, true, false},
		{"unix:/run/carbonrun/agent.sock", false, true, false},
		{"0.0.0.0:9464", false, false, true},
		{":9464", false, false, true},
		{"10.1.2.3:9464", false, false, true},
		{"node1.example.org:9464", false, false, true},
		{"0.0.0.0:9464", true, false, false},
		{":9464", true, false, false},
		{"10.1.2.3:9464", true, false, false},
		{"unix:", true, false, true},
		{"127.0.0.1", true, false, true},
		{"127.0.0.1:", true, false, true},
		{"garbage", true, false, true},
		{"127.0.0.1:http", true, false, true},
		{"127.0.0.1:65536", true, false, true},
		{"127.0.0.1:-1", true, false, true},
		{"unix:agent.sock", true, false, true},
		{"unix:./run/agent.sock", true, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			loopback, err := CheckListenAddress(tc.addr, tc.explicit)
			if tc.wantErr {
				require.Error(t, err, "explicit=%v", tc.explicit)
				return
			}
			require.NoError(t, err, "explicit=%v", tc.explicit)
			assert.Equal(t, tc.wantLoopback, loopback, "loopback")
		})
	}
}

func TestListenUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.sock")

	// A socket file left by a crashed agent: bound, then closed without unlink.
	stale, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	require.NoError(t, err)
	stale.SetUnlinkOnClose(false)
	require.NoError(t, stale.Close())

	ln, err := Listen("unix:"+path, false, zap.NewNop())
	require.NoError(t, err, "a stale socket is replaced")
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o660), info.Mode().Perm(), "socket mode")

	_, err = Listen("unix:"+path, false, zap.NewNop())
	assert.ErrorContains(t, err, "in use", "a live socket is not replaced")
	require.NoError(t, ln.Close())

	regular := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(regular, nil, 0o644))
	_, err = Listen("unix:"+regular, false, zap.NewNop())
	assert.ErrorContains(t, err, "not a socket")
}
