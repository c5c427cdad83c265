# ADAN56 (Boileau et al. 2015, Benchmark 6): geometry of the output against meshes/adan56.yaml,
# the XDMF beside it, and physiological ranges (with citations) on the last cycle. Reads the
# output of the fixture bench_adan56 (tests/benchmarks_run.cmake), so the network runs once.
add_test(NAME adan56_validate
         COMMAND ${HT_PY} -m pytest -q -p no:cacheprovider -rxX ${CMAKE_CURRENT_SOURCE_DIR}/test_adan56.py)
set_tests_properties(adan56_validate PROPERTIES
  LABELS "benchmark;python"
  FIXTURES_REQUIRED bench_adan56
  ENVIRONMENT "HT_ADAN56_H5=${CMAKE_CURRENT_BINARY_DIR}/benchmarks/adan56.h5;HT_ADAN56_MESH=${CMAKE_SOURCE_DIR}/meshes/adan56.yaml"
  TIMEOUT 300)
