#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Copyright The carbonrun Authors
#
# Slurm prolog that registers the job with the local carbon-agent, which then
# attributes the node's GPU and CPU energy to the job until epilog.sh ends it.
# It runs on every node of the allocation, so each node measures its own part
# and epilog.sh saves one report per node; merge them afterwards with
#   carbon-report merge -o job.json /var/lib/carbonrun/slurm/<job id>-*.json
#
# Install on every compute node, next to epilog.sh, and add to slurm.conf:
#   Prolog=/etc/slurm/carbonrun-prolog.sh
#   Epilog=/etc/slurm/carbonrun-epilog.sh
#   PrologFlags=Alloc,Contain
# Alloc runs the prolog when the nodes are allocated rather than when the
# first step starts on each node, so the measurement covers the whole job and
# every node of it. If the site already has a prolog, call this script from
# it, or use a directory glob such as Prolog=/etc/slurm/prolog.d/*.
#
# The prolog never fails the job: a non-zero prolog exit would drain the
# node, so every problem is logged through logger(1) and the script exits 0.
#
# Settings, from the environment or from /etc/default/carbonrun-slurm, which
# is read as a shell file and may use $SLURM_JOB_ID and $SLURM_JOB_UID:
#   CARBONRUN_AGENT            agent address: host:port or unix:/path/to.sock
#                              (default 127.0.0.1:9464, the agent's default)
#   CARBONRUN_TIMEOUT_SECONDS  maximum time of the request (default 5)
#   CARBONRUN_JOB_CGROUP       the job's cgroup directory (default: the
#                              Slurm cgroup v2 or v1 layout, see below)

# Whatever happens below, the script exits 0.
trap 'exit 0' EXIT
set -f # GPU lists are split on commas and must not be expanded as globs

CARBONRUN_AGENT=${CARBONRUN_AGENT:-127.0.0.1:9464}
CARBONRUN_TIMEOUT_SECONDS=${CARBONRUN_TIMEOUT_SECONDS:-5}

log() {
	if command -v logger >/dev/null 2>&1; then
		logger -t carbonrun-prolog -p daemon.warning -- "$*"
	else
		printf 'carbonrun-prolog: %s\n' "$*" >&2
	fi
}

if [ -r /etc/default/carbonrun-slurm ]; then
	# A syntax error in a sourced file would end this shell, so check first.
	if sh -n /etc/default/carbonrun-slurm 2>/dev/null; then
		# shellcheck source=/dev/null
		. /etc/default/carbonrun-slurm
	else
		log "/etc/default/carbonrun-slurm has a syntax error, using the defaults"
	fi
fi

job_id=${SLURM_JOB_ID:-}
case $job_id in
'' | *[!A-Za-z0-9._-]*)
	log "SLURM_JOB_ID '$job_id' is missing or invalid, job not registered"
	exit 0
	;;
esac

# GPU indices of the allocation. Slurm sets SLURM_JOB_GPUS in the prolog when
# the job has GPU gres; CUDA_VISIBLE_DEVICES is a fallback for sites whose
# prolog receives it. An empty list tells the agent that the job has no GPU, so
# none of the node's GPU energy is attributed to it.
gpus=
old_ifs=$IFS
IFS=,
for gpu in ${SLURM_JOB_GPUS:-${CUDA_VISIBLE_DEVICES:-}}; do
	case $gpu in
	'' | *[!A-Za-z0-9._:-]*)
		log "job $job_id: ignoring invalid GPU id '$gpu'"
		continue
		;;
	esac
	gpus="${gpus:+$gpus,}\"$gpu\""
done
IFS=$old_ifs

# The job's cgroup, where slurmd places its processes. cgroup v2 (the
# cgroup/v2 plugin) uses system.slice/slurmstepd.scope/job_<id>; cgroup v1
# uses <controller>/slurm/uid_<uid>/job_<id>.
if [ -n "${CARBONRUN_JOB_CGROUP:-}" ]; then
	cgroup=$CARBONRUN_JOB_CGROUP
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	cgroup=/sys/fs/cgroup/system.slice/slurmstepd.scope/job_$job_id
else
	cgroup=/sys/fs/cgroup/cpuacct/slurm/uid_${SLURM_JOB_UID:-0}/job_$job_id
fi
case $cgroup in
*[!A-Za-z0-9._:/@-]*)
	log "job $job_id: ignoring cgroup path with unexpected characters: $cgroup"
	cgroup=
	;;
esac

body="{\"id\":\"$job_id\",\"slurm_job_id\":\"$job_id\",\"gpus\":[$gpus]"
if [ -n "$cgroup" ]; then
	body="$body,\"cgroup\":\"$cgroup\""
fi
body="$body}"

response=$(mktemp "${TMPDIR:-/tmp}/carbonrun-prolog.XXXXXX") || {
	log "job $job_id: cannot create a temporary file, job not registered"
	exit 0
}
trap 'rm -f "$response"; exit 0' EXIT

case $CARBONRUN_AGENT in
unix:*)
	socket=${CARBONRUN_AGENT#unix:}
	url=http://localhost/v1/jobs
	;;
*)
	socket=
	url=http://$CARBONRUN_AGENT/v1/jobs
	;;
esac

status=$(curl --silent --output "$response" --write-out '%{http_code}' \
	--max-time "$CARBONRUN_TIMEOUT_SECONDS" ${socket:+--unix-socket "$socket"} \
	--header 'Content-Type: application/json' --data "$body" "$url")
curl_exit=$?

if [ "$status" = 201 ]; then
	exit 0
fi
if [ "$curl_exit" -ne 0 ]; then
	log "job $job_id (uid ${SLURM_JOB_UID:-unknown}): carbon-agent at $CARBONRUN_AGENT is unreachable" \
		"(curl exit $curl_exit), job runs without energy tracking"
else
	log "job $job_id (uid ${SLURM_JOB_UID:-unknown}): carbon-agent rejected the job with HTTP $status:" \
		"$(head -c 500 "$response")"
fi
exit 0
