# The Slurm job script (examples/slurm/sweep.sbatch) submitted to a one-node Slurm cluster
# that tests/test_slurm.sh starts and stops itself; skips (77) without Slurm, munge or root.
add_test(NAME slurm_job_script COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_slurm.sh ${HT_EXE})
set_tests_properties(slurm_job_script PROPERTIES LABELS "slurm;mpi" SKIP_RETURN_CODE 77 TIMEOUT 300 RUN_SERIAL ON)
