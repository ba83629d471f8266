#!/usr/bin/env bash
# Start a real single-node SLURM cluster on this machine for xmen's SLURM tests:
# munged, slurmctld and slurmd as daemons on localhost, each with a pid file.
#
#   eval "$(bash scripts/slurm/start.sh)"    # exports SLURM_CONF
#   bash scripts/slurm/stop.sh               # stops the daemons by their pid files
#
# Installs the Debian packages `slurm-wlm` and `munge` when they are missing (needs root).
# Writes a minimal slurm.conf (no accounting) under the state folder (see common.sh), then
# waits until `sinfo` shows the node idle. Progress goes to stderr; the only line on stdout is
# `export SLURM_CONF=...`. Already running daemons of this state folder are reused.
#
# Environment: XMEN_SLURM_DIR (state folder), XMEN_SLURM_PORT (slurmctld port, default 6817;
# slurmd uses the next one), XMEN_SLURM_TIMEOUT (seconds to wait for the node, default 60).
set -euo pipefail
source "$(dirname "$0")/common.sh"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null \
    || ! command -v sbatch >/dev/null; then
    if [ "$(id -u)" != 0 ]; then
        say "slurm-wlm and munge are not installed and this is not root: install them with" \
            "\`sudo apt-get install slurm-wlm munge\`"
        exit 1
    fi
    say "installing slurm-wlm and munge from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >&2
fi

HOST="$(hostname -s)"
PORT="${XMEN_SLURM_PORT:-6817}"
TIMEOUT="${XMEN_SLURM_TIMEOUT:-60}"
mkdir -p "$SLURM_STATE"/{ctld,spool,log}

# The node as slurmd sees this machine: CPUs, sockets, cores, threads and memory.
NODE_HW="$(slurmd -C | head -1 | tr ' ' '\n' \
    | grep -E '^(CPUs|Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore|RealMemory)=' | tr '\n' ' ')"
[ -n "$NODE_HW" ] || { say "\`slurmd -C\` did not describe this machine"; exit 1; }

cat > "$SLURM_CONF_FILE.new" <<EOF
# xmen's single-node test cluster, written by scripts/slurm/start.sh. No accounting.
ClusterName=xmen
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
SwitchType=switch/none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
JobRequeue=1
KillWait=15
MinJobAge=300
MaxJobCount=20000
MaxArraySize=10001
StateSaveLocation=$SLURM_STATE/ctld
SlurmdSpoolDir=$SLURM_STATE/spool
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$SLURM_STATE/log/slurmctld.log
SlurmdLogFile=$SLURM_STATE/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$HOST NodeAddr=127.0.0.1 ${NODE_HW}State=UNKNOWN
# OverSubscribe lets up to 4 short test jobs share each core.
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
changed=1
if [ -f "$SLURM_CONF_FILE" ] && cmp -s "$SLURM_CONF_FILE" "$SLURM_CONF_FILE.new"; then
    changed=0
fi
mv "$SLURM_CONF_FILE.new" "$SLURM_CONF_FILE"
export SLURM_CONF="$SLURM_CONF_FILE"

if [ "$changed" = 1 ] && { live_pid "$CTLD_PID" >/dev/null || live_pid "$SLURMD_PID" >/dev/null; }; then
    say "slurm.conf changed: restarting the daemons"
    bash "$(dirname "$0")/stop.sh"
fi

# munged: its own key copy, socket and pid file under the state folder. It runs as the user
# of this script (root, like SlurmUser), which needs --force; the munge user may not even be
# able to enter $HOME.
if ! live_pid "$MUNGE_PID" >/dev/null; then
    mkdir -p "$MUNGE_DIR"
    chmod 0711 "$MUNGE_DIR"
    key="$MUNGE_DIR/munge.key"
    if [ ! -s "$key" ]; then
        if [ -r /etc/munge/munge.key ]; then
            cp /etc/munge/munge.key "$key"
        else
            dd if=/dev/urandom of="$key" bs=1 count=1024 status=none
        fi
    fi
    chmod 0400 "$key"
    munged --force --socket="$MUNGE_SOCKET" --pid-file="$MUNGE_PID" --log-file="$MUNGE_DIR/munged.log" \
        --seed-file="$MUNGE_DIR/munged.seed" --key-file="$key"
    say "munged started (pid $(cat "$MUNGE_PID"))"
fi

# A fresh start clears the previous run's jobs (-c): tests never see stale jobs.
if ! live_pid "$CTLD_PID" >/dev/null; then
    slurmctld -c -f "$SLURM_CONF_FILE"
fi
if ! live_pid "$SLURMD_PID" >/dev/null; then
    slurmd -c -f "$SLURM_CONF_FILE"
fi

deadline=$((SECONDS + TIMEOUT))
state=""
while [ $SECONDS -lt $deadline ]; do
    state="$(sinfo -h -N -n "$HOST" -o %T 2>/dev/null | head -1 || true)"
    case "$state" in
        idle | mixed | allocated) break ;;
        down* | drain* | drained* | fail*)
            scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 0.5
done
case "$state" in
    idle | mixed | allocated) ;;
    *)
        say "the node $HOST is not idle after ${TIMEOUT}s (state: ${state:-no answer from slurmctld})"
        say "logs: $SLURM_STATE/log/slurmctld.log, $SLURM_STATE/log/slurmd.log, $MUNGE_DIR/munged.log"
        tail -5 "$SLURM_STATE/log/slurmctld.log" "$SLURM_STATE/log/slurmd.log" >&2 2>/dev/null || true
        exit 1
        ;;
esac
say "cluster up: node $HOST $state (slurmctld $(cat "$CTLD_PID"), slurmd $(cat "$SLURMD_PID"), munged $(cat "$MUNGE_PID"))"
echo "export SLURM_CONF=$SLURM_CONF_FILE"
