/* The CPU emulation of the CUDA runtime declared in cuda_runtime.h (read its comment first).
 *
 * Execution model. A block's threads are fibers: each has its own stack and runs the kernel
 * until it returns or reaches a barrier, then hands control back to the block's scheduler,
 * which runs the next fiber. When every thread of the block has either finished or is
 * waiting at the same barrier, the waiting ones are released (a grid barrier first waits for
 * the other blocks' host threads). So __syncthreads has its CUDA meaning, including for
 * reductions through __shared__ memory, without one host thread per CUDA thread.
 *
 * Device memory is host memory that the emulation keeps a list of: copies are checked for
 * their direction and bounds, and fresh allocations are filled with 0xff bytes (NaN as a
 * double, -1 as an int), so a kernel that reads memory nothing wrote shows it. */
#include "cuda_runtime.h"

#include <atomic>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>
#include <sys/mman.h>
#include <unistd.h>
#if !defined(__x86_64__)
#include <ucontext.h>
#endif
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define EMU_ASAN 1
#endif
/* Under ThreadSanitizer every CUDA thread is a fiber of its own to TSan, and switching
 * between them implies no ordering: only the barriers (__syncthreads per block, grid.sync
 * per launch) and the ends of a launch do, as on a device. So TSan reports the races
 * between threads of a kernel that the fixed execution order here would hide (what
 * compute-sanitizer's racecheck finds on a device), within a block and, less reliably (see
 * docs/architecture.md), across blocks; never between the threads of one index in successive
 * blocks of a launch, which reuse a fiber. The emulation's own bookkeeping (thread indices,
 * fiber states) is invisible to it. */
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
extern "C" void AnnotateIgnoreWritesBegin(const char *file, int line);
extern "C" void AnnotateIgnoreWritesEnd(const char *file, int line);
#define EMU_TSAN 1
#define HB_RELEASE(a) __tsan_release(a)
#define HB_ACQUIRE(a) __tsan_acquire(a)
#define UNSEEN_BEGIN() AnnotateIgnoreWritesBegin(__FILE__, __LINE__)
#define UNSEEN_END() AnnotateIgnoreWritesEnd(__FILE__, __LINE__)
#else
#define HB_RELEASE(a) ((void)(a))
#define HB_ACQUIRE(a) ((void)(a))
#define UNSEEN_BEGIN() ((void)0)
#define UNSEEN_END() ((void)0)
#endif

__thread uint3 threadIdx, blockIdx, blockDim, gridDim;

/* ------------------------------------------------------------------ diagnostics */

/* A use of the runtime that a device would hang on or that is a bug in the caller: stop
 * with the reason rather than return something a test might take for a result. */
[[noreturn]] static void fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "CUDA emulation: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

static thread_local cudaError_t last_error = cudaSuccess;

static cudaError_t fail(cudaError_t e)
{
    last_error = e;
    return e;
}

const char *cudaGetErrorName(cudaError_t e)
{
    switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorStreamCaptureInvalidated: return "cudaErrorStreamCaptureInvalidated";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorCooperativeLaunchTooLarge: return "cudaErrorCooperativeLaunchTooLarge";
    case cudaErrorHostMemoryAlreadyRegistered: return "cudaErrorHostMemoryAlreadyRegistered";
    case cudaErrorHostMemoryNotRegistered: return "cudaErrorHostMemoryNotRegistered";
    }
    return "cudaErrorUnknown";
}

const char *cudaGetErrorString(cudaError_t e)
{
    switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorCooperativeLaunchTooLarge: return "too many blocks in cooperative launch";
    case cudaErrorHostMemoryAlreadyRegistered: return "part or all of the requested memory range is already mapped";
    case cudaErrorHostMemoryNotRegistered: return "pointer does not correspond to a registered memory region";
    }
    return "unknown error";
}

cudaError_t cudaGetLastError(void)
{
    cudaError_t e = last_error;
    last_error = cudaSuccess;
    return e;
}

/* ------------------------------------------------------------------ the device */

/* HEMOTREE_EMU_DEVICES (default 1; 0: no device) and HEMOTREE_EMU_SMS (default 2: few, so
 * that the grid-stride loops of a cooperative launch go round more than once). */
static int env_int(const char *name, int dflt, int lo)
{
    const char *s = getenv(name);
    if (!s || !*s) return dflt;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > 4096) fatal("%s=%s: expected an integer >= %d", name, s, lo);
    return (int)v;
}
static int n_devices(void) { return env_int("HEMOTREE_EMU_DEVICES", 1, 0); }
/* HEMOTREE_EMU_FAIL_LAUNCH=N (default 0: never): launches (kernels and graphs, not those
 * recorded into a capture) from the N-th on fail, as every call does on a device whose
 * context a fault destroyed. True when this launch is one of them. */
static bool launch_fails(void)
{
    static std::atomic<long> launches{0};
    long n = env_int("HEMOTREE_EMU_FAIL_LAUNCH", 0, 0);
    return n > 0 && ++launches >= n;
}
static int n_sms(void) { return env_int("HEMOTREE_EMU_SMS", 2, 1); }
static thread_local int cur_device = 0;

cudaError_t cudaGetDeviceCount(int *n)
{
    *n = n_devices();
    return *n > 0 ? cudaSuccess : fail(cudaErrorNoDevice);
}

cudaError_t cudaSetDevice(int d)
{
    if (d < 0 || d >= n_devices()) return fail(cudaErrorInvalidDevice);
    cur_device = d;
    return cudaSuccess;
}

cudaError_t cudaGetDevice(int *d)
{
    if (n_devices() < 1) return fail(cudaErrorNoDevice);
    *d = cur_device;
    return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int d)
{
    if (d < 0 || d >= n_devices()) return fail(cudaErrorInvalidDevice);
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "CPU emulation of CUDA (no GPU)");
    p->major = 9;
    p->minor = 0;
    p->multiProcessorCount = n_sms();
    p->totalGlobalMem = (size_t)1 << 34;
    return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int *v, cudaDeviceAttr a, int d)
{
    if (d < 0 || d >= n_devices()) return fail(cudaErrorInvalidDevice);
    switch (a) {
    case cudaDevAttrMultiProcessorCount: *v = n_sms(); return cudaSuccess;
    case cudaDevAttrCooperativeLaunch: *v = 1; return cudaSuccess;
    }
    return fail(cudaErrorInvalidValue);
}

int emu::blocks_per_sm(int block_threads) { return block_threads >= 1 && block_threads <= 1024 ? 1 : 0; }

/* ------------------------------------------------------------------ memory */

namespace {
/* What the emulation knows of a range of host memory. */
enum kind { K_DEVICE, K_PINNED_ALLOC, K_REGISTERED };
struct region {
    size_t bytes;
    kind k;
};
std::mutex mem_lock;
std::map<const char *, region> regions; /* by start address */

/* The region holding [p, p + bytes), or NULL. */
const region *find_region(const void *p, size_t bytes)
{
    const char *c = static_cast<const char *>(p);
    auto it = regions.upper_bound(c);
    if (it == regions.begin()) return NULL;
    --it;
    if (c < it->first || c + bytes > it->first + it->second.bytes) return NULL;
    return &it->second;
}

/* Does [p, p + bytes) overlap any region? */
bool overlaps(const void *p, size_t bytes)
{
    const char *c = static_cast<const char *>(p);
    auto it = regions.lower_bound(c + bytes);
    if (it == regions.begin()) return false;
    --it;
    return it->first + it->second.bytes > c;
}

bool on_device(const void *p, size_t bytes)
{
    std::lock_guard<std::mutex> g(mem_lock);
    const region *r = find_region(p, bytes);
    return r && r->k == K_DEVICE;
}

/* Page-locked host memory (cudaMallocHost, cudaHostRegister): copies to and from it are
 * asynchronous; pageable memory is copied before cudaMemcpyAsync returns. */
bool pinned(const void *p, size_t bytes)
{
    std::lock_guard<std::mutex> g(mem_lock);
    const region *r = find_region(p, bytes);
    return r && r->k != K_DEVICE;
}

cudaError_t alloc(void **p, size_t bytes, kind k)
{
    if (!p) return fail(cudaErrorInvalidValue);
    *p = NULL;
    void *m = malloc(bytes ? bytes : 1);
    if (!m) return fail(cudaErrorMemoryAllocation);
    memset(m, 0xff, bytes ? bytes : 1);
    std::lock_guard<std::mutex> g(mem_lock);
    regions[static_cast<const char *>(m)] = region{bytes ? bytes : 1, k};
    *p = m;
    return cudaSuccess;
}

cudaError_t forget(void *p, kind k)
{
    std::lock_guard<std::mutex> g(mem_lock);
    auto it = regions.find(static_cast<const char *>(p));
    if (it == regions.end() || it->second.k != k) return fail(cudaErrorInvalidValue);
    regions.erase(it);
    return cudaSuccess;
}
void sync_all(void);
} // namespace

cudaError_t cudaMalloc(void **p, size_t bytes) { return alloc(p, bytes, K_DEVICE); }
cudaError_t cudaMallocHost(void **p, size_t bytes) { return alloc(p, bytes, K_PINNED_ALLOC); }

/* Memory is freed only after the device's queued work, as on a device (which synchronises). */
static cudaError_t release(void *p, kind k)
{
    if (!p) return cudaSuccess;
    sync_all();
    if (forget(p, k) != cudaSuccess) return cudaErrorInvalidValue;
    free(p);
    return cudaSuccess;
}
cudaError_t cudaFree(void *p) { return release(p, K_DEVICE); }
cudaError_t cudaFreeHost(void *p) { return release(p, K_PINNED_ALLOC); }

cudaError_t cudaHostRegister(void *p, size_t bytes, unsigned flags)
{
    (void)flags;
    if (!p || !bytes) return fail(cudaErrorInvalidValue);
    std::lock_guard<std::mutex> g(mem_lock);
    if (overlaps(p, bytes)) return fail(cudaErrorHostMemoryAlreadyRegistered);
    regions[static_cast<const char *>(p)] = region{bytes, K_REGISTERED};
    return cudaSuccess;
}

cudaError_t cudaHostUnregister(void *p)
{
    sync_all();
    return forget(p, K_REGISTERED) == cudaSuccess ? cudaSuccess : fail(cudaErrorHostMemoryNotRegistered);
}

/* ------------------------------------------------------------------ streams and graphs */

/* A stream is a queue: work runs when something waits for it (cudaStreamSynchronize,
 * cudaDeviceSynchronize, a free, a copy to or from pageable memory), as late as a device
 * could run it. So a result read on the host before the wait that makes it safe is not
 * there yet (a copy into pinned memory still holds what was there before), and the race a
 * device would sometimes lose is lost every time. */
struct emu_graph {
    std::vector<std::function<void()>> ops;
};
struct emu_stream {
    int capturing;
    int invalidated;
    emu_graph *cap;
    std::deque<std::function<void()>> queue;
    unsigned long long issued, done; /* operations queued and run so far: events' positions */
};
/* An event is a position in one stream's sequence of operations: what had been issued to it
 * when the event was recorded. NULL stream: recorded on the legacy stream, whose work has
 * run by the time the call returns. */
struct emu_event {
    emu_stream *s;
    unsigned long long at;
};

namespace {
/* Streams capturing on this host thread (cudaStreamCaptureModeThreadLocal): while one is,
 * work on the legacy stream and synchronous copies are errors, as on a device. */
thread_local int n_capturing = 0;
std::mutex streams_lock;
std::set<emu_stream *> streams;

/* Run what stream s holds, in order, until `at` of its operations have run. An operation
 * may itself drain another stream (cudaStreamWaitEvent). */
void drain_to(emu_stream *s, unsigned long long at)
{
    while (s->done < at && !s->queue.empty()) {
        std::function<void()> op = std::move(s->queue.front());
        s->queue.pop_front();
        op();
        ++s->done;
    }
}
void drain(emu_stream *s) { drain_to(s, ~0ull); }

std::vector<emu_stream *> all_streams(void)
{
    std::lock_guard<std::mutex> g(streams_lock);
    return std::vector<emu_stream *>(streams.begin(), streams.end());
}

void sync_all(void)
{
    for (emu_stream *s : all_streams()) drain(s);
}

/* HEMOTREE_EMU_WAITED_LAST=1: before the host's wait for stream s is served, every other
 * stream runs all it holds, as a device may have done by then. Lazy streams (the default)
 * catch a result read before it is waited for; this order catches a result read after
 * another stream's later work has overwritten its source (a copy stream reading what the
 * next kernel changes). */
void before_wait(emu_stream *s)
{
    const char *v = getenv("HEMOTREE_EMU_WAITED_LAST"); /* read at each wait: tests switch it */
    if (!v || !*v || strcmp(v, "0") == 0) return;
    for (emu_stream *o : all_streams())
        if (o != s) drain(o);
}

/* Stream s, if it still exists (an event may outlive its stream, whose work then ran when
 * it was destroyed). */
bool alive(emu_stream *s)
{
    std::lock_guard<std::mutex> g(streams_lock);
    return streams.count(s) != 0;
}

/* The operation `op` issued to stream s: recorded while s is being captured, queued on a
 * created stream, run now on the legacy stream (which the backend only uses for set-up,
 * followed by cudaDeviceSynchronize). */
cudaError_t issue(cudaStream_t s, std::function<void()> op)
{
    if (s && s->capturing) {
        s->cap->ops.push_back(std::move(op));
        return cudaSuccess;
    }
    if (n_capturing > 0) return fail(cudaErrorStreamCaptureUnsupported);
    if (s) {
        s->queue.push_back(std::move(op));
        ++s->issued;
    } else {
        op();
    }
    return cudaSuccess;
}

cudaError_t check_copy(void *dst, const void *src, size_t bytes, cudaMemcpyKind k)
{
    if (bytes == 0) return cudaSuccess;
    if (!dst || !src) return fail(cudaErrorInvalidValue);
    bool dd = on_device(dst, bytes), sd = on_device(src, bytes);
    bool ok = k == cudaMemcpyHostToDevice   ? dd && !sd
              : k == cudaMemcpyDeviceToHost ? sd && !dd
              : k == cudaMemcpyDeviceToDevice ? sd && dd
              : k == cudaMemcpyHostToHost   ? !sd && !dd
                                            : true;
    return ok ? cudaSuccess : fail(cudaErrorInvalidValue);
}
} // namespace

cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind k)
{
    if (n_capturing > 0) return fail(cudaErrorStreamCaptureUnsupported);
    cudaError_t e = check_copy(dst, src, bytes, k);
    if (e == cudaSuccess && bytes) memcpy(dst, src, bytes);
    return e;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind k, cudaStream_t s)
{
    cudaError_t e = check_copy(dst, src, bytes, k);
    if (e != cudaSuccess || !bytes) return e;
    const void *host = k == cudaMemcpyHostToDevice ? src : k == cudaMemcpyDeviceToHost ? dst : NULL;
    e = issue(s, [dst, src, bytes]() { memcpy(dst, src, bytes); });
    /* pageable host memory: the copy is done (and the stream's earlier work with it) when
     * the call returns, as the runtime stages it */
    if (e == cudaSuccess && s && !s->capturing && host && !pinned(host, bytes)) {
        before_wait(s);
        drain(s);
    }
    return e;
}

cudaError_t cudaMemset(void *p, int v, size_t bytes)
{
    if (n_capturing > 0) return fail(cudaErrorStreamCaptureUnsupported);
    if (bytes == 0) return cudaSuccess;
    if (!on_device(p, bytes)) return fail(cudaErrorInvalidValue);
    memset(p, v, bytes);
    return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags)
{
    (void)flags;
    *s = new emu_stream{0, 0, NULL, {}, 0, 0};
    std::lock_guard<std::mutex> g(streams_lock);
    streams.insert(*s);
    return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t s)
{
    if (!s) return fail(cudaErrorInvalidValue);
    if (s->capturing) {
        --n_capturing;
        delete s->cap;
    }
    drain(s); /* queued work still completes */
    {
        std::lock_guard<std::mutex> g(streams_lock);
        streams.erase(s);
    }
    delete s;
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t s)
{
    if (s && s->capturing) {
        s->invalidated = 1; /* as on a device: the capture is lost */
        return fail(cudaErrorStreamCaptureUnsupported);
    }
    if (n_capturing > 0) return fail(cudaErrorStreamCaptureUnsupported);
    if (s) {
        before_wait(s);
        drain(s);
    } else {
        sync_all(); /* the legacy stream waits for the blocking streams; all, to be safe */
    }
    return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned flags)
{
    (void)flags;
    if (!e) return fail(cudaErrorInvalidValue);
    *e = new emu_event{NULL, 0};
    return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t e)
{
    if (!e) return fail(cudaErrorInvalidValue);
    delete e;
    return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s)
{
    if (!e) return fail(cudaErrorInvalidValue);
    /* events inside a capture (graph nodes) are not emulated: the backend records none */
    if ((s && s->capturing) || n_capturing > 0) return fail(cudaErrorStreamCaptureUnsupported);
    e->s = s;
    e->at = s ? s->issued : 0;
    return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t e)
{
    if (!e) return fail(cudaErrorInvalidValue);
    if (n_capturing > 0) return fail(cudaErrorStreamCaptureUnsupported);
    if (e->s && alive(e->s)) {
        before_wait(e->s);
        drain_to(e->s, e->at);
    }
    return cudaSuccess;
}

cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned flags)
{
    (void)flags;
    if (!e) return fail(cudaErrorInvalidValue);
    if (s && s->capturing) return fail(cudaErrorStreamCaptureUnsupported); /* not emulated */
    /* the event's position now (a later record does not move this wait), reached when the
     * waiting stream comes to this point */
    emu_stream *src = e->s;
    unsigned long long at = e->at;
    if (!src) return cudaSuccess;
    return issue(s, [src, at]() {
        if (alive(src)) drain_to(src, at);
    });
}

cudaError_t cudaDeviceSynchronize(void)
{
    if (n_capturing > 0) return fail(cudaErrorStreamCaptureUnsupported);
    sync_all();
    return cudaSuccess;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode)
{
    (void)mode;
    if (!s || s->capturing) return fail(cudaErrorInvalidValue); /* the legacy stream cannot */
    s->capturing = 1;
    s->invalidated = 0;
    s->cap = new emu_graph;
    ++n_capturing;
    return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *g)
{
    if (!s || !s->capturing) return fail(cudaErrorInvalidValue);
    s->capturing = 0;
    --n_capturing;
    if (s->invalidated) {
        delete s->cap;
        s->cap = NULL;
        *g = NULL;
        return fail(cudaErrorStreamCaptureInvalidated);
    }
    *g = s->cap;
    s->cap = NULL;
    return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t *e, cudaGraph_t g, unsigned long long flags)
{
    (void)flags;
    if (!e || !g) return fail(cudaErrorInvalidValue);
    *e = new emu_graph(*g);
    return cudaSuccess;
}

cudaError_t cudaGraphUpload(cudaGraphExec_t e, cudaStream_t s)
{
    (void)s;
    return e ? cudaSuccess : fail(cudaErrorInvalidValue);
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t e, cudaStream_t s)
{
    if (!e) return fail(cudaErrorInvalidValue);
    if (s && s->capturing) return fail(cudaErrorStreamCaptureUnsupported); /* not needed here */
    if (launch_fails()) return fail(cudaErrorLaunchFailure);
    return issue(s, [e]() {
        for (auto &op : e->ops) op();
    });
}

cudaError_t cudaGraphDestroy(cudaGraph_t g)
{
    delete g;
    return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t e)
{
    sync_all(); /* a queued replay may still hold it */
    delete e;
    return cudaSuccess;
}

/* ------------------------------------------------------------------ fibers */

/* A context switch that saves the callee-saved registers on the old stack and restores them
 * from the new one (the System V x86-64 calling convention leaves the rest to the caller).
 * The floating-point control words are callee-saved too, but nothing here changes them, so
 * every fiber has the host thread's (loading them at each switch cost a fifth of the run).
 * Elsewhere, ucontext: the same, slower (a system call per switch for the signal mask). */
#if defined(__x86_64__)
extern "C" void emu_switch(void **save_sp, void *load_sp);
extern "C" void emu_fiber_entry(void);
extern "C" void emu_fiber_main(void);
asm(R"(
    .text
    .globl emu_switch
    .type emu_switch, @function
emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size emu_switch, .-emu_switch

    .globl emu_fiber_entry
    .type emu_fiber_entry, @function
emu_fiber_entry:
    call emu_fiber_main
    ud2
    .size emu_fiber_entry, .-emu_fiber_entry
)");
struct context {
    void *sp;
    const void *bottom; /* the stack's lowest usable byte and size, for AddressSanitizer */
    size_t size;
    void *tsan;         /* the fiber to ThreadSanitizer */
};
#else
extern "C" void emu_fiber_main(void);
struct context {
    ucontext_t uc;
    const void *bottom;
    size_t size;
    void *tsan;
};
#endif

namespace {
enum { F_RUN, F_WAIT, F_DONE };
enum { B_BLOCK = 1, B_GRID = 2 };
const size_t STACK_BYTES = 256 * 1024;

struct fiber {
    context ctx;
    char *map;       /* guard page + stack */
    size_t map_bytes;
    int state;
    int wait;        /* B_BLOCK or B_GRID while state == F_WAIT */
};

/* The barrier of one cooperative launch's blocks (one host thread each). */
struct grid_barrier {
    std::mutex m;
    std::condition_variable cv;
    unsigned n;        /* blocks */
    unsigned arrived;  /* at the current barrier */
    unsigned exited;   /* blocks whose threads have all returned */
    unsigned long gen;
    /* the threads' happens-before through the barrier, to ThreadSanitizer: an address of
     * its own (at m's, the mutex's unlocks by the block schedulers would overwrite it) */
    char hb;
};

/* Per host thread: the fibers and the scheduler running one block at a time. */
struct executor {
    std::vector<fiber *> fibers;
    context sched{};
    fiber *cur = NULL;
    const emu::body_fn *body = NULL;
    grid_barrier *grid = NULL;
    char launch_start, launch_end; /* ThreadSanitizer's happens-before of a launch's ends */
    char *block_bar = NULL;        /* and of the running block's __syncthreads */
    ~executor()
    {
        for (fiber *f : fibers) {
#if EMU_TSAN
            __tsan_destroy_fiber(f->ctx.tsan);
#endif
            munmap(f->map, f->map_bytes);
            delete f;
        }
    }
};
/* The host thread's executor, freed when the thread ends. Its fibers' last reads of it
 * (switching back here) are ordered before that by the switch itself, which TSan is told
 * implies nothing: the free is kept from its view. */
struct executor_holder {
    executor *ex = NULL;
    executor *get() const { return ex; }
    ~executor_holder()
    {
        UNSEEN_BEGIN();
        delete ex;
        UNSEEN_END();
    }
};
thread_local executor_holder tl_ex;

executor *ex_get(void)
{
    if (!tl_ex.ex) {
        tl_ex.ex = new executor;
#if EMU_TSAN
        tl_ex.ex->sched.tsan = __tsan_get_current_fiber();
#endif
    }
    return tl_ex.ex;
}

/* Under AddressSanitizer every switch is announced with the stack it goes to (else ASan takes
 * the fiber's frames for a wild overflow of the host thread's stack). */
void ctx_switch(context *from, context *to)
{
#if EMU_ASAN
    void *fake = NULL;
    __sanitizer_start_switch_fiber(&fake, to->bottom, to->size);
#endif
#if defined(__x86_64__)
    void *sp = to->sp; /* read as the fiber switching out (to TSan, the switch comes first) */
#endif
#if EMU_TSAN
    __tsan_switch_to_fiber(to->tsan, __tsan_switch_to_fiber_no_sync);
#endif
#if defined(__x86_64__)
    emu_switch(&from->sp, sp);
#else
    swapcontext(&from->uc, &to->uc);
#endif
#if EMU_ASAN
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
}

fiber *fiber_new(void)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t bytes = STACK_BYTES + (size_t)page;
    void *map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) fatal("out of memory for a thread's stack");
    /* the lowest page faults: a kernel that overflows its stack stops there */
    if (mprotect(map, (size_t)page, PROT_NONE)) fatal("mprotect of a stack guard page failed");
    fiber *f = new fiber();
    f->map = static_cast<char *>(map);
    f->map_bytes = bytes;
    f->ctx.bottom = f->map + page;
    f->ctx.size = STACK_BYTES;
#if EMU_TSAN
    f->ctx.tsan = __tsan_create_fiber(0);
#endif
#if defined(__x86_64__)
    /* the frame emu_switch pops: r15..r12, rbx, rbp (all 0), then the return address, with
     * the stack 16-byte aligned after the return, as a call expects */
    uintptr_t top = (reinterpret_cast<uintptr_t>(f->map) + bytes) & ~static_cast<uintptr_t>(15);
    uintptr_t a = top - 16;
    void **frame = reinterpret_cast<void **>(a - 56);
    memset(frame, 0, 56);
    frame[6] = reinterpret_cast<void *>(&emu_fiber_entry);
    f->ctx.sp = frame;
#else
    if (getcontext(&f->ctx.uc)) fatal("getcontext failed");
    f->ctx.uc.uc_stack.ss_sp = f->map + page;
    f->ctx.uc.uc_stack.ss_size = STACK_BYTES;
    f->ctx.uc.uc_link = NULL;
    makecontext(&f->ctx.uc, emu_fiber_main, 0);
#endif
    return f;
}

void grid_wait(grid_barrier *gb)
{
    std::unique_lock<std::mutex> l(gb->m);
    if (gb->exited)
        fatal("grid.sync() after a block of the grid returned: this kernel would hang on a device");
    unsigned long gen = gb->gen;
    if (++gb->arrived == gb->n) {
        gb->arrived = 0;
        ++gb->gen;
        gb->cv.notify_all();
        return;
    }
    gb->cv.wait(l, [gb, gen]() { return gb->gen != gen || gb->exited; });
    if (gb->gen == gen)
        fatal("a block of the grid returned while others wait at grid.sync(): this kernel would hang on a device");
}

void grid_exit(grid_barrier *gb)
{
    std::lock_guard<std::mutex> l(gb->m);
    ++gb->exited;
    gb->cv.notify_all();
}

/* Run block blockIdx (already set) of `body` with blockDim.x threads on this host thread. */
void run_block(executor *ex)
{
    unsigned n = blockDim.x;
    while (ex->fibers.size() < n) ex->fibers.push_back(fiber_new());
    /* this block's barrier to ThreadSanitizer: a fresh address each block, since freeing
     * one forgets what was synchronised through it */
    std::unique_ptr<char> bar(new char);
    UNSEEN_BEGIN();
    ex->block_bar = bar.get();
    for (unsigned t = 0; t < n; ++t) ex->fibers[t]->state = F_RUN;
    UNSEEN_END();
    for (;;) {
        for (unsigned t = 0; t < n; ++t) {
            fiber *f = ex->fibers[t];
            if (f->state != F_RUN) continue;
            UNSEEN_BEGIN();
            threadIdx = uint3{t, 0, 0};
            ex->cur = f;
            UNSEEN_END();
            ctx_switch(&ex->sched, &f->ctx);
        }
        UNSEEN_BEGIN();
        ex->cur = NULL;
        UNSEEN_END();
        unsigned done = 0, block = 0, grid = 0;
        for (unsigned t = 0; t < n; ++t) {
            fiber *f = ex->fibers[t];
            done += f->state == F_DONE;
            block += f->state == F_WAIT && f->wait == B_BLOCK;
            grid += f->state == F_WAIT && f->wait == B_GRID;
        }
        if (done == n) return;
        if (block && grid)
            fatal("block %u: some threads wait at __syncthreads(), others at grid.sync()", blockIdx.x);
        if (grid) {
            if (done)
                fatal("block %u: threads wait at grid.sync() after others of the block returned", blockIdx.x);
            grid_wait(ex->grid);
        }
        /* threads that returned count as arrived at a __syncthreads(), as on a device */
        UNSEEN_BEGIN();
        for (unsigned t = 0; t < n; ++t)
            if (ex->fibers[t]->state == F_WAIT) ex->fibers[t]->state = F_RUN;
        UNSEEN_END();
    }
}

/* A fiber's stack is reused for thread after thread: it never unwinds. */
void barrier(int kind)
{
    executor *ex = tl_ex.get();
    if (!ex || !ex->cur) fatal("%s outside a kernel", kind == B_BLOCK ? "__syncthreads()" : "grid.sync()");
    if (kind == B_GRID && !ex->grid) fatal("grid.sync() in a kernel not launched with cudaLaunchCooperativeKernel");
    fiber *f = ex->cur;
    void *hb = kind == B_BLOCK ? static_cast<void *>(ex->block_bar) : static_cast<void *>(&ex->grid->hb);
    HB_RELEASE(hb);
    UNSEEN_BEGIN();
    f->state = F_WAIT;
    f->wait = kind;
    UNSEEN_END();
    ctx_switch(&f->ctx, &ex->sched);
    HB_ACQUIRE(hb);
}

/* The host threads of cooperative launches, block b on worker b, kept from launch to launch
 * with their fibers (one thread and 128 stacks per block per launch otherwise). */
class block_pool {
    struct worker {
        std::thread th;
        std::mutex m;
        std::condition_variable cv;
        std::function<void()> job;
        bool busy = false, quit = false;
    };
    std::vector<std::unique_ptr<worker>> w;

    static void loop(worker *k)
    {
        std::unique_lock<std::mutex> l(k->m);
        for (;;) {
            k->cv.wait(l, [k]() { return k->busy || k->quit; });
            if (!k->busy) return;
            std::function<void()> job = std::move(k->job);
            l.unlock();
            job();
            l.lock();
            k->busy = false;
            k->cv.notify_all();
        }
    }

  public:
    static block_pool &get()
    {
        static block_pool pool;
        return pool;
    }
    void start(unsigned b, std::function<void()> job)
    {
        while (w.size() <= b) {
            w.emplace_back(new worker);
            worker *k = w.back().get();
            k->th = std::thread(loop, k);
        }
        worker *k = w[b].get();
        std::lock_guard<std::mutex> l(k->m);
        k->job = std::move(job);
        k->busy = true;
        k->cv.notify_all();
    }
    void wait(unsigned b)
    {
        worker *k = w[b].get();
        std::unique_lock<std::mutex> l(k->m);
        k->cv.wait(l, [k]() { return !k->busy; });
    }
    ~block_pool()
    {
        for (auto &k : w) {
            {
                std::lock_guard<std::mutex> l(k->m);
                k->quit = true;
                k->cv.notify_all();
            }
            k->th.join();
        }
    }
};

void run_grid(dim3 grid, dim3 block, int coop, const emu::body_fn &body)
{
    if (!coop) {
        /* blocks one after another: independent by the programming model */
        executor *ex = ex_get();
        const emu::body_fn *outer = ex->body;
        if (ex->cur) fatal("a kernel launched from inside a kernel");
        UNSEEN_BEGIN();
        ex->body = &body;
        ex->grid = NULL;
        gridDim = uint3{grid.x, grid.y, grid.z};
        blockDim = uint3{block.x, block.y, block.z};
        UNSEEN_END();
        /* what the host did before the launch is seen by every thread; what a thread does,
         * by the host after the launch (not by the next block: blocks are concurrent) */
        HB_RELEASE(&ex->launch_start);
        for (unsigned b = 0; b < grid.x; ++b) {
            UNSEEN_BEGIN();
            blockIdx = uint3{b, 0, 0};
            UNSEEN_END();
            run_block(ex);
        }
        HB_ACQUIRE(&ex->launch_end);
        UNSEEN_BEGIN();
        ex->body = outer;
        UNSEEN_END();
        return;
    }
    /* every block resident at once, each on a host thread of its own */
    grid_barrier gb;
    gb.n = grid.x;
    gb.arrived = gb.exited = 0;
    gb.gen = 0;
    block_pool &pool = block_pool::get();
    for (unsigned b = 0; b < grid.x; ++b)
        pool.start(b, [&gb, &body, grid, block, b]() {
            executor *ex = ex_get();
            UNSEEN_BEGIN();
            ex->body = &body;
            ex->grid = &gb;
            gridDim = uint3{grid.x, grid.y, grid.z};
            blockDim = uint3{block.x, block.y, block.z};
            blockIdx = uint3{b, 0, 0};
            UNSEEN_END();
            HB_RELEASE(&ex->launch_start);
            run_block(ex);
            HB_ACQUIRE(&ex->launch_end);
            grid_exit(&gb);
        });
    for (unsigned b = 0; b < grid.x; ++b) pool.wait(b);
}
} // namespace

extern "C" void emu_fiber_main(void)
{
    executor *ex = tl_ex.get();
#if EMU_ASAN
    /* entered from the scheduler, not from ctx_switch: finish that switch, and learn the
     * scheduler's stack (the host thread's), which the switches back announce */
    __sanitizer_finish_switch_fiber(NULL, &ex->sched.bottom, &ex->sched.size);
#endif
    for (;;) {
        fiber *f = ex->cur;
        HB_ACQUIRE(&ex->launch_start);
        (*ex->body)();
        HB_RELEASE(&ex->launch_end);
        UNSEEN_BEGIN();
        f->state = F_DONE;
        UNSEEN_END();
        ctx_switch(&f->ctx, &ex->sched);
    }
}

void __syncthreads(void) { barrier(B_BLOCK); }
void emu::grid_sync(void) { barrier(B_GRID); }

cudaError_t emu::launch(dim3 grid, dim3 block, cudaStream_t s, int coop, body_fn body)
{
    if (grid.x == 0 || block.x == 0 || block.x > 1024 || grid.y != 1 || grid.z != 1 || block.y != 1 || block.z != 1)
        return fail(cudaErrorInvalidConfiguration);
    if (coop && grid.x > (unsigned)(blocks_per_sm((int)block.x) * n_sms()))
        return fail(cudaErrorCooperativeLaunchTooLarge);
    if (!(s && s->capturing) && launch_fails()) return fail(cudaErrorLaunchFailure);
    return issue(s, [grid, block, coop, body]() { run_grid(grid, block, coop, body); });
}

/* Blocks of a cooperative launch run on several host threads: a compare-and-swap loop. */
template <class T> static T atomic_min(T *p, T v)
{
    T old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
    while (v < old && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
    return old;
}

unsigned long long atomicMin(unsigned long long *p, unsigned long long v) { return atomic_min(p, v); }
int atomicMin(int *p, int v) { return atomic_min(p, v); }
