#!/usr/bin/env bash
# Regenerate docs/figures/: every case in cases/benchmarks run by build/hemotree (10 cycles,
# as in CTest; a few minutes) and drawn over its references by `hemotree-post validation`.
#   scripts/validation-figures.sh                 build if needed, run all cases, draw
#   scripts/validation-figures.sh --reuse         keep runs already in build/validation
#   scripts/validation-figures.sh --cases common-carotid,adan56
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x build/hemotree ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
  cmake --build build -j "$(nproc)"
fi
exec scripts/hemotree-post validation --hemotree build/hemotree --out docs/figures --runs build/validation "$@"
