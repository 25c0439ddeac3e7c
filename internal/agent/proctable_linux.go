// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux

package agent

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"

	"golang.org/x/sys/unix"
)

// Offsets in struct linux_dirent64, from getdents64(2).
const (
	direntReclen = 16
	direntType   = 18
	direntName   = 19
)

// scan reads <root>/<pid>/stat of every process with plain system calls
// and reused buffers, because os.Open adds fcntl and epoll_ctl calls to
// every open (Go 1.26 on Linux). Only thread group leaders are listed in
// /proc, so no thread is read on its own, and its CPU time is counted
// once, in its process's stat line.
func (t *procTable) scan(root string) error {
	dir, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dir)

	if len(t.direntBuf) == 0 {
		t.direntBuf = make([]byte, 32<<10)
	}
	for {
		n, err := unix.Getdents(dir, t.direntBuf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		t.scanDirents(dir, t.direntBuf[:n])
	}
}

// scanDirents reads the stat file of each process directory in buf, a
// batch of linux_dirent64 records.
func (t *procTable) scanDirents(dir int, buf []byte) {
	for len(buf) > direntName {
		reclen := int(binary.NativeEndian.Uint16(buf[direntReclen:]))
		if reclen <= direntName || reclen > len(buf) {
			return
		}
		typ := buf[direntType]
		name := buf[direntName:reclen]
		name = name[:max(bytes.IndexByte(name, 0), 0)]
		buf = buf[reclen:]

		if typ != unix.DT_DIR && typ != unix.DT_UNKNOWN {
			continue
		}
		pid, ok := parsePID(name)
		if !ok {
			continue
		}
		if stat, ok := t.readStat(dir, name); ok {
			t.add(pid, stat)
		}
	}
}

// readStat reads <name>/stat below the directory dir into statBuf. It
// returns false when the process exited or cannot be read.
func (t *procTable) readStat(dir int, name []byte) ([]byte, bool) {
	fd, err := unix.Openat(dir, string(name)+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer unix.Close(fd)

	if len(t.statBuf) == 0 {
		t.statBuf = make([]byte, 0, 1024)
	}
	data := t.statBuf[:0]
	for {
		if len(data) == cap(data) {
			data = slices.Grow(data, cap(data))
		}
		n, err := unix.Read(fd, data[len(data):cap(data)])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, false
		}
		if n == 0 {
			break
		}
		data = data[:len(data)+n]
	}
	t.statBuf = data
	return data, true
}
