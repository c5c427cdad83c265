# Input layer: the units parser, the case loader (own format and openBF networks, --set
# overrides) and the broken cases in data/bad/ (each must fail with status 2 and the words
# on its first line, "# expect: ..."). Test data lives in data/input and data/bad only, so
# the tests do not depend on anything outside the repository.
ht_c_test(test_units)
add_test(NAME test_units COMMAND test_units)
ht_c_test(test_input)
add_test(NAME test_input COMMAND test_input ${CMAKE_CURRENT_SOURCE_DIR}/data)
set_tests_properties(test_units test_input PROPERTIES LABELS "unit;input")
