# Checkpoint/restart of single runs: runs the hemotree executable (tests/test_checkpoint.py).
add_test(NAME checkpoint COMMAND ${HT_PY} -m pytest -q -p no:cacheprovider ${CMAKE_CURRENT_SOURCE_DIR}/test_checkpoint.py)
set_tests_properties(checkpoint PROPERTIES LABELS "checkpoint;cli;python" ENVIRONMENT "HEMOTREE=${HT_EXE}")
