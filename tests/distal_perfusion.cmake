# The distal perfusion cannula of the VA-ECMO coupled to the closed loop (tests/test_distal_perfusion.py).
add_test(NAME distal_perfusion COMMAND ${HT_PY} -m pytest -q -p no:cacheprovider ${CMAKE_CURRENT_SOURCE_DIR}/test_distal_perfusion.py)
set_tests_properties(distal_perfusion PROPERTIES LABELS "verification;python" ENVIRONMENT "HEMOTREE=${HT_EXE}")
