# Output: the HDF5 + XDMF writer (src/output.c). The C test writes files under the build
# tree; the Python test reads the same files with h5py, as the post-processing tools do.
if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/test_output.c)
  ht_c_test(test_output)
  set(HT_OUTPUT_DIR ${CMAKE_CURRENT_BINARY_DIR}/output_test)
  add_test(NAME output_write COMMAND test_output write ${HT_OUTPUT_DIR})
  add_test(NAME output_crash COMMAND test_output crash ${HT_OUTPUT_DIR})
  add_test(NAME output_errors COMMAND test_output errors ${HT_OUTPUT_DIR})
  set_tests_properties(output_write PROPERTIES LABELS "unit;output" FIXTURES_SETUP ht_output_file)
  set_tests_properties(output_crash PROPERTIES LABELS "unit;output" FIXTURES_SETUP ht_output_crash)
  set_tests_properties(output_errors PROPERTIES LABELS "unit;output")

  # HT_PY (tests/CMakeLists.txt) is an interpreter with h5py and numpy
  set(ht_out_script ${CMAKE_CURRENT_SOURCE_DIR}/test_output_read.py)
  add_test(NAME output_read_py
           COMMAND ${HT_PY} ${ht_out_script} ${HT_OUTPUT_DIR}/run.h5 --complete --pattern)
  add_test(NAME output_read_notracer_py
           COMMAND ${HT_PY} ${ht_out_script} ${HT_OUTPUT_DIR}/notracer.h5 --complete --pattern)
  add_test(NAME output_read_crash_py COMMAND ${HT_PY} ${ht_out_script} ${HT_OUTPUT_DIR}/crash.h5 --pattern)
  set_tests_properties(output_read_py output_read_notracer_py PROPERTIES
                       LABELS "python;output" FIXTURES_REQUIRED ht_output_file)
  set_tests_properties(output_read_crash_py PROPERTIES
                       LABELS "python;output" FIXTURES_REQUIRED ht_output_crash)
endif()

# The output writer thread (src/writer.c): order, failures per member, back-pressure.
ht_c_test(test_writer)
add_test(NAME test_writer COMMAND test_writer)
set_tests_properties(test_writer PROPERTIES LABELS "unit;output")
