/* A CPU emulation of the part of the CUDA runtime that kernels/cuda uses, so that the CUDA
 * backend's own source (host side and kernels) runs, and is tested against the CPU backend,
 * on a machine without a GPU (CI). Built only with -DHT_CUDA_EMU=ON (CMakeLists.txt), where
 * this header stands in for the toolkit's. Not a simulator of a GPU's timing or memory
 * model: it checks that the kernels compute what the CPU backend computes, with the launch
 * geometry, barriers, graphs and cooperative launches the backend really uses.
 *
 * How it runs a kernel (cuda_emu.cpp): every CUDA thread of a block is a fiber (its own
 * stack), all on one host thread, switched at __syncthreads; blocks run one after another,
 * except in a cooperative launch, where each block has a host thread of its own so that
 * grid.sync() can wait for all of them. __shared__ is thread-local static storage: one copy
 * per block that runs at a time. Streams are queues that run when waited for, as late as a
 * device could, so a missing synchronisation shows; events order streams as on a device
 * (cudaStreamWaitEvent, cudaEventSynchronize). With HEMOTREE_EMU_WAITED_LAST=1, the work
 * waited for runs after everything else queued on other streams, so a copy that reads what
 * a later kernel on another stream overwrites shows too. With HEMOTREE_EMU_FAIL_LAUNCH=N the
 * N-th kernel or graph launch and every one after it fail (a device that lost its context),
 * so the callers' handling of a runtime error runs too. What a device would reject is rejected
 * here too, with the error a device gives: an empty or oversized launch, a cooperative grid
 * larger than the device holds, a synchronisation inside a stream capture, a copy in the
 * wrong direction.
 * What it cannot see: data races between threads of a kernel (they run in a fixed order;
 * built with -DHT_SANITIZE=thread, ThreadSanitizer sees them, cuda_emu.cpp), the device's
 * rounding of exp/sin/pow (glibc's here), host pointers read by a kernel.
 *
 * The <<<grid, block, shared, stream>>> syntax is not C++: the build rewrites a copy of each
 * .cu file, kernel<<<cfg>>>(args) becoming kernel | ::emu::cfg(cfg) | ::emu::args(args). */
#ifndef HT_CUDA_EMU_RUNTIME_H
#define HT_CUDA_EMU_RUNTIME_H
#include <cstddef>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __shared__ static thread_local

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct uint3 {
    unsigned x, y, z;
};
/* __thread, not thread_local: plain data without a C++ TLS wrapper call at each use (which
 * also made GCC 12's UBSan report a null pointer there) */
extern __thread uint3 threadIdx, blockIdx, blockDim, gridDim;

enum cudaError {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInvalidDevice = 101,
    cudaErrorNoDevice = 100,
    cudaErrorStreamCaptureUnsupported = 900,
    cudaErrorStreamCaptureInvalidated = 901,
    cudaErrorLaunchFailure = 719,
    cudaErrorCooperativeLaunchTooLarge = 720,
    cudaErrorHostMemoryAlreadyRegistered = 712,
    cudaErrorHostMemoryNotRegistered = 713,
};
typedef enum cudaError cudaError_t;

enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
    cudaMemcpyDefault = 4,
};
enum cudaStreamCaptureMode {
    cudaStreamCaptureModeGlobal = 0,
    cudaStreamCaptureModeThreadLocal = 1,
    cudaStreamCaptureModeRelaxed = 2,
};
enum cudaDeviceAttr {
    cudaDevAttrMultiProcessorCount = 16,
    cudaDevAttrCooperativeLaunch = 95,
};
#define cudaStreamNonBlocking 0x01u
#define cudaHostRegisterDefault 0x00u

typedef struct emu_stream *cudaStream_t;
typedef struct emu_event *cudaEvent_t;
#define cudaEventDefault 0x00u
#define cudaEventDisableTiming 0x02u
typedef struct emu_graph *cudaGraph_t;
typedef struct emu_graph *cudaGraphExec_t;

struct cudaDeviceProp {
    char name[256];
    int major, minor, multiProcessorCount;
    size_t totalGlobalMem;
};
struct cudaFuncAttributes {
    int numRegs, maxThreadsPerBlock;
    size_t localSizeBytes, sharedSizeBytes;
};

const char *cudaGetErrorString(cudaError_t e);
const char *cudaGetErrorName(cudaError_t e);
cudaError_t cudaGetLastError(void);
cudaError_t cudaGetDeviceCount(int *n);
cudaError_t cudaSetDevice(int d);
cudaError_t cudaGetDevice(int *d);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int d);
cudaError_t cudaDeviceGetAttribute(int *v, cudaDeviceAttr a, int d);
cudaError_t cudaDeviceSynchronize(void);
cudaError_t cudaMalloc(void **p, size_t bytes);
cudaError_t cudaFree(void *p);
cudaError_t cudaMallocHost(void **p, size_t bytes);
cudaError_t cudaFreeHost(void *p);
cudaError_t cudaHostRegister(void *p, size_t bytes, unsigned flags);
cudaError_t cudaHostUnregister(void *p);
cudaError_t cudaMemset(void *p, int v, size_t bytes);
cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind k);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind k, cudaStream_t s = 0);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned flags);
cudaError_t cudaEventDestroy(cudaEvent_t e);
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s = 0);
cudaError_t cudaEventSynchronize(cudaEvent_t e);
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned flags = 0);
cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *g);
cudaError_t cudaGraphInstantiate(cudaGraphExec_t *e, cudaGraph_t g, unsigned long long flags = 0);
cudaError_t cudaGraphUpload(cudaGraphExec_t e, cudaStream_t s);
cudaError_t cudaGraphLaunch(cudaGraphExec_t e, cudaStream_t s);
cudaError_t cudaGraphDestroy(cudaGraph_t g);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t e);

void __syncthreads(void);

unsigned long long atomicMin(unsigned long long *p, unsigned long long v);
int atomicMin(int *p, int v);

namespace emu {
/* A kernel's body with its arguments bound: what one thread runs. */
typedef std::function<void()> body_fn;

/* Run (or, while `s` is being captured, record) a launch; `coop`: a cooperative launch. */
cudaError_t launch(dim3 grid, dim3 block, cudaStream_t s, int coop, body_fn body);
/* Called by every thread of a cooperative launch at grid.sync(). */
void grid_sync(void);
/* The blocks a cooperative launch may have per multiprocessor (cudaOccupancy...). */
int blocks_per_sm(int block_threads);

struct cfg {
    dim3 grid, block;
    cudaStream_t stream;
    cfg(dim3 g, dim3 b, size_t shared = 0, cudaStream_t s = 0) : grid(g), block(b), stream(s) { (void)shared; }
};
template <class... P> struct bound {
    void (*f)(P...);
    cfg c;
};
template <class... A> struct args_t {
    std::tuple<A...> t;
};
template <class... A> args_t<typename std::decay<A>::type...> args(A &&...a)
{
    return args_t<typename std::decay<A>::type...>{std::tuple<typename std::decay<A>::type...>(std::forward<A>(a)...)};
}
template <class... P> bound<P...> operator|(void (*f)(P...), cfg c) { return bound<P...>{f, c}; }
/* The launch: the arguments converted to the kernel's parameter types once, as the runtime
 * copies them at launch time; every thread then calls the kernel with that copy. */
template <class... P, class... A> void operator|(bound<P...> b, args_t<A...> a)
{
    static_assert(sizeof...(P) == sizeof...(A), "kernel launched with the wrong number of arguments");
    std::tuple<typename std::decay<P>::type...> params(a.t);
    void (*f)(P...) = b.f;
    launch(b.c.grid, b.c.block, b.c.stream, 0, [f, params]() { std::apply(f, params); });
}
template <class... P, std::size_t... I>
std::tuple<typename std::decay<P>::type...> unpack(void **args, std::index_sequence<I...>)
{
    return std::tuple<typename std::decay<P>::type...>(*static_cast<typename std::decay<P>::type *>(args[I])...);
}
} // namespace emu

template <class... P>
cudaError_t cudaLaunchCooperativeKernel(void (*f)(P...), dim3 grid, dim3 block, void **args, size_t shared = 0,
                                        cudaStream_t s = 0)
{
    (void)shared;
    std::tuple<typename std::decay<P>::type...> params = emu::unpack<P...>(args, std::index_sequence_for<P...>{});
    return emu::launch(grid, block, s, 1, [f, params]() { std::apply(f, params); });
}
template <class... P>
cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int *n, void (*f)(P...), int block, size_t shared)
{
    (void)f;
    (void)shared;
    *n = emu::blocks_per_sm(block);
    return cudaSuccess;
}
template <class... P> cudaError_t cudaFuncGetAttributes(cudaFuncAttributes *a, void (*f)(P...))
{
    (void)f;
    a->numRegs = 0;
    a->maxThreadsPerBlock = 1024;
    a->localSizeBytes = a->sharedSizeBytes = 0;
    return cudaSuccess;
}
#endif
