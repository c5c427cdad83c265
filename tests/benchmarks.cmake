# Benchmarks (Boileau et al. 2015): reference data in tests/data/boileau2015, comparison in
# tests/validate_benchmarks.py. The self-test checks the error measures and the phase
# alignment on the reference files themselves (the paper's FVM against the 3-D results) and
# the HDF5 reading path on a synthetic output; it needs no solver run. Tests that run the
# solver on cases/benchmarks/*.yaml and call the validator on its output are added next to it.
add_test(NAME benchmark_reference_selftest
         COMMAND ${HT_PY} ${CMAKE_CURRENT_SOURCE_DIR}/validate_benchmarks.py --self-test
                 --data ${CMAKE_CURRENT_SOURCE_DIR}/data/boileau2015
                 --json ${CMAKE_CURRENT_BINARY_DIR}/benchmark_reference_selftest.json)
set_tests_properties(benchmark_reference_selftest PROPERTIES LABELS "python;benchmark" TIMEOUT 120)

# meshes/adan56.yaml and cases/benchmarks/adan56.yaml are generated from openBF's network by
# tools/make_adan56_mesh.py (which also checks joins and centreline lengths): they must be
# exactly what the generator writes.
add_test(NAME benchmark_adan56_generated
         COMMAND ${HT_PY} ${CMAKE_SOURCE_DIR}/tools/make_adan56_mesh.py --check)
set_tests_properties(benchmark_adan56_generated PROPERTIES LABELS "python;benchmark" TIMEOUT 60)
