# 0D heart and closed loop: kernels/elastance.h, valve.h, circulation.h, heart_root.h,
# heart_presets.h (docs/heart.md). Unit checks (activation, valve, root solve) and
# verification (conservation, periodic state, preset ranges) in one executable.
ht_c_test(test_heart)
add_test(NAME test_heart COMMAND test_heart)
set_tests_properties(test_heart PROPERTIES LABELS "unit;verification")
