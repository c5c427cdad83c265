# The XDMF written by the solver opens in both ParaView XDMF readers with every field at
# every time (tests/paraview_check.py). Needs Debian's paraview, python3-paraview and xvfb
# (CI installs them); skipped at configure time where pvpython or xvfb-run is absent.
find_program(HT_PVPYTHON pvpython)
find_program(HT_XVFB_RUN xvfb-run)
if(HT_PVPYTHON AND HT_XVFB_RUN)
  set(HT_PV_OUT ${CMAKE_CURRENT_BINARY_DIR}/paraview)
  file(MAKE_DIRECTORY ${HT_PV_OUT})
  add_test(NAME paraview_run
           COMMAND ${HT_EXE} run ${CMAKE_CURRENT_SOURCE_DIR}/data/cli/tiny.yaml --cycles 1
                   --set output.interval=0.04 -o ${HT_PV_OUT}/tiny.h5 --quiet)
  set_tests_properties(paraview_run PROPERTIES LABELS "paraview" FIXTURES_SETUP paraview_out)
  add_test(NAME paraview_readers
           COMMAND ${HT_XVFB_RUN} -a ${HT_PVPYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/paraview_check.py
                   ${HT_PV_OUT}/tiny.xdmf
           WORKING_DIRECTORY ${HT_PV_OUT})
  set_tests_properties(paraview_readers PROPERTIES LABELS "paraview" FIXTURES_REQUIRED paraview_out TIMEOUT 600)
else()
  message(STATUS "hemotree: pvpython or xvfb-run not found, ParaView reader test not added")
endif()
