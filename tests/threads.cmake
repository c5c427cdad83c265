# The CPU backend splits a lone member's cell loops, and its outlets and junctions, over
# OpenMP threads when it has >= 4096 cells (kernels/cpu/step_cpu.c). scripts/test.sh runs
# every other test with one thread, so this is where the threaded path is checked: the
# ECMELLA case (ADAN56, heart, Impella, VA-ECMO, tracer) for 0.1 s with 1, 2 and 3 threads
# must give bitwise the same fields (each cell and face is written by one thread, and the
# only reductions are a maximum and a minimum, which do not depend on the order).
# OMP_WAIT_POLICY=passive: ctest runs tests side by side, and spinning threads would
# starve each other.
set(HT_THR_OUT ${CMAKE_CURRENT_BINARY_DIR}/threads)
file(MAKE_DIRECTORY ${HT_THR_OUT})
foreach(nt 1 2 3)
  add_test(NAME threads_run_${nt}
           COMMAND ${CMAKE_COMMAND} -E env OMP_NUM_THREADS=${nt} OMP_WAIT_POLICY=passive
                   ${HT_EXE} run ${CMAKE_SOURCE_DIR}/cases/ecmella/ecmella.yaml --set run.t_end=0.1
                   --set output.interval=0.01 --quiet -o ${HT_THR_OUT}/t${nt}.h5)
  set_tests_properties(threads_run_${nt} PROPERTIES LABELS "verification" FIXTURES_SETUP threads_out
                       TIMEOUT 300)
endforeach()
foreach(nt 2 3)
  add_test(NAME threads_bitwise_${nt}
           COMMAND ${HT_PY} ${CMAKE_CURRENT_SOURCE_DIR}/compare_outputs.py ${HT_THR_OUT}/t${nt}.h5
                   ${HT_THR_OUT}/t1.h5 --tol 0)
  set_tests_properties(threads_bitwise_${nt} PROPERTIES LABELS "verification;python"
                       FIXTURES_REQUIRED threads_out)
endforeach()
