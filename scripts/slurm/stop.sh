#!/usr/bin/env bash
# Stop the test cluster started by start.sh: slurmd, slurmctld, then munged, each by its own
# pid file (TERM, then KILL after 10 s). Daemons that are not running are skipped.
set -uo pipefail
source "$(dirname "$0")/common.sh"

stop_one() {
    local name="$1" file="$2" pid
    pid="$(live_pid "$file")" || { rm -f "$file"; return 0; }
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "$name (pid $pid) ignored TERM for 10 s: killing it"
        kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$file"
    say "$name stopped (pid $pid)"
}

stop_one slurmd "$SLURMD_PID"
stop_one slurmctld "$CTLD_PID"
stop_one munged "$MUNGE_PID"
