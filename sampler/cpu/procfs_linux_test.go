// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

//go:build linux

package cpu

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carbonrun/carbonrun/sampler"
)

// fakeProc is one process of a fake procfs tree; times are in USER_HZ ticks.
type fakeProc struct {
	pid, ppid                    int
	comm                         string
	startTicks                   uint64
	utime, stime, cutime, cstime uint64
	threads                      []fakeThread
	children                     []int // written to task/<pid>/children
}

// fakeThread is one thread's own line in /proc/<pid>/task/<tid>/stat.
type fakeThread struct {
	tid          int
	utime, stime uint64
}

// fakeProcfs is a procfs tree in a temporary directory that tests rewrite
// between reads.
type fakeProcfs struct {
	t    testing.TB
	root string
	// childrenFiles selects whether task/<tid>/children files exist, as on
	// kernels built with CONFIG_PROC_CHILDREN.
	childrenFiles bool
}

func newFakeProcfs(t testing.TB, childrenFiles bool) *fakeProcfs {
	t.Helper()
	return &fakeProcfs{t: t, root: t.TempDir(), childrenFiles: childrenFiles}
}

func (f *fakeProcfs) write(rel, content string) {
	f.t.Helper()
	path := filepath.Join(f.root, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// setMachine writes the aggregate cpu line of /proc/stat from busy and idle
// ticks, followed by per-CPU lines that the parser must ignore.
func (f *fakeProcfs) setMachine(busyTicks, idleTicks uint64) {
	f.t.Helper()
	// user nice system idle iowait irq softirq steal guest guest_nice;
	// the guest column is part of user and must not be added again.
	user := busyTicks - busyTicks/10
	system := busyTicks / 10
	line := fmt.Sprintf("cpu  %d 0 %d %d 0 0 0 0 %d 0\n", user, system, idleTicks, user/2)
	f.write("stat", line+"cpu0 1 2 3 4 5 6 7 8 9 10\nintr 12345\nctxt 999\n")
}

// setProcs replaces every process directory with procs.
func (f *fakeProcfs) setProcs(procs ...fakeProc) {
	f.t.Helper()
	entries, err := os.ReadDir(f.root)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			if err := os.RemoveAll(filepath.Join(f.root, e.Name())); err != nil {
				f.t.Fatal(err)
			}
		}
	}

	for _, p := range procs {
		dir := strconv.Itoa(p.pid)
		comm := p.comm
		if comm == "" {
			comm = "worker"
		}
		line := statLine(p.pid, comm, p.ppid, p.utime, p.stime, p.cutime, p.cstime, p.startTicks)
		f.write(dir+"/stat", line)

		threads := p.threads
		if len(threads) == 0 {
			threads = []fakeThread{{tid: p.pid, utime: p.utime, stime: p.stime}}
		}
		for _, th := range threads {
			task := dir + "/task/" + strconv.Itoa(th.tid)
			f.write(task+"/stat", statLine(th.tid, comm, p.ppid, th.utime, th.stime, 0, 0, p.startTicks))
			if !f.childrenFiles {
				continue
			}
			var children []int
			if th.tid == p.pid {
				children = p.children
			}
			f.write(task+"/children", joinPIDs(children))
		}
	}
}

// statLine formats all 52 fields of /proc/<pid>/stat as proc(5) lists them.
func statLine(pid int, comm string, ppid int, utime, stime, cutime, cstime, start uint64) string {
	return fmt.Sprintf("%d (%s) S %d %d %d 0 -1 4194304 100 0 0 0 %d %d %d %d 20 0 3 0 %d "+
		"123456789 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 2 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		pid, comm, ppid, pid, pid, utime, stime, cutime, cstime, start)
}

func joinPIDs(pids []int) string {
	var b strings.Builder
	for _, pid := range pids {
		b.WriteString(strconv.Itoa(pid))
		b.WriteByte(' ')
	}
	return b.String()
}

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    procTimes
		wantErr bool
	}{
		{
			name: "plain",
			line: statLine(42, "python3", 7, 100, 20, 3, 4, 5555),
			want: procTimes{ppid: 7, ownTicks: 120, childTicks: 7, startTicks: 5555},
		},
		{
			name: "command with spaces and parentheses",
			line: statLine(42, "a) b (c", 7, 1, 2, 3, 4, 9),
			want: procTimes{ppid: 7, ownTicks: 3, childTicks: 7, startTicks: 9},
		},
		{name: "truncated", line: "42 (x) S 7 1 2 3", wantErr: true},
		{name: "no command", line: "42 x S 7", wantErr: true},
		{
			name:    "non-numeric utime",
			line:    strings.Replace(statLine(42, "x", 7, 1, 2, 3, 4, 9), " 1 2 3 4 ", " u 2 3 4 ", 1),
			wantErr: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProcStat([]byte(tc.line))
			if tc.wantErr {
				if err == nil {
					t.Errorf("parseProcStat(%q) = %+v, want an error", tc.line, got)
				}
				return
			}
			mustNoError(t, "parseProcStat", err)
			if got != tc.want {
				t.Errorf("parseProcStat(%q) = %+v, want %+v", tc.line, got, tc.want)
			}
		})
	}
}

func TestMachineCPUTime(t *testing.T) {
	tests := []struct {
		name      string
		stat      string
		wantBusy  time.Duration
		wantTotal time.Duration
		wantErr   bool
	}{
		{
			// user nice system idle iowait irq softirq steal guest guest_nice
			name:      "all columns",
			stat:      "cpu  100 20 30 400 50 6 4 10 70 5\ncpu0 1 1 1 1 1 1 1 1 1 1\n",
			wantBusy:  160 * 10 * time.Millisecond,
			wantTotal: 620 * 10 * time.Millisecond,
		},
		{
			name:      "old kernel with five columns",
			stat:      "cpu 100 0 100 800 0\n",
			wantBusy:  2 * time.Second,
			wantTotal: 10 * time.Second,
		},
		{name: "per-cpu line first", stat: "cpu0 1 2 3 4 5\n", wantErr: true},
		{name: "garbage", stat: "cpu  1 x 3 4 5\n", wantErr: true},
		{name: "empty", stat: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFakeProcfs(t, true)
			fs.write("stat", tc.stat)

			busy, total, err := MachineCPUTime(fs.root)
			if tc.wantErr {
				if err == nil {
					t.Errorf("MachineCPUTime = %v, %v, want an error", busy, total)
				}
				return
			}
			mustNoError(t, "MachineCPUTime", err)
			if busy != tc.wantBusy || total != tc.wantTotal {
				t.Errorf("MachineCPUTime = %v busy, %v total, want %v, %v",
					busy, total, tc.wantBusy, tc.wantTotal)
			}
		})
	}
}

func TestMachineCPUTimeMissingProcfs(t *testing.T) {
	_, _, err := MachineCPUTime(filepath.Join(t.TempDir(), "absent"))
	if !errors.Is(err, sampler.ErrUnavailable) {
		t.Errorf("MachineCPUTime on a missing procfs = %v, want sampler.ErrUnavailable", err)
	}
}

const x86CPUInfo = `processor	: 0
vendor_id	: GenuineIntel
model name	: Intel(R) Xeon(R) Platinum 8168 CPU @ 2.70GHz
physical id	: 0
core id		: 0
cpu cores	: 2

processor	: 1
model name	: Intel(R) Xeon(R) Platinum 8168 CPU @ 2.70GHz
physical id	: 0
core id		: 1

processor	: 2
model name	: Intel(R) Xeon(R) Platinum 8168 CPU @ 2.70GHz
physical id	: 0
core id		: 0

processor	: 3
model name	: Intel(R) Xeon(R) Platinum 8168 CPU @ 2.70GHz
physical id	: 0
core id		: 1
`

// aarch64CPUInfo is how arm64 kernels print /proc/cpuinfo: no "model name".
const aarch64CPUInfo = `processor	: 0
BogoMIPS	: 50.00
Features	: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics
CPU implementer	: 0x41
CPU part	: 0xd0c

processor	: 1
BogoMIPS	: 50.00
CPU implementer	: 0x41
CPU part	: 0xd0c

processor	: 2
CPU part	: 0xd0c
`

func TestModelName(t *testing.T) {
	tests := []struct {
		name      string
		cpuinfo   string
		wantModel string
		wantCores int
		wantErr   bool
	}{
		{name: "x86 with hyper-threads", cpuinfo: x86CPUInfo,
			wantModel: "Intel(R) Xeon(R) Platinum 8168 CPU @ 2.70GHz", wantCores: 2},
		{name: "aarch64 without model name", cpuinfo: aarch64CPUInfo, wantModel: "", wantCores: 3},
		{name: "no processors", cpuinfo: "\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFakeProcfs(t, true)
			fs.write("cpuinfo", tc.cpuinfo)

			model, cores, err := ModelName(fs.root)
			if tc.wantErr {
				if err == nil {
					t.Errorf("ModelName = %q, %d, want an error", model, cores)
				}
				return
			}
			mustNoError(t, "ModelName", err)
			if model != tc.wantModel || cores != tc.wantCores {
				t.Errorf("ModelName = %q, %d cores, want %q, %d cores",
					model, cores, tc.wantModel, tc.wantCores)
			}
		})
	}
}

func TestModelNameMissingFile(t *testing.T) {
	if _, _, err := ModelName(t.TempDir()); err == nil {
		t.Errorf("ModelName without a cpuinfo file returned no error, want one")
	}
}
