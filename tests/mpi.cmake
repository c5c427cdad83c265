# MPI sweeps (`hemotree sweep`): runs the executable under FindMPI's launcher (MPIEXEC_*),
# with 1, 2 and 3 ranks; OMP_NUM_THREADS=1 so that 3 ranks do not oversubscribe the cores.
add_test(NAME mpi_sweep COMMAND ${HT_PY} -m pytest -q -p no:cacheprovider ${CMAKE_CURRENT_SOURCE_DIR}/test_sweep.py)
set_tests_properties(mpi_sweep PROPERTIES LABELS "mpi;python" PROCESSORS 3 TIMEOUT 900
  ENVIRONMENT "HEMOTREE=${HT_EXE};MPIRUN=${MPIEXEC_EXECUTABLE};MPIEXEC_NUMPROC_FLAG=${MPIEXEC_NUMPROC_FLAG};MPIEXEC_PREFLAGS=${MPIEXEC_PREFLAGS};OMP_NUM_THREADS=1")
