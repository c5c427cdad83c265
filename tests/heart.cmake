# 0D heart and closed loop: kernels/elastance.h, valve.h, circulation.h, heart_root.h,
# heart_presets.h (docs/heart.md). Unit checks (activation, valve, root solve) and
# verification (conservation, periodic state, preset ranges) in one executable.
ht_c_test(test_heart)
add_test(NAME test_heart COMMAND test_heart)
set_tests_properties(test_heart PROPERTIES LABELS "unit;verification")
# The heart coupled to the 1D tree (kernels/heart_stage.h): closed-loop volume over 50
# cycles, valves, periodic state, a stacked ensemble bitwise equal to its single runs.
ht_c_test(test_heart_coupled)
add_test(NAME test_heart_coupled COMMAND test_heart_coupled)
set_tests_properties(test_heart_coupled PROPERTIES LABELS "verification")
# The heart on ADAN56 (cases/heart/*.yaml): 5 beats, then the last beat's CO, MAP, EF and
# LVEDP against the preset's target ranges and the closed loop's volume account
# (tests/check_heart_cycles.py, ranges and sources there and in docs/heart.md).
set(HT_HEART_OUT ${CMAKE_CURRENT_BINARY_DIR}/heart)
file(MAKE_DIRECTORY ${HT_HEART_OUT})
foreach(preset healthy cardiogenic-shock)
  add_test(NAME heart_run_${preset}
           COMMAND ${HT_EXE} run ${CMAKE_SOURCE_DIR}/cases/heart/${preset}.yaml --cycles 5
                   -o ${HT_HEART_OUT}/${preset}.h5 --quiet)
  set_tests_properties(heart_run_${preset} PROPERTIES LABELS "benchmark" FIXTURES_SETUP heart_${preset} TIMEOUT 1800)
  add_test(NAME heart_cycles_${preset}
           COMMAND ${HT_PY} ${CMAKE_CURRENT_SOURCE_DIR}/check_heart_cycles.py ${HT_HEART_OUT}/${preset}.h5
                   --preset ${preset} --min-beats 5)
  set_tests_properties(heart_cycles_${preset} PROPERTIES LABELS "benchmark;python" FIXTURES_REQUIRED heart_${preset})
endforeach()
# cases/heart/*.yaml are generated from cases/benchmarks/adan56.yaml by tools/make_heart_cases.py
add_test(NAME heart_cases_generated COMMAND ${HT_PY} ${CMAKE_SOURCE_DIR}/tools/make_heart_cases.py --check)
set_tests_properties(heart_cases_generated PROPERTIES LABELS "python;benchmark" TIMEOUT 60)
# The devices coupled to the closed loop (kernels/devices.h): volume with an ECMO return and
# an Impella over 20 beats, the ECMO fraction, the root flow with the valve shut, a stacked
# ensemble bitwise equal to its single runs.
ht_c_test(test_devices_coupled)
add_test(NAME test_devices_coupled COMMAND test_devices_coupled)
set_tests_properties(test_devices_coupled PROPERTIES LABELS "verification")
# Devices on ADAN56 against physiology and published figures (issue 7; tests/check_devices.py,
# sources there and in docs/validation.md; docs/devices.md 4.5): the ECMO series
# cases/ecmella/ecmo-series.yaml (ECMO 0..5 L/min, 0 / 5 L/min at half the LV's Ees, 2 L/min at twice it) as one
# ensemble launch on 2 threads, Impella CP P-8 and ECMELLA, 7 beats each (5 rounds of
# 2 threads x 7 beats, 4-6 min on 2 idle cores),
# then the last beat: trends along the ECMO flow, the aortic valve at low contractility, the
# watershed (Nezami 2021, Stevens 2018), the Impella's unloading with and without ECMO (Donker 2019).
add_test(NAME devices_run_series
         COMMAND ${HT_EXE} run ${CMAKE_SOURCE_DIR}/cases/ecmella/ecmo-series.yaml --cycles 7 --jobs 2
                 -o ${HT_HEART_OUT}/dev-series.h5 --quiet)
set_tests_properties(devices_run_series PROPERTIES LABELS "benchmark" FIXTURES_SETUP devices_runs
                     PROCESSORS 2 TIMEOUT 1800)
foreach(dc impella-cp-p8 ecmella)
  add_test(NAME devices_run_${dc}
           COMMAND ${HT_EXE} run ${CMAKE_SOURCE_DIR}/cases/ecmella/${dc}.yaml --cycles 7
                   -o ${HT_HEART_OUT}/dev-${dc}.h5 --quiet)
  set_tests_properties(devices_run_${dc} PROPERTIES LABELS "benchmark" FIXTURES_SETUP devices_runs TIMEOUT 1800)
endforeach()
add_test(NAME devices_targets
         COMMAND ${HT_PY} ${CMAKE_CURRENT_SOURCE_DIR}/check_devices.py ${HT_HEART_OUT}/dev-series.h5
                 ${HT_HEART_OUT}/dev-impella-cp-p8.h5 ${HT_HEART_OUT}/dev-ecmella.h5)
set_tests_properties(devices_targets PROPERTIES LABELS "benchmark;python" FIXTURES_REQUIRED devices_runs)
# cases/ecmella/*.yaml are generated from cases/heart/cardiogenic-shock.yaml by tools/make_device_cases.py
add_test(NAME device_cases_generated COMMAND ${HT_PY} ${CMAKE_SOURCE_DIR}/tools/make_device_cases.py --check)
set_tests_properties(device_cases_generated PROPERTIES LABELS "python;benchmark" TIMEOUT 60)
# The LV's loading on VA-ECMO at the periodic state (tests/check_ecmo_loading.py: EDV, LVEDP,
# LAP rising with the ECMO flow, Hala 2020 / Donker 2019): the tiny tree in cardiogenic shock,
# ECMO 0..5 L/min as one ensemble launch, and ECMELLA (ECMO 4 L/min + Impella CP P-8), 120 beats
# each (~20 s on 2 cores).
add_test(NAME ecmo_loading_run
         COMMAND ${HT_EXE} run ${CMAKE_SOURCE_DIR}/tests/data/heart/tiny_shock_series.yaml --jobs 2
                 -o ${HT_HEART_OUT}/ecmo-loading.h5 --quiet)
set_tests_properties(ecmo_loading_run PROPERTIES LABELS "verification" FIXTURES_SETUP ecmo_loading
                     PROCESSORS 2 TIMEOUT 600)
add_test(NAME ecmo_loading_run_ecmella
         COMMAND ${HT_EXE} run ${CMAKE_SOURCE_DIR}/tests/data/heart/tiny_ecmella.yaml
                 -o ${HT_HEART_OUT}/ecmo-loading-ecmella.h5 --quiet)
set_tests_properties(ecmo_loading_run_ecmella PROPERTIES LABELS "verification" FIXTURES_SETUP ecmo_loading
                     TIMEOUT 600)
add_test(NAME ecmo_loading
         COMMAND ${HT_PY} ${CMAKE_CURRENT_SOURCE_DIR}/check_ecmo_loading.py ${HT_HEART_OUT}/ecmo-loading.h5
                 ${HT_HEART_OUT}/ecmo-loading-ecmella.h5)
set_tests_properties(ecmo_loading PROPERTIES LABELS "verification;python" FIXTURES_REQUIRED ecmo_loading)
