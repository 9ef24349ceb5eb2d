#!/usr/bin/env bash
# A private one-node SLURM cluster for polypersona's SLURM tests and the `cluster` benchmark.
#
#   test/slurm/cluster.sh install        apt-get slurm-wlm + munge when missing (root only)
#   test/slurm/cluster.sh start [DIR]    start munged, slurmctld and slurmd; prints `export` lines
#   test/slurm/cluster.sh stop DIR       cancel its jobs, stop its daemons, delete DIR
#   test/slurm/cluster.sh restart-ctld DIR   stop and start slurmctld (jobs survive: state is saved)
#
# Isolation: everything lives in DIR (default: a fresh mktemp dir) — slurm.conf, the munge key and
# socket, state, spool, logs, pid files — and the two TCP ports are picked free at start. Nothing is
# written to /etc: clients find this cluster only through SLURM_CONF=DIR/slurm.conf, which the
# tests read from POLYPERSONA_TEST_SLURM=DIR. A cluster left running by someone's experiment is
# therefore invisible to every other test run; `stop` (or `.ci/run`'s exit trap) removes it.
#
# Latency: batch_sched_delay=0 lets slurmctld place a batch job on its next pass (~1 s) instead of
# after the default 3 s, so the tests' and the benchmark's jobs do not wait for nothing.
#
# Resources: the node declares this machine's CPUs and memory (as `slurmd -C` reports them, so the
# node is not drained for "low memory"), and every job gets 256 MB and 1 CPU unless it asks for
# more: trivial test stages never claim the whole machine. task/none enforces no limits.
set -euo pipefail

die() { echo "cluster.sh: $*" >&2; exit 1; }

binaries_present() {
  command -v munged >/dev/null && command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
    command -v sbatch >/dev/null && command -v squeue >/dev/null && command -v scontrol >/dev/null
}

cmd_install() {
  if binaries_present; then return 0; fi
  [ "$(id -u)" = 0 ] || die "slurm-wlm and munge are not installed and this is not root (cannot apt-get)"
  command -v apt-get >/dev/null || die "slurm-wlm and munge are not installed and there is no apt-get"
  export DEBIAN_FRONTEND=noninteractive
  # Debian's postinst scripts would start the daemons with the system's config; policy-rc.d (when
  # present) stops that, and nothing here relies on them.
  apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends slurm-wlm munge >/dev/null ||
    { apt-get update -q -o DPkg::Lock::Timeout=300 >/dev/null && apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends slurm-wlm munge >/dev/null; } ||
    die "apt-get install slurm-wlm munge failed"
  binaries_present || die "slurm-wlm installed but its binaries are not on PATH"
}

free_ports() {
  # Two ports the kernel hands out now; bound briefly and released (the race is harmless: a clash
  # makes `start` fail loudly, never join someone else's cluster, because munge keys differ).
  node -e '
    const net = require("node:net");
    const take = () => new Promise((ok) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => ok(s)); });
    Promise.all([take(), take()]).then((ss) => { console.log(ss.map((s) => s.address().port).join(" ")); ss.forEach((s) => s.close()); });'
}

wait_for() { # seconds, description, command...
  local limit=$1 what=$2; shift 2
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.2
  done
  return 0
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_ctld() {
  local dir=$1
  slurmctld -f "$dir/slurm.conf" -i >>"$dir/slurmctld.out" 2>&1 || { tail -20 "$dir/slurmctld.log" >&2 || true; die "slurmctld did not start"; }
  wait_for 30 "slurmctld" env SLURM_CONF="$dir/slurm.conf" scontrol ping || { tail -20 "$dir/slurmctld.log" >&2 || true; die "slurmctld does not answer"; }
}

cmd_start() {
  binaries_present || die "slurm-wlm is not installed (run: $0 install)"
  local dir=${1:-}
  if [ -z "$dir" ]; then dir=$(mktemp -d "${TMPDIR:-/tmp}/pp-slurm.XXXXXX"); else mkdir -p "$dir"; fi
  dir=$(cd "$dir" && pwd)
  chmod 700 "$dir"
  # A start that fails half-way stops what it started: no daemon outlives a failed start.
  trap 'start_failed "$dir"' EXIT
  mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
  chmod 700 "$dir/munge"
  read -r ctld_port slurmd_port < <(free_ports)
  local host cpus mem name
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)
  [ -n "$mem" ] || mem=1024
  name="pp$(basename "$dir" | tr -dc 'a-zA-Z0-9' | tr 'A-Z' 'a-z' | tail -c 8)"

  head -c 1024 /dev/urandom >"$dir/munge/munge.key"
  chmod 400 "$dir/munge/munge.key"
  munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.sock" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" \
    >>"$dir/munge/munged.out" 2>&1 || { cat "$dir/munge/munged.out" "$dir/munge/munged.log" >&2 2>/dev/null || true; die "munged did not start"; }
  wait_for 10 "munged" test -S "$dir/munge/munge.sock" || die "munged socket did not appear"

  cat >"$dir/slurm.conf" <<EOF
# Written by test/slurm/cluster.sh: a private one-node cluster in $dir.
ClusterName=$name
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
MinJobAge=300
KillWait=5
SlurmctldTimeout=30
SlurmdTimeout=60
DefMemPerCPU=256
NodeName=ppnode NodeAddr=127.0.0.1 NodeHostname=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ppnode Default=YES MaxTime=INFINITE State=UP
EOF

  start_ctld "$dir"
  slurmd -f "$dir/slurm.conf" -N ppnode >>"$dir/slurmd.out" 2>&1 || { tail -20 "$dir/slurmd.log" >&2 || true; die "slurmd did not start"; }
  if ! wait_for 60 "node idle" node_idle "$dir"; then
    tail -20 "$dir/slurmd.log" >&2 || true
    die "the node did not become idle"
  fi
  trap - EXIT
  echo "export POLYPERSONA_TEST_SLURM='$dir'"
  echo "export SLURM_CONF='$dir/slurm.conf'"
}

start_failed() {
  local dir=$1
  for f in slurmd.pid slurmctld.pid munge/munged.pid; do
    if pid_alive "$dir/$f"; then kill "$(cat "$dir/$f")" 2>/dev/null || true; fi
  done
  for f in slurmd.pid slurmctld.pid munge/munged.pid; do
    wait_for 10 "$f" not_alive "$dir/$f" || kill -9 "$(cat "$dir/$f")" 2>/dev/null || true
  done
  rm -rf "$dir"
}

node_idle() {
  local state
  state=$(SLURM_CONF="$1/slurm.conf" sinfo -h -n ppnode -o %T 2>/dev/null) || return 1
  [ "$state" = idle ]
}

cmd_stop() {
  local dir=${1:?usage: cluster.sh stop DIR}
  [ -f "$dir/slurm.conf" ] || die "$dir is not a cluster made by this script"
  export SLURM_CONF="$dir/slurm.conf"
  # Jobs first: slurmstepd outlives slurmd, so its processes would keep running.
  if pid_alive "$dir/slurmctld.pid"; then
    scancel --full --quiet --cluster= 2>/dev/null || scancel --quiet --state=PENDING 2>/dev/null || true
    local ids
    ids=$(squeue -h -o %i 2>/dev/null | tr '\n' ' ') || ids=
    [ -z "$ids" ] || scancel --full $ids 2>/dev/null || true
    wait_for 30 "jobs gone" no_jobs_running "$dir" || echo "cluster.sh: jobs still running after 30 s" >&2
  fi
  for f in slurmd.pid slurmctld.pid munge/munged.pid; do
    if pid_alive "$dir/$f"; then kill "$(cat "$dir/$f")" 2>/dev/null || true; fi
  done
  for f in slurmd.pid slurmctld.pid munge/munged.pid; do
    if ! wait_for 20 "$f" not_alive "$dir/$f"; then kill -9 "$(cat "$dir/$f")" 2>/dev/null || true; fi
  done
  rm -rf "$dir"
}

no_jobs_running() { [ -z "$(SLURM_CONF="$1/slurm.conf" squeue -h -t R,CG,CF -o %i 2>/dev/null)" ]; }
not_alive() { ! pid_alive "$1"; }

cmd_restart_ctld() {
  local dir=${1:?usage: cluster.sh restart-ctld DIR}
  if pid_alive "$dir/slurmctld.pid"; then
    kill "$(cat "$dir/slurmctld.pid")"
    wait_for 30 "slurmctld exit" not_alive "$dir/slurmctld.pid" || die "slurmctld did not stop"
  fi
  start_ctld "$dir"
}

case "${1:-}" in
  install) cmd_install ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  restart-ctld) shift; cmd_restart_ctld "$@" ;;
  *) echo "usage: $0 install | start [DIR] | stop DIR | restart-ctld DIR" >&2; exit 2 ;;
esac
