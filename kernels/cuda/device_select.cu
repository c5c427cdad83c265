/* ht_cuda_select_device (device_select.h). */
#include "device_select.h"
#include <cstdio>
#include <cuda_runtime.h>

extern "C" int ht_cuda_select_device(int index, int *count, char *msg, size_t len)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    *count = e == cudaSuccess ? n : 0;
    if (e != cudaSuccess || n <= 0) {
        cudaGetLastError(); /* not sticky: the CPU backend goes on */
        snprintf(msg, len, "no CUDA device: %s", e != cudaSuccess ? cudaGetErrorString(e) : "none found");
        return -1;
    }
    int d = ht_device_for(index, n);
    if ((e = cudaSetDevice(d)) != cudaSuccess) {
        snprintf(msg, len, "cudaSetDevice(%d): %s", d, cudaGetErrorString(e));
        return -1;
    }
    return d;
}
