#!/usr/bin/env bash
# Build the CUDA backend here (nvcc, sm_90 by default) and gather the binaries with every
# shared library they load into bundle/, so a GPU machine without HDF5, libyaml or MPI
# development packages can run them:  LD_LIBRARY_PATH=bundle/lib bundle/bin/hemotree ...
set -euo pipefail
cd "$(dirname "$0")/.."
ARCHS=${HT_CUDA_ARCHS:-90}
cmake -S . -B build-cuda -DCMAKE_BUILD_TYPE=Release -DHT_WERROR=ON -DHT_CUDA_ARCHS="$ARCHS" >/dev/null
cmake --build build-cuda -j "$(nproc)"
rm -rf bundle
mkdir -p bundle/bin bundle/lib
# what scripts/gpu-check.sh runs, and no more: what travels to the GPU machine is limited
# (64 MiB with the libraries), and the other tests need no device
cp build-cuda/hemotree build-cuda/gpu_ceilings build-cuda/tests/test_cell_loops bundle/bin/
for t in build-cuda/tests/test_gpu_*; do
  [ -x "$t" ] && [ -f "$t" ] && cp "$t" bundle/bin/
done
# every non-system library the binaries need (libc, libm, libpthread, ld.so stay: the GPU
# machine has its own, and mixing them breaks the loader)
for b in bundle/bin/*; do
  ldd "$b" | awk '/=> \//{print $3}'
done | sort -u | grep -vE '/(libc|libm|libpthread|libdl|librt|libresolv|ld-linux[^/]*)\.so' | while read -r lib; do
  cp -L "$lib" bundle/lib/
done
du -sh bundle
size=$(du -sb bundle | cut -f1)
if [ "$size" -gt $((60 * 1024 * 1024)) ]; then
  echo "gpu-bundle.sh: bundle/ is $size bytes, near or over the 64 MiB a GPU machine takes" >&2
  exit 1
fi
