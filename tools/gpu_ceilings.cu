// Measure a GPU's practical ceilings for the roofline of the solver's kernels: device memory
// bandwidth (a large device-to-device copy, and a read+write streaming kernel) and the FP64
// rate (a kernel of independent fused multiply-adds). Prints one line per figure.
// Build: nvcc -O3 -arch=sm_90 tools/gpu_ceilings.cu -o gpu_ceilings
#include <cstdio>
#include <cuda_runtime.h>

#define CK(x)                                                                               \
    do {                                                                                    \
        cudaError_t e_ = (x);                                                               \
        if (e_ != cudaSuccess) {                                                            \
            std::fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, cudaGetErrorString(e_)); \
            return 1;                                                                       \
        }                                                                                   \
    } while (0)

__global__ void stream_kernel(const double *__restrict__ a, double *__restrict__ b, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        b[i] = 1.0000001 * a[i];
}

// 8 independent FMA chains per thread so the pipeline, not latency, limits the rate
__global__ void fma_kernel(double *out, int iters)
{
    double x[8];
    for (int k = 0; k < 8; ++k) x[k] = threadIdx.x * 1e-3 + k;
    for (int it = 0; it < iters; ++it)
        for (int k = 0; k < 8; ++k) x[k] = fma(x[k], 0.9999999, 1e-7);
    double s = 0;
    for (int k = 0; k < 8; ++k) s += x[k];
    if (s == 12345.678) out[0] = s; // keeps the work alive
}

int main()
{
    cudaDeviceProp p;
    CK(cudaGetDeviceProperties(&p, 0));
    std::printf("device: %s, %d SMs\n", p.name, p.multiProcessorCount);
    const size_t n = (size_t)1 << 28; // 2 GiB per buffer
    double *a, *b;
    CK(cudaMalloc(&a, n * sizeof(double)));
    CK(cudaMalloc(&b, n * sizeof(double)));
    CK(cudaMemset(a, 0, n * sizeof(double)));
    cudaEvent_t t0, t1;
    CK(cudaEventCreate(&t0));
    CK(cudaEventCreate(&t1));
    float ms;
    CK(cudaMemcpy(b, a, n * sizeof(double), cudaMemcpyDeviceToDevice));
    CK(cudaEventRecord(t0));
    for (int r = 0; r < 5; ++r) CK(cudaMemcpy(b, a, n * sizeof(double), cudaMemcpyDeviceToDevice));
    CK(cudaEventRecord(t1));
    CK(cudaEventSynchronize(t1));
    CK(cudaEventElapsedTime(&ms, t0, t1));
    std::printf("memcpy device-to-device: %.0f GB/s (read + write)\n", 5 * 2.0 * n * 8 / (ms * 1e-3) / 1e9);
    int blocks = p.multiProcessorCount * 8;
    stream_kernel<<<blocks, 256>>>(a, b, n);
    CK(cudaGetLastError());
    CK(cudaEventRecord(t0));
    for (int r = 0; r < 5; ++r) stream_kernel<<<blocks, 256>>>(a, b, n);
    CK(cudaEventRecord(t1));
    CK(cudaEventSynchronize(t1));
    CK(cudaGetLastError());
    CK(cudaEventElapsedTime(&ms, t0, t1));
    std::printf("streaming kernel b = s a: %.0f GB/s (read + write)\n", 5 * 2.0 * n * 8 / (ms * 1e-3) / 1e9);
    const int iters = 4096, threads = 256, fblocks = p.multiProcessorCount * 16;
    fma_kernel<<<fblocks, threads>>>(b, iters);
    CK(cudaGetLastError());
    CK(cudaEventRecord(t0));
    fma_kernel<<<fblocks, threads>>>(b, iters);
    CK(cudaEventRecord(t1));
    CK(cudaEventSynchronize(t1));
    CK(cudaGetLastError());
    CK(cudaEventElapsedTime(&ms, t0, t1));
    double flops = 2.0 * 8 * iters * (double)threads * fblocks;
    std::printf("FP64 FMA kernel: %.2f TFLOP/s\n", flops / (ms * 1e-3) / 1e12);
    // an empty kernel's launch-to-completion latency, the floor of a dependent chain of kernels
    fma_kernel<<<1, 32>>>(b, 0);
    CK(cudaEventRecord(t0));
    for (int r = 0; r < 1000; ++r) fma_kernel<<<1, 32>>>(b, 0);
    CK(cudaEventRecord(t1));
    CK(cudaEventSynchronize(t1));
    CK(cudaEventElapsedTime(&ms, t0, t1));
    std::printf("back-to-back empty kernels (stream launch): %.2f us each\n", ms * 1e3 / 1000);
    CK(cudaFree(a));
    CK(cudaFree(b));
    return 0;
}
