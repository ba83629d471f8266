# Shared by start.sh and stop.sh (sourced, not run): where the test cluster keeps its state.
#
# Everything the cluster writes (slurm.conf, munge socket and key, pid files, logs, spool and
# state) lives under one folder that these scripts own:
#   $XMEN_SLURM_DIR, else ${XMEN_CACHE:-$HOME/.cache/xmen}/slurm
SLURM_STATE="${XMEN_SLURM_DIR:-${XMEN_CACHE:-$HOME/.cache/xmen}/slurm}"
SLURM_CONF_FILE="$SLURM_STATE/slurm.conf"
MUNGE_DIR="$SLURM_STATE/munge"
MUNGE_SOCKET="$MUNGE_DIR/munge.socket.2"
MUNGE_PID="$MUNGE_DIR/munged.pid"
CTLD_PID="$SLURM_STATE/slurmctld.pid"
SLURMD_PID="$SLURM_STATE/slurmd.pid"

say() { echo "slurm: $*" >&2; }

# The pid in a pid file when that process is alive, else nothing.
live_pid() {
    local pid
    [ -f "$1" ] || return 1
    pid="$(tr -dc 0-9 < "$1")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}
