#!/usr/bin/env bash
# Run the test suite (CTest) in the build made by scripts/setup.sh. GPU tests skip (77)
# where no device is present. Extra arguments go to ctest (e.g. -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d build ] || HT_NO_RUN=1 scripts/setup.sh
cmake --build build -j "$(nproc)"
# One OpenMP thread per test: tests run in parallel, and oversubscribed OpenMP threads
# spin-wait each other to a crawl.
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
