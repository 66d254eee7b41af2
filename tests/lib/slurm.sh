# A one-node Slurm cluster for tests: Debian's `slurm-wlm` and `munge` (installed by
# scripts/setup) on loopback, in a fresh temp folder with its own slurm.conf, munge key,
# munged socket, state, spool, pid and log files, and free ports. Nothing system-wide is read
# or touched: the client commands (sbatch, squeue, scancel, sinfo) find this cluster through
# SLURM_CONF, and munge's socket through the conf's AuthInfo. Source this file, then:
#
#   slurm_start [CPUS]    # 0 when the node is idle; non-zero, with the reason and the
#                         # daemons' logs on stderr, when it does not come up
#   ... sbatch / squeue / forja run --executor slurm ...
#   slurm_stop            # cancels every job, stops the daemons, removes the folder
#
#   slurm_restart_ctld    # stops slurmctld and starts it again on its saved state
#   slurm_stop_ctld       # stops slurmctld (jobs already running go on under slurmd)
#   slurm_start_ctld_clean  # starts it with no state (-c): every job is forgotten
#   slurm_wait_empty [S]  # until squeue lists no job (default 30 s); 1 if never
#   slurm_can_run         # 0 when this kernel lets the daemons run; else prints why
#
# slurm_start exports SLURM_CONF, SLURM_DIR, SLURM_PARTITION. The daemons run as root (the
# only way slurmd can start jobs as their user) in the foreground; a watchdog stops them when
# SLURM_OWNER_PID (default: the sourcing shell) dies, so a test killed by a timeout leaves no
# cluster behind.

_slurm_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

slurm_can_run() {
  local m
  for m in munged slurmctld slurmd sbatch squeue scancel sinfo; do
    if ! command -v "$m" >/dev/null; then
      echo "slurm: $m is not installed; run scripts/setup (it installs slurm-wlm and munge)"
      return 1
    fi
  done
  if [[ $(id -u) != 0 ]]; then
    echo "slurm: the test cluster's daemons must run as root (slurmd starts jobs as their user)"
    return 1
  fi
  return 0
}

_slurm_write_conf() {
  local cpus=$1 ctld_port=$2 slurmd_port=$3
  cat >"$SLURM_CONF" <<CONF
# A private one-node cluster on loopback for forja's tests (tests/lib/slurm.sh).
ClusterName=forjatest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SLURM_DIR/munge/munge.socket
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/slurmctld.log
SlurmdLogFile=$SLURM_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups: processes are tracked by their parentage, tasks are not confined.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
# Finished jobs stay visible to squeue for 5 minutes (the executor reads their end there).
MinJobAge=300
KillWait=2
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=forjanode NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=1024 State=UNKNOWN
PartitionName=debug Nodes=forjanode Default=YES MaxTime=INFINITE State=UP
CONF
}

# Starts $1 (a name) with the rest as its command line in the background; sets _PID.
_slurm_spawn() {
  local name=$1
  shift
  "$@" >>"$SLURM_DIR/$name.out" 2>&1 </dev/null &
  _PID=$!
}

_slurm_start_ctld() {
  _slurm_spawn slurmctld slurmctld -D -f "$SLURM_CONF" "$@"
  SLURM_CTLD_PID=$_PID
}

_slurm_fail() {
  local f
  echo "slurm_start: $*" >&2
  for f in "$SLURM_DIR"/*.log "$SLURM_DIR"/*.out "$SLURM_DIR"/munge/*.log; do
    [[ -s $f ]] || continue
    echo "--- $f (last lines)" >&2
    tail -n 20 "$f" >&2
  done
  slurm_stop
  return 1
}

slurm_start() {
  local cpus=${1:-2} i why
  why=$(slurm_can_run) || { echo "$why" >&2; return 1; }
  SLURM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/forja-slurm.XXXXXX") || return 1
  chmod 755 "$SLURM_DIR"
  mkdir -p "$SLURM_DIR/state" "$SLURM_DIR/spool" "$SLURM_DIR/munge"
  chmod 700 "$SLURM_DIR/munge"
  export SLURM_CONF=$SLURM_DIR/slurm.conf SLURM_DIR SLURM_PARTITION=debug
  _slurm_write_conf "$cpus" "$(_slurm_free_port)" "$(_slurm_free_port)"

  # munge: a private key and socket; -F keeps it in the foreground so its pid is ours.
  dd if=/dev/urandom of="$SLURM_DIR/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$SLURM_DIR/munge/munge.key"
  _slurm_spawn munged munged -F --force --socket="$SLURM_DIR/munge/munge.socket" \
    --key-file="$SLURM_DIR/munge/munge.key" --pid-file="$SLURM_DIR/munge/munged.pid" \
    --log-file="$SLURM_DIR/munge/munged.log" --seed-file="$SLURM_DIR/munge/munged.seed"
  SLURM_MUNGED_PID=$_PID
  for ((i = 0; i < 100; i++)); do
    [[ -S $SLURM_DIR/munge/munge.socket ]] && break
    kill -0 "$SLURM_MUNGED_PID" 2>/dev/null || break
    sleep 0.1
  done
  [[ -S $SLURM_DIR/munge/munge.socket ]] || { _slurm_fail "munged did not come up"; return 1; }

  _slurm_start_ctld -i  # -i: ignore any state (there is none yet)
  _slurm_spawn slurmd slurmd -D -f "$SLURM_CONF" -N forjanode
  SLURM_SLURMD_PID=$_PID
  export SLURM_MUNGED_PID SLURM_CTLD_PID SLURM_SLURMD_PID

  # The watchdog: when the owner dies without calling slurm_stop, it stops the cluster.
  nohup bash -c 'while kill -0 "$1" 2>/dev/null && [[ -d $2 ]]; do sleep 1; done
    [[ -d $2 ]] || exit 0
    SLURM_CONF=$2/slurm.conf timeout 10 scancel --full --quiet --partition=debug 2>/dev/null
    sleep 3; kill "$3" "$4" "$5" 2>/dev/null; sleep 2; kill -9 "$3" "$4" "$5" 2>/dev/null; rm -rf "$2"' \
    slurm-watchdog "${SLURM_OWNER_PID:-$$}" "$SLURM_DIR" "$SLURM_SLURMD_PID" "$SLURM_CTLD_PID" \
    "$SLURM_MUNGED_PID" >/dev/null 2>&1 </dev/null &
  disown $! 2>/dev/null || true

  for ((i = 0; i < 300; i++)); do
    if [[ $(sinfo -h -N -o '%t' 2>/dev/null) == idle ]]; then return 0; fi
    kill -0 "$SLURM_CTLD_PID" 2>/dev/null || { _slurm_fail "slurmctld exited"; return 1; }
    kill -0 "$SLURM_SLURMD_PID" 2>/dev/null || { _slurm_fail "slurmd exited"; return 1; }
    sleep 0.1
  done
  _slurm_fail "the node did not become idle within 30 s (sinfo: $(sinfo -h -N -o '%t %E' 2>&1))"
}

slurm_wait_empty() {
  local seconds=${1:-30} i
  for ((i = 0; i < seconds * 10; i++)); do
    [[ -z $(squeue -h -o '%i' 2>/dev/null) ]] && squeue -h >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# Stops a pid we started: TERM, up to 5 s, then KILL; reaps it.
_slurm_kill() {
  local pid=$1 i
  [[ -n $pid ]] || return 0
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

slurm_stop_ctld() {
  _slurm_kill "${SLURM_CTLD_PID:-}"
}

slurm_start_ctld_clean() {
  _slurm_start_ctld -c
  export SLURM_CTLD_PID
}

slurm_restart_ctld() {
  _slurm_kill "${SLURM_CTLD_PID:-}"
  _slurm_start_ctld
  export SLURM_CTLD_PID
}

slurm_stop() {
  [[ -n ${SLURM_DIR:-} && -d $SLURM_DIR ]] || return 0
  # Jobs first, while slurmd can still end their steps: nothing of theirs outlives the cluster.
  if [[ -n ${SLURM_CTLD_PID:-} ]] && kill -0 "$SLURM_CTLD_PID" 2>/dev/null; then
    timeout 10 scancel --full --quiet --partition=debug 2>/dev/null || true
    slurm_wait_empty 15 || true
  fi
  _slurm_kill "${SLURM_SLURMD_PID:-}"
  _slurm_kill "${SLURM_CTLD_PID:-}"
  _slurm_kill "${SLURM_MUNGED_PID:-}"
  if [[ $SLURM_DIR == */forja-slurm.* ]]; then rm -rf "$SLURM_DIR"; fi
  unset SLURM_CONF SLURM_DIR SLURM_PARTITION SLURM_MUNGED_PID SLURM_CTLD_PID SLURM_SLURMD_PID
  return 0
}
