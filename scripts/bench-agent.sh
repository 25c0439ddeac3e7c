#!/usr/bin/env bash
# Measures carbon-agent's own cost on this machine and prints a Markdown
# section for BENCHMARKS.md: CPU time and peak RSS over SECONDS at a 1 s
# interval with 20 open jobs, against a `sleep` baseline measured the same
# way, plus the Go benchmark of one scrape with 8 GPUs and 200 open jobs.
# Usage: scripts/bench-agent.sh [SECONDS]   (default 600)
set -euo pipefail
cd "$(dirname "$0")/.."
export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g -Wno-deprecated-declarations}"
seconds=${1:-600}
work=$(mktemp -d)
trap 'kill "${agent:-}" "${idle:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/carbon-agent" ./cmd/carbon-agent
hz=$(getconf CLK_TCK)

# cost PID: "cpu_seconds peak_rss_mb" of a running process.
cost() {
	local ticks rss
	ticks=$(awk '{print $14 + $15}' "/proc/$1/stat")
	rss=$(awk '/VmHWM/ {print $2}' "/proc/$1/status")
	awk -v t="$ticks" -v hz="$hz" -v r="$rss" 'BEGIN{printf "%.3f %.1f\n", t/hz, r/1024}'
}

sock="$work/agent.sock"
"$work/carbon-agent" --listen "unix:$sock" --region FR --interval 1s \
	--report-dir "$work/reports" --state-dir "$work/state" >"$work/agent.log" 2>&1 &
agent=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
sleep 600000 &
idle=$!
for i in $(seq 20); do
	curl -sf --unix-socket "$sock" -XPOST http://agent/v1/jobs \
		-d "{\"id\":\"bench-$i\",\"pids\":[$idle]}" >/dev/null
done
read -r cpu0 _ < <(cost "$agent")
sleep "$seconds"
for _ in $(seq 10); do curl -sf --unix-socket "$sock" http://agent/metrics >/dev/null; done
read -r cpu1 rss1 < <(cost "$agent")
read -r cpuS rssS < <(cost "$idle")
kill "$idle"

echo "## carbon-agent over ${seconds} s ($(date -u +%Y-%m-%d), $(nproc) cores)"
echo
echo "Command: \`scripts/bench-agent.sh $seconds\` (1 s interval, 20 open jobs, 10 scrapes at the end)"
echo
echo "| Measure | Baseline (\`sleep\`) | carbon-agent |"
echo "|---|---:|---:|"
echo "| CPU time after start-up (s) | $cpuS | $(awk -v a="$cpu1" -v b="$cpu0" 'BEGIN{printf "%.3f", a-b}') |"
echo "| CPU, % of one core | | $(awk -v a="$cpu1" -v b="$cpu0" -v s="$seconds" 'BEGIN{printf "%.4f", (a-b)/s*100}') |"
echo "| peak RSS (MB) | $rssS | $rss1 |"
echo
echo '```'
go test -run '^$' -bench 'BenchmarkScrape8GPUs200Jobs' -benchmem -count 1 ./exporter/ 2>&1 |
	grep -E '^(Benchmark|ok|pkg)' || true
echo '```'
