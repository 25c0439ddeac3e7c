#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Copyright The carbonrun Authors
#
# Slurm epilog that ends the job in the local carbon-agent and saves the
# node's final report as <report dir>/<job id>-<short hostname>.json. Put the
# report directory on a shared file system to collect every node's report in
# one place, then merge them into one job report with
#   carbon-report merge -o job-1234.json /var/lib/carbonrun/slurm/1234-*.json
# See prolog.sh for the slurm.conf lines.
#
# The epilog never fails the job: a non-zero epilog exit would drain the
# node, so every problem is logged through logger(1) and the script exits 0.
#
# Settings, from the environment or from /etc/default/carbonrun-slurm, which
# is read as a shell file:
#   CARBONRUN_AGENT            agent address: host:port or unix:/path/to.sock
#                              (default 127.0.0.1:9464, the agent's default)
#   CARBONRUN_TIMEOUT_SECONDS  maximum time of the request (default 10)
#   CARBONRUN_SLURM_REPORT_DIR directory for the saved reports
#                              (default /var/lib/carbonrun/slurm)

# Whatever happens below, the script exits 0.
trap 'exit 0' EXIT

CARBONRUN_AGENT=${CARBONRUN_AGENT:-127.0.0.1:9464}
CARBONRUN_TIMEOUT_SECONDS=${CARBONRUN_TIMEOUT_SECONDS:-10}
CARBONRUN_SLURM_REPORT_DIR=${CARBONRUN_SLURM_REPORT_DIR:-/var/lib/carbonrun/slurm}

log() {
	if command -v logger >/dev/null 2>&1; then
		logger -t carbonrun-epilog -p daemon.warning -- "$*"
	else
		printf 'carbonrun-epilog: %s\n' "$*" >&2
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
	log "SLURM_JOB_ID '$job_id' is missing or invalid, no report saved"
	exit 0
	;;
esac

host=$(uname -n)
host=${host%%.*}
report_dir=$CARBONRUN_SLURM_REPORT_DIR
if ! mkdir -p "$report_dir"; then
	log "job $job_id: cannot create report directory $report_dir, ending the job without saving its report"
	report_dir=
fi

# The response goes to a temporary file in the report directory, so that the
# final rename is atomic and readers never see a partial report.
response=$(mktemp "${report_dir:-${TMPDIR:-/tmp}}/.carbonrun-$job_id.XXXXXX") || {
	log "job $job_id: cannot create a temporary file, no report saved"
	exit 0
}
trap 'rm -f "$response"; exit 0' EXIT

case $CARBONRUN_AGENT in
unix:*)
	socket=${CARBONRUN_AGENT#unix:}
	url=http://localhost/v1/jobs/$job_id/end
	;;
*)
	socket=
	url=http://$CARBONRUN_AGENT/v1/jobs/$job_id/end
	;;
esac

status=$(curl --silent --output "$response" --write-out '%{http_code}' \
	--max-time "$CARBONRUN_TIMEOUT_SECONDS" ${socket:+--unix-socket "$socket"} \
	--request POST "$url")
curl_exit=$?

if [ "$curl_exit" -ne 0 ]; then
	log "job $job_id: carbon-agent at $CARBONRUN_AGENT is unreachable (curl exit $curl_exit), no report saved"
	exit 0
fi
if [ "$status" != 200 ]; then
	# 404 means the agent never saw the job: the prolog did not run on this
	# node, or the agent's state directory was lost. 503 means the agent is
	# shutting down; a restarted agent resumes the job from its checkpoint.
	log "job $job_id: carbon-agent returned HTTP $status, no report saved: $(head -c 500 "$response")"
	exit 0
fi
if [ -z "$report_dir" ]; then
	exit 0
fi

report=$report_dir/$job_id-$host.json
if ! chmod 0644 "$response" || ! mv -f "$response" "$report"; then
	log "job $job_id: cannot save report to $report"
fi
exit 0
