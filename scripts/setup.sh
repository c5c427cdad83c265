#!/usr/bin/env bash
# Set up a fresh Debian machine, build hemotree, and run the main job.
#   scripts/setup.sh            install packages (needs root or sudo), build, run the main job
#   HT_NO_APT=1 scripts/setup.sh  skip the package installation
#   HT_NO_RUN=1 scripts/setup.sh  build only
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS="build-essential cmake pkg-config git libhdf5-dev libopenmpi-dev openmpi-bin libyaml-dev
      python3 python3-h5py python3-numpy python3-matplotlib python3-pytest python3-yaml"
if [ -z "${HT_NO_APT:-}" ] && command -v apt-get >/dev/null; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
fi

# Warnings are errors in every build we ship; CUDA is compiled when nvcc is present.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DHT_WERROR=ON ${HT_CMAKE_ARGS:-}
cmake --build build -j "$(nproc)"

if [ -z "${HT_NO_RUN:-}" ]; then
  mkdir -p out
  # the main job: cardiogenic shock + VA-ECMO 4 L/min + Impella CP P-8 (ECMELLA) on ADAN56,
  # 3 beats (~1.5 s per beat on 2 cores); HT_MAIN_CASE picks another case, HT_MAIN_ARGS
  # other options (e.g. "--cycles 10")
  if [ -n "${HT_MAIN_CASE:-}" ]; then main_args=${HT_MAIN_ARGS:-}; else main_args=${HT_MAIN_ARGS:---cycles 3}; fi
  # shellcheck disable=SC2086
  ./build/hemotree run "${HT_MAIN_CASE:-cases/ecmella/ecmella.yaml}" $main_args -o out/main.h5
fi
