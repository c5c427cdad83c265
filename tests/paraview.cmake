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
  # RESOURCE_LOCK: two xvfb-run -a started at once (ctest -j) may pick the same display
  set_tests_properties(paraview_readers PROPERTIES LABELS "paraview" FIXTURES_REQUIRED paraview_out TIMEOUT 600
                       RESOURCE_LOCK xvfb)
  # postprocess/paraview/render_tree.py on the same output: tubes coloured by pressure and by
  # ECMO fraction, a PNG and a 4-frame animation each (tests/test_post.py::test_paraview_render
  # runs `xvfb-run -a pvpython render_tree.py tiny.xdmf --field F --png ... --movie ... --frames 4`
  # and checks the images are non-trivial).
  add_test(NAME paraview_render
           COMMAND ${HT_PY} -m pytest -q -p no:cacheprovider -k paraview ${CMAKE_CURRENT_SOURCE_DIR}/test_post.py)
  set_tests_properties(paraview_render PROPERTIES LABELS "paraview;post" FIXTURES_REQUIRED paraview_out TIMEOUT 600
                       RESOURCE_LOCK xvfb
                       ENVIRONMENT "HEMOTREE=${HT_EXE};HT_PVPYTHON=${HT_PVPYTHON};HT_XVFB_RUN=${HT_XVFB_RUN};HT_PV_XDMF=${HT_PV_OUT}/tiny.xdmf")
else()
  message(STATUS "hemotree: pvpython or xvfb-run not found, ParaView reader and render tests not added")
endif()
