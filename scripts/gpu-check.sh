#!/usr/bin/env bash
# The whole GPU check in one call, run on a GPU machine from the repository root with the
# bundle/ made by scripts/gpu-bundle.sh: the gpu-labelled tests, CPU/CUDA parity on every
# benchmark case, compute-sanitizer on one short run, timings, restarts, periodic stops and
# `hemotree bench` against the speed targets. Results go to $OUT (default out/gpu) and a
# short table is printed last.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-out/gpu}
mkdir -p "$OUT"
export LD_LIBRARY_PATH=$PWD/bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
B=bundle/bin
PY=${PY:-python3}
table=()
# each row also goes to $OUT/summary.txt as it is made: what a call cut short by its time
# limit had done still comes back with the logs
: > "$OUT/summary.txt"
row() {
  table+=("$(printf '%-34s %-8s %s' "$1" "$2" "$3")")
  printf '%s\n' "${table[${#table[@]}-1]}" >> "$OUT/summary.txt"
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/device.txt"
nproc | sed 's/^/cpu cores: /' | tee -a "$OUT/device.txt"

# 1. gpu-labelled tests (they would skip with 77 without a device)
for t in "$B"/test_gpu_*; do
  timeout 180 "$t" > "$OUT/$(basename "$t").log" 2>&1
  rc=$?
  row "$(basename "$t")" "$([ $rc = 0 ] && echo pass || echo "FAIL($rc)")" "$(tail -1 "$OUT/$(basename "$t").log")"
done

# the same parity tests with the step as one cooperative launch per chunk (k_persistent);
# the persistent runs further down only when this one ended (a kernel that never passes a
# barrier would otherwise spend the device time of every one of them)
persist=1
for t in "$B"/test_gpu_parity; do
  HEMOTREE_CUDA_LAUNCH=persistent timeout 180 "$t" > "$OUT/$(basename "$t")_persistent.log" 2>&1
  rc=$?
  [ $rc = 124 ] && persist=0
  row "$(basename "$t") persistent" "$([ $rc = 0 ] && echo pass || echo "FAIL($rc)")" "$(tail -1 "$OUT/$(basename "$t")_persistent.log")"
done

# whole runs through the command line on both backends (tests/test_gpu_cli.py: parity of every
# case, ensembles, launch modes, writer thread, next interval begun ahead or not, restart
# from device state, periodic stops, a failing member), where this machine's Python has pytest; bounded, since its sweep test
# starts MPI as a singleton (see 8.)
if $PY -c "import pytest, h5py" 2>/dev/null; then
  HEMOTREE=$PWD/$B/hemotree timeout 240 $PY -m pytest -q -rs -p no:cacheprovider tests/test_gpu_cli.py \
    > "$OUT/test_gpu_cli.log" 2>&1
  rc=$?
  row "test_gpu_cli.py" "$([ $rc = 0 ] && echo pass || echo "FAIL($rc)")" "$(tail -1 "$OUT/test_gpu_cli.log")"
else
  row "test_gpu_cli.py" "absent" "no pytest here"
fi

# the CPU's vectorised loops against the per-cell functions on this host's CPU (another
# vendor or vector width than the development machine's)
"$B/test_cell_loops" > "$OUT/test_cell_loops.log" 2>&1
rc=$?
row "test_cell_loops (host CPU)" "$([ $rc = 0 ] && echo pass || echo "FAIL($rc)")" "$(grep -m1 -o 'model name.*' /proc/cpuinfo | cut -c1-60)"

# 2. parity: each case on both backends, same output times, compared field by field
for c in cases/benchmarks/*.yaml ${HT_EXTRA_CASES:-}; do
  n=$(basename "$c" .yaml)
  args=(--quiet --cycles "${HT_PARITY_CYCLES:-1}")
  "$B/hemotree" run "$c" -o "$OUT/cpu_$n.h5" --backend cpu "${args[@]}" > "$OUT/cpu_$n.log" 2>&1
  r1=$?
  "$B/hemotree" run "$c" -o "$OUT/gpu_$n.h5" --backend cuda "${args[@]}" > "$OUT/gpu_$n.log" 2>&1
  r2=$?
  if [ $r1 != 0 ] || [ $r2 != 0 ]; then
    row "parity $n" "FAIL" "cpu rc $r1, cuda rc $r2: $(tail -1 "$OUT/gpu_$n.log")"
    continue
  fi
  res=$($PY tests/compare_outputs.py "$OUT/cpu_$n.h5" "$OUT/gpu_$n.h5" --tol 1e-10 --json)
  rc=$?
  row "parity $n" "$([ $rc = 0 ] && echo pass || echo FAIL)" "$res"
  [ $persist = 1 ] || continue
  HEMOTREE_CUDA_LAUNCH=persistent timeout 120 "$B/hemotree" run "$c" -o "$OUT/gpp_$n.h5" --backend cuda "${args[@]}" \
    > "$OUT/gpp_$n.log" 2>&1
  r3=$?
  res=$($PY tests/compare_outputs.py "$OUT/cpu_$n.h5" "$OUT/gpp_$n.h5" --tol 1e-10 --json)
  rc=$?
  row "parity $n persistent" "$([ $r3 = 0 ] && [ $rc = 0 ] && echo pass || echo "FAIL($r3)")" "$res"
  # the two launch modes run the same phase functions in the same order: the same bits
  res=$($PY tests/compare_outputs.py "$OUT/gpu_$n.h5" "$OUT/gpp_$n.h5" --tol 0 --json)
  rc=$?
  row "graph = persistent $n" "$([ $rc = 0 ] && echo pass || echo FAIL)" "$res"
done

# 3. compute-sanitizer on a short run of every kernel path (tracer, junction, windkessel,
#    resistance, probes)
if command -v compute-sanitizer >/dev/null; then
  for tool in memcheck racecheck initcheck synccheck; do
    compute-sanitizer --tool $tool --error-exitcode 9 "$B/hemotree" run tests/data/cli/tiny.yaml \
      -o "$OUT/san_$tool.h5" --backend cuda --quiet --set run.t_end=0.05 > "$OUT/san_$tool.log" 2>&1
    rc=$?
    row "compute-sanitizer $tool" "$([ $rc = 0 ] && echo pass || echo "FAIL($rc)")" "$(grep -m1 'ERROR SUMMARY' "$OUT/san_$tool.log")"
  done
  for tool in memcheck racecheck; do
    [ $persist = 1 ] || break
    HEMOTREE_CUDA_LAUNCH=persistent timeout 180 compute-sanitizer --tool $tool --error-exitcode 9 "$B/hemotree" run \
      tests/data/cli/tiny.yaml -o "$OUT/sanp_$tool.h5" --backend cuda --quiet --set run.t_end=0.01 \
      > "$OUT/sanp_$tool.log" 2>&1
    rc=$?
    row "compute-sanitizer $tool persistent" "$([ $rc = 0 ] && echo pass || echo "FAIL($rc)")" "$(grep -m1 'ERROR SUMMARY' "$OUT/sanp_$tool.log")"
  done
else
  row "compute-sanitizer" "absent" "not on PATH"
fi

# 4. timings: wall seconds per cardiac cycle, both backends (OpenMP on all CPU cores), with
#    the output as a user writes it; on CUDA with the appends on the writer thread (the
#    default there) and in line, whose difference is the output time the thread hides, and
#    with no interval begun ahead (HEMOTREE_CUDA_AHEAD=0: the device waits for each output's
#    copy and queuing), whose difference is what the overlap gains
for c in ${HT_TIMING_CASES:-cases/benchmarks/adan56.yaml cases/benchmarks/invitro-37.yaml}; do
  [ -f "$c" ] || continue
  n=$(basename "$c" .yaml)
  for be in cpu cuda cuda-inline cuda-serial; do
    extra=()
    [ $be = cuda-inline ] && extra=(--output-thread off)
    HEMOTREE_CUDA_AHEAD=$([ $be = cuda-serial ] && echo 0 || echo 1) \
    "$B/hemotree" run "$c" -o "$OUT/time_${be}_$n.h5" --backend ${be%-*} --cycles "${HT_TIMING_CYCLES:-2}" \
      ${extra[@]+"${extra[@]}"} > "$OUT/time_${be}_$n.log" 2>&1
    row "time $n $be" "rc=$?" "$(grep -m1 'steps,' "$OUT/time_${be}_$n.log")"
  done
done

# 5. checkpoint/restart on the device (ht_cuda_state): a CUDA run killed after a checkpoint
#    and continued on CUDA equals the uninterrupted CUDA run (tolerance 0: bitwise); the
#    same checkpoint continued on the CPU agrees to the parity tolerance
c=tests/data/heart/tiny_devices.yaml
"$B/hemotree" run $c -o "$OUT/ck_full.h5" --backend cuda --cycles 2 --quiet > "$OUT/ck_full.log" 2>&1
HEMOTREE_TEST_ABORT_AFTER_CKPT=1+4 "$B/hemotree" run $c -o "$OUT/ck_part.h5" --backend cuda --cycles 2 \
  --checkpoint-every "0.3 s" --quiet > "$OUT/ck_part.log" 2>&1
rk=$?
cp "$OUT/ck_part.h5" "$OUT/ck_cpu.h5" 2>/dev/null
cp "$OUT/ck_part.ckpt" "$OUT/ck_cpu.ckpt" 2>/dev/null
"$B/hemotree" run $c --restart "$OUT/ck_part.ckpt" --backend cuda --cycles 2 --quiet >> "$OUT/ck_part.log" 2>&1
rr=$?
res=$($PY tests/compare_outputs.py "$OUT/ck_full.h5" "$OUT/ck_part.h5" --tol 0 --json)
rc=$?
row "restart on cuda (bitwise)" "$([ $rk = 3 ] && [ $rr = 0 ] && [ $rc = 0 ] && echo pass || echo "FAIL($rk/$rr/$rc)")" "$res"
"$B/hemotree" run $c --restart "$OUT/ck_cpu.ckpt" --backend cpu --cycles 2 --quiet > "$OUT/ck_cpu.log" 2>&1
rr=$?
res=$($PY tests/compare_outputs.py "$OUT/ck_full.h5" "$OUT/ck_cpu.h5" --tol 1e-10 --json)
rc=$?
row "cuda checkpoint continued on cpu" "$([ $rr = 0 ] && [ $rc = 0 ] && echo pass || echo "FAIL($rr/$rc)")" "$res"

# 6. periodic-state stop in one device launch: members stop at different cycles (the host's
#    stop reaches the device) and equal the CPU backend's members
printf '%s\nensemble:\n  combine: zip\n  parameters:\n    run.convergence_tolerance: [1e-2, 1e-3, 1e-5]\n' \
  "$(cat tests/data/cli/tiny.yaml)" > "$OUT/stop.yaml"
for be in cpu cuda; do
  "$B/hemotree" run "$OUT/stop.yaml" -o "$OUT/stop_$be.h5" --backend $be --cycles 30 \
    --set run.stop_when_periodic=true --quiet > "$OUT/stop_$be.log" 2>&1
done
ok=pass; det=""
for k in 0 1 2; do
  res=$($PY tests/compare_outputs.py "$OUT/stop_cpu_m$k.h5" "$OUT/stop_cuda_m$k.h5" --tol 1e-10 --json) || ok=FAIL
  det="$det m$k: $res"
done
row "periodic stop, cuda launch" "$ok" "$det"

# 7. `hemotree bench` against the speed targets: single members of every standard network
#    (ADAN56 <= 20 ms of wall time per cycle), ADAN56 ensembles (1024 members >= 500
#    member-cycles/s), the CPU backend on all cores; the JSON files are the record for
#    docs/performance.md
"$B/hemotree" bench --backend cuda --cycles "${HT_BENCH_CYCLES:-2}" --json > "$OUT/bench_cuda.json" 2> "$OUT/bench_cuda.log"
row "bench cuda (single members)" "rc=$?" "$OUT/bench_cuda.json"
"$B/hemotree" bench --backend cuda --cycles 1 --networks adan56 --members "${HT_BENCH_MEMBERS:-1,32,256,1024}" \
  --json > "$OUT/bench_members.json" 2> "$OUT/bench_members.log"
row "bench cuda (ADAN56 ensembles)" "rc=$?" "$OUT/bench_members.json"
if [ $persist = 1 ]; then
  HEMOTREE_CUDA_LAUNCH=persistent timeout 180 "$B/hemotree" bench --backend cuda --cycles "${HT_BENCH_CYCLES:-2}" \
    --json > "$OUT/bench_cuda_persistent.json" 2> "$OUT/bench_cuda_persistent.log"
  row "bench cuda persistent (single)" "rc=$?" "$OUT/bench_cuda_persistent.json"
  HEMOTREE_CUDA_LAUNCH=persistent timeout 240 "$B/hemotree" bench --backend cuda --cycles 1 --networks adan56 \
    --members "${HT_BENCH_MEMBERS:-1,32,256,1024}" --json > "$OUT/bench_members_persistent.json" \
    2> "$OUT/bench_members_persistent.log"
  row "bench cuda persistent (ADAN56 ens.)" "rc=$?" "$OUT/bench_members_persistent.json"
else
  row "persistent kernel" "SKIP" "its parity test timed out: no further persistent runs"
fi
"$B/hemotree" bench --backend cpu --cycles 1 --networks adan56,37 --json > "$OUT/bench_cpu.json" 2> "$OUT/bench_cpu.log"
row "bench cpu ($(nproc) threads)" "rc=$?" "$OUT/bench_cpu.json"
# 8. the members of 6 as a sweep's launch with a checkpoint at every output time: a stop the
#    host records at a checkpoint's output time must stay (the checkpoint reads the device's
#    clocks back), so each member ends at the CPU's time
printf 'case: %s\ncombine: zip\nparameters:\n  run.convergence_tolerance: [1e-2, 1e-3, 1e-5]\n' \
  "$PWD/tests/data/cli/tiny.yaml" > "$OUT/stopsweep.yaml"
for be in cpu cuda; do
  # (a sweep starts MPI as a singleton, which the bundled MPI may not manage without its
  # installation: bounded, and last, so that it can cost nothing else)
  timeout 60 "$B/hemotree" sweep "$OUT/stopsweep.yaml" -o "$OUT/sweep_$be" --backend $be --cycles 30 \
    --set run.stop_when_periodic=true --checkpoint-every "0.008 s" --quiet > "$OUT/sweep_$be.log" 2>&1
done
res=$($PY - "$OUT" <<'PYEOF'
import csv, sys
o = sys.argv[1]
try:
    t = [[r["simulated_seconds"] for r in csv.DictReader(open("%s/sweep_%s/summary.csv" % (o, b)))]
         for b in ("cpu", "cuda")]
except (OSError, KeyError) as e:
    print("FAIL", e)
    sys.exit(0)
print("pass" if t[0] == t[1] and len(t[0]) == 3 else "FAIL", "end times cpu", t[0], "cuda", t[1])
PYEOF
)
row "periodic stop + checkpoints, sweep" "${res%% *}" "${res#* }"

while IFS= read -r line; do row "${line%%|*}" "${line#*|}" ""; done < <($PY - "$OUT" <<'PYEOF'
import json, sys
out = sys.argv[1]
def load(name):
    try:
        with open(out + "/" + name) as f:
            return json.load(f)["networks"]
    except (OSError, ValueError, KeyError):
        return []
for mode, suffix in (("graph", ""), ("persistent", "_persistent")):
    for r in load("bench_cuda%s.json" % suffix):
        ms = 1e3 / r["cycles_per_s"]
        tgt = " (target <= 20)" if r["network"].startswith("ADAN56") else ""
        print("%s %s: %.1f ms/cycle%s|%s" % (r["network"][:18], mode, ms, tgt,
              ("pass" if ms <= 20 else "MISS") if tgt else "info"))
    for r in load("bench_members%s.json" % suffix):
        tgt = r["members"] == 1024
        print("ADAN56 x%d %s: %.1f member-cyc/s%s|%s" % (r["members"], mode, r["member_cycles_per_s"],
              " (>= 500)" if tgt else "", ("pass" if r["member_cycles_per_s"] >= 500 else "MISS") if tgt else "info"))
for r in load("bench_cpu.json"):
    print("%s cpu: %.3g cell upd/s|info" % (r["network"][:18], r["cell_updates_per_s"]))
PYEOF
)

echo
echo "==== GPU check summary ===="
printf '%s\n' "${table[@]}" | tee "$OUT/summary.txt"
