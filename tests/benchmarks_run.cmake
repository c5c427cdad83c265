# The solver on the Boileau et al. 2015 benchmarks with reference data (cases 2-4): run the
# case (10 cycles, as the FV reference), then compare the last cycle with the paper's 1-D FV
# reference and the 3-D results. Required by the project: pressure error (relative RMS)
# against FV below 1% at every site; flow below 1% of the peak flow. The 3-D comparison is
# reported (docs/validation.md), bounded at 2% in pressure as a guard against regressions
# (1-D vs 3-D differences of 1-2% are what Xiao et al. 2014 report for these models).
set(HT_BENCH_OUT ${CMAKE_CURRENT_BINARY_DIR}/benchmarks)
file(MAKE_DIRECTORY ${HT_BENCH_OUT})
foreach(pair "cca:common-carotid" "uta:upper-thoracic-aorta" "ibif:aortic-bifurcation")
  string(REPLACE ":" ";" p ${pair})
  list(GET p 0 id)
  list(GET p 1 case)
  add_test(NAME bench_run_${id}
           COMMAND ${HT_EXE} run ${CMAKE_SOURCE_DIR}/cases/benchmarks/${case}.yaml
                   -o ${HT_BENCH_OUT}/${id}.h5 --quiet)
  set_tests_properties(bench_run_${id} PROPERTIES LABELS "benchmark" FIXTURES_SETUP bench_${id} TIMEOUT 900)
  add_test(NAME bench_validate_${id}
           COMMAND ${HT_PY} ${CMAKE_CURRENT_SOURCE_DIR}/validate_benchmarks.py ${HT_BENCH_OUT}/${id}.h5
                   --case ${id} --data ${CMAKE_CURRENT_SOURCE_DIR}/data/boileau2015
                   --json ${HT_BENCH_OUT}/${id}.json
                   --limit "fv/*/P/rms=0.01" --limit "fv/*/Q/rms=0.01" --limit "b3d/*/P/rms=0.02")
  set_tests_properties(bench_validate_${id} PROPERTIES LABELS "benchmark;python" FIXTURES_REQUIRED bench_${id})
endforeach()

# Benchmark 1 (single pulse) from its case file, through the command line: the C test
# test_single_pulse checks it against linear theory; this checks the shipped case runs.
add_test(NAME bench_run_single_pulse
         COMMAND ${HT_EXE} run ${CMAKE_SOURCE_DIR}/cases/benchmarks/single-pulse.yaml
                 -o ${HT_BENCH_OUT}/single-pulse.h5 --quiet)
set_tests_properties(bench_run_single_pulse PROPERTIES LABELS "benchmark" TIMEOUT 900)

# ADAN56 and the 37-artery network over 10 cycles: they run, and the run reports its
# approach to a periodic state (tests/check_periodicity.py). Both start near their mean
# pressure, so 10 cycles bring the cycle-to-cycle change below 1% of the pulse pressure.
foreach(pair "adan56:adan56" "invitro37:invitro-37")
  string(REPLACE ":" ";" p ${pair})
  list(GET p 0 id)
  list(GET p 1 case)
  add_test(NAME bench_run_${id}
           COMMAND ${HT_EXE} run ${CMAKE_SOURCE_DIR}/cases/benchmarks/${case}.yaml --cycles 10
                   -o ${HT_BENCH_OUT}/${id}.h5 --quiet)
  set_tests_properties(bench_run_${id} PROPERTIES LABELS "benchmark" FIXTURES_SETUP bench_${id} TIMEOUT 1800)
  add_test(NAME bench_periodic_${id}
           COMMAND ${HT_PY} ${CMAKE_CURRENT_SOURCE_DIR}/check_periodicity.py ${HT_BENCH_OUT}/${id}.h5
                   --cycles 10 --below 0.01)
  set_tests_properties(bench_periodic_${id} PROPERTIES LABELS "benchmark;python" FIXTURES_REQUIRED bench_${id})
endforeach()
