#!/usr/bin/env bash
# Checks the NVML path on a real GPU machine, against references that do not
# use carbonrun's code:
#   1. carbon-run wraps the PyTorch loop (scripts/pytorch/train.py) for
#      SECONDS; each GPU's energy in its report is compared with the NVML
#      total-energy counter read through ctypes before and after
#      (scripts/nvml_energy.py), and with nvidia-smi power.draw sampled every
#      100 ms and integrated;
#   2. carbon-agent runs, a job is started through its API, the same loop
#      runs, the job is ended, and its GPU energy is compared the same way.
# Results go to $OUT (or ./device-check-out) as a Markdown table for
# BENCHMARKS.md, plus the reports.
# Usage: scripts/device-check.sh [SECONDS]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
out=${OUT:-./device-check-out}
mkdir -p "$out"
export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g -Wno-deprecated-declarations}"

if [ -x bin/carbon-run ] && [ -x bin/carbon-agent ]; then
	echo "using prebuilt bin/carbon-run and bin/carbon-agent"
else
	go build -o bin/carbon-run ./cmd/carbon-run
	go build -o bin/carbon-agent ./cmd/carbon-agent
fi
nvidia-smi --query-gpu=index,name,driver_version,power.limit --format=csv | tee "$out/gpus.csv"

# integrate_smi FILE: joules per GPU index from "index, watts" lines 100 ms apart.
integrate_smi() {
	awk -F', ' '{ j[$1] += $2 * 0.1 } END { for (i in j) printf "%s %.1f\n", i, j[i] }' "$1" | sort -n
}

# measure NAME CMD...: runs CMD between two counter reads with nvidia-smi sampling.
measure() {
	local name=$1
	shift
	python3 scripts/nvml_energy.py >"$out/$name-before.txt"
	nvidia-smi --query-gpu=index,power.draw --format=csv,noheader,nounits -lms 100 >"$out/$name-smi.txt" &
	local smi=$!
	"$@"
	kill "$smi"
	python3 scripts/nvml_energy.py >"$out/$name-after.txt"
	integrate_smi "$out/$name-smi.txt" >"$out/$name-smi-joules.txt"
}

# compare NAME REPORT: one table row per GPU.
compare() {
	local name=$1 report=$2
	python3 - "$out/$name-before.txt" "$out/$name-after.txt" "$out/$name-smi-joules.txt" "$report" "$name" <<'PY'
import json, sys
before = {l.split()[0]: int(l.split()[2]) for l in open(sys.argv[1])}
after = {l.split()[0]: int(l.split()[2]) for l in open(sys.argv[2])}
smi = {l.split()[0]: float(l.split()[1]) for l in open(sys.argv[3])}
rep = json.load(open(sys.argv[4]))
for c in rep["components"]:
    if c["kind"] != "gpu":
        continue
    i = str(c["index"])
    counter = (after[i] - before[i]) / 1000
    print(f"| {sys.argv[5]} | {i} {c['name']} | {c['method']} | {c['energy_joules']:.0f} | {counter:.0f} "
          f"| {c['energy_joules'] / counter:.4f} | {smi.get(i, 0):.0f} | {c['mean_power_watts']:.0f} |")
PY
}

{
	echo "| Run | GPU | Method | carbonrun (J) | NVML counter via ctypes (J) | Ratio | nvidia-smi power x time (J) | Mean power (W) |"
	echo "|---|---|---|---:|---:|---:|---:|---:|"
} >"$out/device-check.md"

# 1. carbon-run around the training loop.
measure run bin/carbon-run --region FR --report-dir "$out/reports" --job-id device-check \
	-- python3 scripts/pytorch/train.py --seconds "$seconds"
compare run "$out/reports/device-check/report.json" >>"$out/device-check.md"

# 2. carbon-agent with a job started and ended through its API.
sock=$(mktemp -u /tmp/carbon-agent.XXXXXX.sock)
bin/carbon-agent --listen "unix:$sock" --region FR --report-dir "$out/agent-reports" \
	--state-dir "$(mktemp -d)" >"$out/agent.log" 2>&1 &
agent=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
agent_job() {
	python3 scripts/pytorch/train.py --seconds "$seconds" &
	local pid=$!
	curl -sf --unix-socket "$sock" -XPOST http://agent/v1/jobs -d "{\"id\":\"device-check\",\"pids\":[$pid],\"gpus\":[\"0\"]}" >/dev/null
	wait "$pid"
	curl -sf --unix-socket "$sock" -XPOST http://agent/v1/jobs/device-check/end >"$out/agent-report.json"
}
measure agent agent_job
kill -TERM "$agent"
compare agent "$out/agent-report.json" >>"$out/device-check.md"

cat "$out/device-check.md"
