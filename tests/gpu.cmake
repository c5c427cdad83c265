# GPU: the CUDA backend against the CPU backend (its oracle). Built only with the CUDA
# backend; skipped (exit 77) where no CUDA device can be used, as on CI.
if(TARGET hemotree_cuda)
  ht_c_test(test_gpu_parity)
  add_test(NAME test_gpu_parity COMMAND test_gpu_parity)
  set_tests_properties(test_gpu_parity PROPERTIES LABELS "gpu" SKIP_RETURN_CODE 77)
  # the same with every chunk of steps as one cooperative launch (k_persistent)
  add_test(NAME test_gpu_parity_persistent COMMAND test_gpu_parity)
  set_tests_properties(test_gpu_parity_persistent PROPERTIES LABELS "gpu" SKIP_RETURN_CODE 77
                       ENVIRONMENT "HEMOTREE_CUDA_LAUNCH=persistent")
  # whole runs through the command line on both backends (tests/test_gpu_cli.py)
  add_test(NAME gpu_cli COMMAND ${HT_PY} -m pytest -q -rs -p no:cacheprovider ${CMAKE_CURRENT_SOURCE_DIR}/test_gpu_cli.py)
  set_tests_properties(gpu_cli PROPERTIES LABELS "gpu;python" ENVIRONMENT "HEMOTREE=${HT_EXE}" TIMEOUT 2400
                       SKIP_REGULAR_EXPRESSION "no CUDA device here")
endif()
