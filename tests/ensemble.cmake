# Parameter ensembles: runs the hemotree executable on tests/data/ensemble.
add_test(NAME ensemble COMMAND ${HT_PY} -m pytest -q -p no:cacheprovider ${CMAKE_CURRENT_SOURCE_DIR}/test_ensemble.py)
set_tests_properties(ensemble PROPERTIES LABELS "ensemble;python" ENVIRONMENT "HEMOTREE=${HT_EXE}")
