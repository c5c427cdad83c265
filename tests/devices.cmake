# Mechanical circulatory support devices: kernels/impella.h, ecmo.h, watershed.h
# (docs/devices.md). Unit checks (HQ points, stage laws, junction derivatives, watershed
# conventions) and verification (analytic inertance decay, independent bisection, root solve
# against heart_root) in one executable.
ht_c_test(test_devices)
add_test(NAME test_devices COMMAND test_devices)
set_tests_properties(test_devices PROPERTIES LABELS "unit;verification")
