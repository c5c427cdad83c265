#!/usr/bin/env bash
# The Slurm job script examples/slurm/sweep.sbatch, submitted for real: a one-node Slurm
# cluster (munged, slurmctld, slurmd, every file in a temporary directory, ports of its own)
# runs it with `sbatch --wait` on the CPU backend; the sweep must complete under srun's MPI
# (pmix), its summary list every member, and a second submission, as after a time limit,
# must find every member done. Skips (77) without Slurm, munge or root (slurmd must start
# jobs), as on machines that do not have them.
#   usage: tests/test_slurm.sh HEMOTREE_EXE
set -u
EXE=$(realpath "${1:?usage: test_slurm.sh HEMOTREE_EXE}")
SRC=$(cd "$(dirname "$0")/.." && pwd)
for c in sbatch srun sinfo slurmctld slurmd munged; do
  command -v $c >/dev/null || { echo "skip: $c not installed"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "skip: slurmd needs root"; exit 77; }

D=$(mktemp -d /tmp/ht-slurm.XXXXXX)
chmod 755 "$D"
cleanup() {
  [ -f "$D/slurmd.pid" ] && kill "$(cat "$D/slurmd.pid")" 2>/dev/null
  [ -f "$D/slurmctld.pid" ] && kill "$(cat "$D/slurmctld.pid")" 2>/dev/null
  munged -S "$D/munge.sock" -s >/dev/null 2>&1
  sleep 1
  rm -rf "$D"
}
[ -n "${HT_SLURM_KEEP:-}" ] || trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$D"/*.log "$D"/work/*.log; do [ -f "$f" ] && { echo "== $f"; tail -20 "$f"; }; done; exit 1; }

# munge: a key of our own, the daemon on our own socket
dd if=/dev/urandom of="$D/munge.key" bs=1024 count=1 2>/dev/null
chmod 600 "$D/munge.key"
munged -f -S "$D/munge.sock" --key-file="$D/munge.key" --pid-file="$D/munged.pid" \
  --log-file="$D/munged.log" --seed-file="$D/munged.seed" || fail "munged did not start"

host=$(hostname -s)
mkdir -p "$D/spool" "$D/state" "$D/work"
cat > "$D/slurm.conf" <<CONF
ClusterName=hemotree-test
SlurmctldHost=$host
SlurmctldPort=16917
SlurmdPort=16918
AuthType=auth/munge
AuthInfo=socket=$D/munge.sock
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=pmix
SlurmUser=root
SlurmdUser=root
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmdSpoolDir=$D/spool
StateSaveLocation=$D/state
SlurmctldLogFile=$D/slurmctld.log
SlurmdLogFile=$D/slurmd.log
SchedulerType=sched/builtin
SelectType=select/cons_tres
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# the node as the job script asks for it (5 tasks of 4 CPUs, 4 GPUs), whatever this machine
# has: the GPUs are counted, not used (the sweep runs on the CPU backend)
SlurmdParameters=config_overrides
GresTypes=gpu
NodeName=$host CPUs=20 Gres=gpu:4 RealMemory=2000 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=30 State=UP OverSubscribe=FORCE
CONF
# character devices as stand-ins for /dev/nvidia0..3 (Slurm only counts them here)
echo "NodeName=$host Name=gpu File=/dev/null,/dev/zero,/dev/full,/dev/urandom" > "$D/gres.conf"
export SLURM_CONF=$D/slurm.conf
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
for _ in $(seq 60); do
  sinfo -h -o %T 2>/dev/null | grep -q idle && break
  sleep 0.5
done
sinfo -h -o %T | grep -q idle || fail "the node did not come up: $(sinfo 2>&1)"

# the sweep: 4 members of the small test network; the job script exactly as users submit it
# (its #SBATCH lines unchanged), on the CPU backend
cat > "$D/work/sweep.yaml" <<YAML
case: $SRC/tests/data/cli/tiny.yaml
combine: zip
parameters:
  blood.viscosity: [3 mPa s, 3.5 mPa s, 4 mPa s, 5 mPa s]
YAML
cd "$D/work" || fail "no work directory"
submit() {
  HEMOTREE=$EXE HT_BACKEND=cpu OMP_WAIT_POLICY=PASSIVE sbatch --wait --time=10 -o "$1" \
    "$SRC/examples/slurm/sweep.sbatch" sweep.yaml out > "$D/sbatch.log" 2>&1
}
submit first.log || fail "the job failed (sbatch exit $?)"
grep -q "over 5 ranks (rank 0 schedules)" first.log || fail "the sweep did not run over 5 ranks"
[ "$(grep -c ': ok' first.log)" = 4 ] || fail "not every member completed"
[ "$(tail -n +2 out/summary.csv | wc -l)" = 4 ] || fail "summary.csv does not list 4 members"
awk -F, 'NR > 1 && $3 != 0 { bad = 1 } END { exit bad }' out/summary.csv || fail "a member failed in summary.csv"
# resubmitted, as after a time limit: nothing left to run
submit second.log || fail "the second job failed"
grep -q "4 members finished in an earlier run" second.log || fail "the rerun did not find the finished members"
echo "ok: the job script ran a 4-member sweep over 5 ranks under srun, and its resubmission found it done"
