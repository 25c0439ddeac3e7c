#!/usr/bin/env bash
# Measures what carbon-run costs next to the job it wraps and prints a
# Markdown section for BENCHMARKS.md:
#   - Go benchmarks of one sampling round and of the report writers;
#   - wall time that carbon-run adds to `true`, against `true` alone;
#   - CPU time and maximum RSS of carbon-run wrapping `sleep N` at a 1 s
#     interval, against `sleep N` alone, and the steady-state CPU share.
# Usage: scripts/bench.sh [SECONDS]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g -Wno-deprecated-declarations}"
seconds=${1:-60}
runs=20
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/carbon-run" ./cmd/carbon-run
bin="$work/carbon-run"
reports="$work/reports"

echo "## carbon-run overhead ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m))"
echo
echo "Command: \`scripts/bench.sh $seconds\`"
echo

# median_ms CMD...: median wall time of $runs runs, in milliseconds.
median_ms() {
	local i t0 t1
	for ((i = 0; i < runs; i++)); do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000))
	done | sort -n | awk '{v[NR]=$1} END {printf "%.2f", v[int((NR+1)/2)]/1000}'
}

base=$(median_ms true)
wrapped=$(median_ms "$bin" -q --region FR --report-dir "$reports" -- true)
echo "| Measure | Baseline | carbon-run | Added |"
echo "|---|---:|---:|---:|"
echo "| wall time of \`true\`, median of $runs (ms) | $base | $wrapped |" \
	"$(awk -v a="$wrapped" -v b="$base" 'BEGIN{printf "%.2f", a-b}') |"

# cpu_rss CMD...: "user+sys seconds, max RSS in MB" from GNU time.
cpu_rss() {
	/usr/bin/time -f "%U %S %M" -o "$work/time" "$@" >/dev/null 2>&1 || true
	awk '{printf "%.3f %.1f\n", $1+$2, $3/1024}' "$work/time"
}
read -r cpu0 rss0 < <(cpu_rss "$bin" -q --region FR --report-dir "$reports" -- true)
read -r cpuS rssS < <(cpu_rss sleep "$seconds")
read -r cpuW rssW < <(cpu_rss "$bin" -q --region FR --report-dir "$reports" --interval 1s -- sleep "$seconds")
echo "| CPU time wrapping \`sleep $seconds\` (s) | $cpuS | $cpuW |" \
	"$(awk -v a="$cpuW" -v b="$cpuS" 'BEGIN{printf "%.3f", a-b}') |"
echo "| max RSS wrapping \`sleep $seconds\` (MB) | $rssS | $rssW | |"
echo "| steady-state CPU, % of one core | | $(awk -v w="$cpuW" -v z="$cpu0" -v s="$seconds" \
	'BEGIN{printf "%.4f", (w-z)/s*100}') | |"

# The steady state measured precisely where perf can count task-clock:
# carbon-run's own CPU over the middle 40 s of wrapping a longer sleep.
if perf stat -e task-clock true >/dev/null 2>&1; then
	"$bin" -q --region FR --report-dir "$reports" -- sleep $((seconds + 20)) >/dev/null 2>&1 &
	wrapper=$!
	sleep 10
	# perf stops at the timeout's SIGINT, so its exit status is not an error.
	ms=$({ timeout -s INT 40 perf stat -x, -e task-clock -p "$wrapper" 2>&1 || true; } |
		awk -F, '/task-clock/ {print $1}')
	wait "$wrapper" || true
	echo "| steady-state CPU by perf task-clock over 40 s, % of one core | |" \
		"$(awk -v m="$ms" 'BEGIN{printf "%.4f", m/40000*100}') | |"
fi

# A fixed CPU-bound training run, alone and wrapped: the slowdown that
# sampling causes to the job itself.
go build -o "$work/demo-train" ./scripts/demo-train
wall_s() {
	/usr/bin/time -f "%e" -o "$work/time" "$@" >/dev/null 2>&1 || true
	cat "$work/time"
}
alone=$(wall_s "$work/demo-train" --epochs 150)
wrapped_train=$(wall_s "$bin" -q --region FR --report-dir "$reports" -- "$work/demo-train" --epochs 150)
echo "| wall time of demo-train --epochs 150 (s) | $alone | $wrapped_train |" \
	"$(awk -v a="$wrapped_train" -v b="$alone" 'BEGIN{printf "%+.1f%%", (a-b)/b*100}') |"
echo
echo "Steady state is (CPU wrapping sleep - CPU wrapping true) / $seconds s, so start-up"
echo "(${cpu0} s CPU, ${rss0} MB) is left out. GNU time's maximum RSS is the largest"
echo "process of the tree, which is carbon-run here."
echo
echo "## Go benchmarks"
echo
echo '```'
go test -run '^$' -bench . -benchmem -count 1 ./internal/machine/ ./sampler/... ./report/ ./exporter/ 2>&1 |
	grep -E '^(Benchmark|ok|pkg)' || true
echo '```'
