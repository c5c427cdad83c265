/* The CPU emulation of the CUDA runtime (cuda_runtime.h here) against what the CUDA
 * programming model promises, since the gpu tests trust it to stand in for a device:
 * barriers (a block reduction, a grid-wide exchange in a cooperative launch), stream
 * capture and replay, work that runs only when waited for, and the errors a device gives
 * for a bad launch, a synchronisation inside a capture, a copy in the wrong direction or a
 * cooperative grid larger than the device. Built and run only with -DHT_CUDA_EMU=ON. */
#include <cooperative_groups.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond, ...)                                                                \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                     \
            printf(__VA_ARGS__);                                                        \
            printf("\n");                                                               \
            ++failures;                                                                 \
        }                                                                               \
    } while (0)

#define BS 128

/* Sum of x[0..n) by one block: a tree reduction through shared memory, correct only if
 * every __syncthreads holds. */
__global__ void k_block_sum(const double *x, int n, double *out)
{
    __shared__ double s[BS];
    double v = 0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) v += x[i];
    s[threadIdx.x] = v;
    __syncthreads();
    for (int h = BS / 2; h > 0; h >>= 1) {
        if ((int)threadIdx.x < h) s[threadIdx.x] += s[threadIdx.x + h];
        __syncthreads();
    }
    if (threadIdx.x == 0) out[blockIdx.x] = s[0];
}

/* Every thread of every block writes its index, the grid synchronises, then each reads the
 * value its mirror thread (in another block) wrote: right only if grid.sync() waits for all
 * blocks. */
__global__ void k_grid_mirror(int *a, int *b, int rounds)
{
    cooperative_groups::grid_group g = cooperative_groups::this_grid();
    int n = gridDim.x * blockDim.x, t = blockIdx.x * blockDim.x + threadIdx.x;
    for (int r = 0; r < rounds; ++r) {
        a[t] = t + r * n;
        g.sync();
        b[t] = a[n - 1 - t];
        g.sync();
    }
}

__global__ void k_add(double *x, int n, double v)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += v;
}

int main(void)
{
    int count = 0;
    CHECK(cudaGetDeviceCount(&count) == cudaSuccess && count >= 1, "no emulated device");

    /* block reduction: 1000 values, sum known exactly */
    const int n = 1000;
    double hx[1000], *dx, *dsum, sum = 0;
    for (int i = 0; i < n; ++i) hx[i] = i + 1;
    CHECK(cudaMalloc((void **)&dx, n * sizeof(double)) == cudaSuccess, "cudaMalloc");
    CHECK(cudaMalloc((void **)&dsum, sizeof(double)) == cudaSuccess, "cudaMalloc");
    CHECK(cudaMemcpy(dx, hx, n * sizeof(double), cudaMemcpyHostToDevice) == cudaSuccess, "H2D");
    k_block_sum<<<1, BS, 0, 0>>>(dx, n, dsum);
    CHECK(cudaGetLastError() == cudaSuccess, "launch");
    CHECK(cudaMemcpy(&sum, dsum, sizeof sum, cudaMemcpyDeviceToHost) == cudaSuccess, "D2H");
    CHECK(sum == n * (n + 1) / 2.0, "block sum %.17g, expected %.17g", sum, n * (n + 1) / 2.0);

    /* fresh device memory reads as NaN (0xff bytes): a kernel that reads what nothing wrote
     * shows it */
    double *dfresh, fresh = 0;
    CHECK(cudaMalloc((void **)&dfresh, sizeof(double)) == cudaSuccess, "cudaMalloc");
    CHECK(cudaMemcpy(&fresh, dfresh, sizeof fresh, cudaMemcpyDeviceToHost) == cudaSuccess, "D2H");
    CHECK(isnan(fresh), "fresh device memory is %g, not NaN", fresh);

    /* cooperative launch: the grid barrier orders writes and reads across blocks */
    int sms = 0, per_sm = 0;
    CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0) == cudaSuccess, "attribute");
    CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k_grid_mirror, BS, 0) == cudaSuccess, "occ");
    int grid = sms * per_sm, nt = grid * BS, rounds = 3;
    CHECK(grid >= 2, "need 2 blocks, got %d", grid);
    int *da, *db, hb[4096];
    CHECK(nt <= 4096, "grid too large for the test");
    CHECK(cudaMalloc((void **)&da, nt * sizeof(int)) == cudaSuccess, "cudaMalloc");
    CHECK(cudaMalloc((void **)&db, nt * sizeof(int)) == cudaSuccess, "cudaMalloc");
    {
        void *args[] = {&da, &db, &rounds};
        CHECK(cudaLaunchCooperativeKernel(k_grid_mirror, dim3(grid), dim3(BS), args, 0, 0) == cudaSuccess,
              "cooperative launch");
        CHECK(cudaDeviceSynchronize() == cudaSuccess, "sync");
        CHECK(cudaMemcpy(hb, db, nt * sizeof(int), cudaMemcpyDeviceToHost) == cudaSuccess, "D2H");
        int bad = 0;
        for (int t = 0; t < nt; ++t) bad += hb[t] != (nt - 1 - t) + (rounds - 1) * nt;
        CHECK(bad == 0, "%d threads read a value their mirror had not written", bad);
        /* one block more than the device holds at once: refused, as on a device */
        CHECK(cudaLaunchCooperativeKernel(k_grid_mirror, dim3(grid + 1), dim3(BS), args, 0, 0) ==
                  cudaErrorCooperativeLaunchTooLarge,
              "oversized cooperative grid accepted");
        cudaGetLastError();
    }

    /* a stream's work runs when waited for: a copy into pinned memory is there after the
     * synchronisation, not before */
    cudaStream_t st;
    double *pin;
    CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking) == cudaSuccess, "stream");
    CHECK(cudaMallocHost((void **)&pin, n * sizeof(double)) == cudaSuccess, "cudaMallocHost");
    memset(pin, 0, n * sizeof(double));
    k_add<<<(n + BS - 1) / BS, BS, 0, st>>>(dx, n, 1.0);
    CHECK(cudaMemcpyAsync(pin, dx, n * sizeof(double), cudaMemcpyDeviceToHost, st) == cudaSuccess, "async");
    CHECK(pin[n - 1] == 0, "pinned copy visible before the stream was waited for");
    CHECK(cudaStreamSynchronize(st) == cudaSuccess, "sync");
    CHECK(pin[0] == 2 && pin[n - 1] == n + 1, "after the wait: %g %g", pin[0], pin[n - 1]);
    /* into pageable memory the runtime completes the copy (and the stream's earlier work)
     * before returning */
    k_add<<<(n + BS - 1) / BS, BS, 0, st>>>(dx, n, 1.0);
    CHECK(cudaMemcpyAsync(hx, dx, n * sizeof(double), cudaMemcpyDeviceToHost, st) == cudaSuccess, "async");
    CHECK(hx[0] == 3 && hx[n - 1] == n + 2, "pageable copy not complete on return: %g", hx[0]);

    /* events: a copy stream reads what the compute stream had written when the event was
     * recorded, and its result is the host's after cudaEventSynchronize. The compute
     * stream's next kernel overwrites the source; in the default order it has not run when
     * the copy is waited for, with HEMOTREE_EMU_WAITED_LAST=1 it has (a device may do
     * either), so only a copy from a device-side snapshot is right in both. */
    {
        cudaStream_t cs;
        cudaEvent_t written, copied;
        double *snap;
        CHECK(cudaStreamCreateWithFlags(&cs, cudaStreamNonBlocking) == cudaSuccess, "copy stream");
        CHECK(cudaEventCreateWithFlags(&written, cudaEventDisableTiming) == cudaSuccess, "event");
        CHECK(cudaEventCreateWithFlags(&copied, cudaEventDisableTiming) == cudaSuccess, "event");
        CHECK(cudaMalloc((void **)&snap, n * sizeof(double)) == cudaSuccess, "cudaMalloc");
        for (int order = 0; order < 2; ++order) {
            setenv("HEMOTREE_EMU_WAITED_LAST", order ? "1" : "0", 1);
            for (int snapshot = 0; snapshot < 2; ++snapshot) {
                CHECK(cudaMemcpy(dx, hx, n * sizeof(double), cudaMemcpyHostToDevice) == cudaSuccess, "H2D");
                memset(pin, 0, n * sizeof(double));
                k_add<<<(n + BS - 1) / BS, BS, 0, st>>>(dx, n, 1.0);
                if (snapshot)
                    CHECK(cudaMemcpyAsync(snap, dx, n * sizeof(double), cudaMemcpyDeviceToDevice, st) == cudaSuccess,
                          "D2D");
                CHECK(cudaEventRecord(written, st) == cudaSuccess, "record");
                CHECK(cudaStreamWaitEvent(cs, written, 0) == cudaSuccess, "wait event");
                CHECK(cudaMemcpyAsync(pin, snapshot ? snap : dx, n * sizeof(double), cudaMemcpyDeviceToHost, cs) ==
                          cudaSuccess,
                      "async D2H");
                CHECK(cudaEventRecord(copied, cs) == cudaSuccess, "record");
                k_add<<<(n + BS - 1) / BS, BS, 0, st>>>(dx, n, 1000.0); /* the next interval */
                CHECK(pin[0] == 0, "copy visible before its event was waited for");
                CHECK(cudaEventSynchronize(copied) == cudaSuccess, "event sync");
                int right = pin[0] == hx[0] + 1 && pin[n - 1] == hx[n - 1] + 1;
                CHECK(right == (snapshot || !order), "order %d, snapshot %d: copied %g, written %g", order, snapshot,
                      pin[0], hx[0] + 1);
                CHECK(cudaStreamSynchronize(st) == cudaSuccess, "sync");
            }
        }
        unsetenv("HEMOTREE_EMU_WAITED_LAST");
        CHECK(cudaMemcpy(hx, dx, n * sizeof(double), cudaMemcpyDeviceToHost) == cudaSuccess, "D2H");
        cudaFree(snap);
        cudaEventDestroy(written);
        cudaEventDestroy(copied);
        cudaStreamDestroy(cs);
    }

    /* capture and replay: a graph of two launches runs them again at each replay */
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    CHECK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal) == cudaSuccess, "capture");
    k_add<<<(n + BS - 1) / BS, BS, 0, st>>>(dx, n, 10.0);
    k_add<<<(n + BS - 1) / BS, BS, 0, st>>>(dx, n, 100.0);
    CHECK(cudaStreamEndCapture(st, &graph) == cudaSuccess, "end capture");
    CHECK(cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess, "instantiate");
    for (int r = 0; r < 2; ++r) CHECK(cudaGraphLaunch(exec, st) == cudaSuccess, "replay");
    CHECK(cudaStreamSynchronize(st) == cudaSuccess, "sync");
    CHECK(cudaMemcpy(hx, dx, n * sizeof(double), cudaMemcpyDeviceToHost) == cudaSuccess, "D2H");
    CHECK(hx[0] == 3 + 1001 + 220 && hx[n - 1] == n + 2 + 1001 + 220, "two replays of +110: %g", hx[0]);
    /* a synchronisation inside a capture loses the capture, as on a device */
    CHECK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal) == cudaSuccess, "capture");
    CHECK(cudaStreamSynchronize(st) == cudaErrorStreamCaptureUnsupported, "sync in capture accepted");
    cudaGraph_t lost = NULL;
    CHECK(cudaStreamEndCapture(st, &lost) == cudaErrorStreamCaptureInvalidated && lost == NULL,
          "capture survived a synchronisation");
    cudaGetLastError();

    /* the launch and copy errors a device gives */
    k_add<<<0, BS, 0, st>>>(dx, n, 1.0);
    CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration, "empty grid accepted");
    CHECK(cudaGetLastError() == cudaSuccess, "the error was not cleared by reading it");
    k_add<<<1, 2048, 0, st>>>(dx, n, 1.0);
    CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration, "2048 threads per block accepted");
    CHECK(cudaMemcpy(dx, hx, n * sizeof(double), cudaMemcpyDeviceToHost) == cudaErrorInvalidValue,
          "a host-to-device copy declared device-to-host was accepted");
    CHECK(cudaMemcpy(hx, dx, (n + 1) * sizeof(double), cudaMemcpyDeviceToHost) == cudaErrorInvalidValue,
          "a copy past the end of an allocation was accepted");
    cudaGetLastError();

    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
    cudaStreamDestroy(st);
    cudaFreeHost(pin);
    cudaFree(dx);
    cudaFree(dsum);
    cudaFree(dfresh);
    cudaFree(da);
    cudaFree(db);
    if (failures) {
        printf("test_cuda_emu: %d check(s) failed\n", failures);
        return 1;
    }
    printf("test_cuda_emu: all checks passed\n");
    return 0;
}
