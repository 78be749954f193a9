# A one-node Slurm cluster on localhost in a private directory: its own munge
# key and socket, slurm.conf, state, spool and log files, and free ports, so
# it touches nothing system-wide. Source this file, then:
#   cluster_start DIR   starts munged, slurmctld and slurmd (as root); returns 1
#                       with the reason in CLUSTER_WHY when they cannot run here
#   cluster_stop        stops what cluster_start started (use in a trap)
# The client commands (sbatch, squeue, scontrol) find the cluster through
# SLURM_CONF, which cluster_start exports.

CLUSTER_PIDS=()
CLUSTER_WHY=

_free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cluster_start() {
  local D=$1 t
  mkdir -p "$D"/{state,spool,log,munge}
  if [[ $(id -u) != 0 ]]; then CLUSTER_WHY="not root (slurmd must run as root)"; return 1; fi
  for t in munged mungekey slurmctld slurmd sbatch squeue scontrol; do
    command -v "$t" >/dev/null || { CLUSTER_WHY="$t not installed (apt-get install slurm-wlm munge)"; return 1; }
  done
  chmod 700 "$D/munge"
  mungekey --create --keyfile="$D/munge/munge.key" --force 2>"$D/log/mungekey.log" ||
    { CLUSTER_WHY="mungekey failed: $(cat "$D/log/mungekey.log")"; return 1; }
  chmod 400 "$D/munge/munge.key"
  munged --force --key-file="$D/munge/munge.key" --socket="$D/munge/munge.sock" \
    --pid-file="$D/munge/munged.pid" --log-file="$D/log/munged.log" --seed-file="$D/munge/seed" \
    2>>"$D/log/munged.log" || { CLUSTER_WHY="munged did not start: $(tail -3 "$D/log/munged.log")"; return 1; }
  CLUSTER_PIDS+=("$(cat "$D/munge/munged.pid")")

  local cpus mem ctl_port d_port
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
  ctl_port=$(_free_port); d_port=$(_free_port)
  while [[ $d_port == "$ctl_port" ]]; do d_port=$(_free_port); done
  cat > "$D/slurm.conf" <<CONF
ClusterName=attnmix-test
SlurmctldHost=localhost
SlurmctldPort=$ctl_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$D/munge/munge.sock
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
MpiDefault=none
ReturnToService=2
MinJobAge=600
SlurmdTimeout=30
InactiveLimit=0
KillWait=2
NodeName=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
  export SLURM_CONF=$D/slurm.conf
  slurmctld -c -f "$D/slurm.conf" 2>>"$D/log/slurmctld.err" ||
    { CLUSTER_WHY="slurmctld did not start: $(tail -3 "$D/log/slurmctld.err" "$D/log/slurmctld.log" 2>/dev/null)"; return 1; }
  _cluster_wait_pid "$D/slurmctld.pid" || { CLUSTER_WHY="slurmctld exited: $(tail -3 "$D/log/slurmctld.log")"; return 1; }
  slurmd -f "$D/slurm.conf" 2>>"$D/log/slurmd.err" ||
    { CLUSTER_WHY="slurmd did not start: $(tail -3 "$D/log/slurmd.err" "$D/log/slurmd.log" 2>/dev/null)"; return 1; }
  _cluster_wait_pid "$D/slurmd.pid" || { CLUSTER_WHY="slurmd exited: $(tail -3 "$D/log/slurmd.log")"; return 1; }
  # Wait until the node is idle (registered and schedulable).
  local i state
  for ((i = 0; i < 60; i++)); do
    state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
    [[ $state == idle ]] && return 0
    sleep 0.5
  done
  CLUSTER_WHY="node never became idle (state '$state'): $(tail -3 "$D/log/slurmd.log")"
  return 1
}

_cluster_wait_pid() {
  local f=$1 i
  for ((i = 0; i < 40; i++)); do
    if [[ -s $f ]] && kill -0 "$(cat "$f")" 2>/dev/null; then CLUSTER_PIDS+=("$(cat "$f")"); return 0; fi
    sleep 0.25
  done
  return 1
}

cluster_stop() {
  local p i
  for p in "${CLUSTER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for ((i = 0; i < 20; i++)); do
    local alive=0
    for p in "${CLUSTER_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.25
  done
  for p in "${CLUSTER_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  CLUSTER_PIDS=()
}
