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
# The CPU emulation of the CUDA runtime itself (tests/cuda_emu), in the builds that use it:
# barriers, cooperative launches, graphs, stream order, events and a copy stream, and a
# device's errors
if(HT_CUDA_EMU)
  ht_cuda_emu_source(${CMAKE_CURRENT_SOURCE_DIR}/cuda_emu/test_cuda_emu.cu emu_cpp)
  add_executable(test_cuda_emu ${emu_cpp})
  set_target_properties(test_cuda_emu PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
  target_include_directories(test_cuda_emu BEFORE PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/cuda_emu)
  target_compile_options(test_cuda_emu PRIVATE -Wall $<$<BOOL:${HT_WERROR}>:-Werror>)
  # hemotree_core brings the emulation (hemotree_cuda) and the sanitizer flags of the build
  target_link_libraries(test_cuda_emu PRIVATE hemotree_core)
  add_test(NAME test_cuda_emu COMMAND test_cuda_emu)
  set_tests_properties(test_cuda_emu PROPERTIES LABELS "gpu")
  # the parity test with the other legal order of streams: work waited for runs after all
  # other queued work, so an output copy reading what the next interval overwrites shows
  add_test(NAME test_gpu_parity_waited_last COMMAND test_gpu_parity)
  set_tests_properties(test_gpu_parity_waited_last PROPERTIES LABELS "gpu" ENVIRONMENT "HEMOTREE_EMU_WAITED_LAST=1")
endif()
