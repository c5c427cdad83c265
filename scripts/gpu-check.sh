#!/usr/bin/env bash
# The whole GPU check in one call, run on a GPU machine from the repository root with the
# bundle/ made by scripts/gpu-bundle.sh: the gpu-labelled tests, CPU/CUDA parity on every
# benchmark case, compute-sanitizer on one short run, and timings. Results go to $OUT
# (default out/gpu) and a short table is printed last.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-out/gpu}
mkdir -p "$OUT"
export LD_LIBRARY_PATH=$PWD/bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
B=bundle/bin
PY=${PY:-python3}
table=()
row() { table+=("$(printf '%-34s %-8s %s' "$1" "$2" "$3")"); }

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/device.txt"
nproc | sed 's/^/cpu cores: /' | tee -a "$OUT/device.txt"

# 1. gpu-labelled tests (they would skip with 77 without a device)
for t in "$B"/test_gpu_*; do
  "$t" > "$OUT/$(basename "$t").log" 2>&1
  rc=$?
  row "$(basename "$t")" "$([ $rc = 0 ] && echo pass || echo "FAIL($rc)")" "$(tail -1 "$OUT/$(basename "$t").log")"
done

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
else
  row "compute-sanitizer" "absent" "not on PATH"
fi

# 4. timings: wall seconds per cardiac cycle, both backends (OpenMP on all CPU cores)
for c in ${HT_TIMING_CASES:-cases/benchmarks/adan56.yaml cases/benchmarks/invitro-37.yaml}; do
  [ -f "$c" ] || continue
  n=$(basename "$c" .yaml)
  for be in cpu cuda; do
    "$B/hemotree" run "$c" -o "$OUT/time_${be}_$n.h5" --backend $be --cycles "${HT_TIMING_CYCLES:-2}" > "$OUT/time_${be}_$n.log" 2>&1
    row "time $n $be" "rc=$?" "$(grep -m1 'steps,' "$OUT/time_${be}_$n.log")"
  done
done

echo
echo "==== GPU check summary ===="
printf '%s\n' "${table[@]}" | tee "$OUT/summary.txt"
