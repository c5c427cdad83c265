# Command-line behaviour: runs the hemotree executable.
add_test(NAME cli COMMAND ${HT_PY} -m pytest -q -p no:cacheprovider ${CMAKE_CURRENT_SOURCE_DIR}/test_cli.py)
set_tests_properties(cli PROPERTIES LABELS "cli;python" ENVIRONMENT "HEMOTREE=${HT_EXE}")
