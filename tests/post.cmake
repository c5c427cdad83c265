# Post-processing tools (postprocess/, hemotree-post): tests/test_post.py runs the solver on
# tiny cases and each tool on the result, plus synthetic files for the heart's PV loop and the
# ECMO front. The ParaView renderer's test is in paraview.cmake (needs pvpython).
add_test(NAME post
         COMMAND ${HT_PY} -m pytest -q -p no:cacheprovider -k "not paraview" ${CMAKE_CURRENT_SOURCE_DIR}/test_post.py)
set_tests_properties(post PROPERTIES LABELS "post;python" TIMEOUT 600 ENVIRONMENT "HEMOTREE=${HT_EXE}")
