# GPU: the CUDA backend against the CPU backend (its oracle). Built only with the CUDA
# backend; skipped (exit 77) where no CUDA device can be used, as on CI.
if(TARGET hemotree_cuda)
  ht_c_test(test_gpu_parity)
  add_test(NAME test_gpu_parity COMMAND test_gpu_parity)
  set_tests_properties(test_gpu_parity PROPERTIES LABELS "gpu" SKIP_RETURN_CODE 77)
endif()
