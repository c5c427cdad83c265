/* CUDA backend: the step of kernels/cpu/step_cpu.c, run entirely on the device.
 *
 * Single source (docs/architecture.md): every kernel below is a thin __global__ wrapper around
 * a function of kernels/step.h, boundary.h or junction.h; no arithmetic of the scheme is
 * written here. The only numbers computed in this file are the time-step bookkeeping that
 * the CPU path does in solver.c (advance_member): t += dt and landing on t_stop, mirrored
 * operation for operation in k_step_end; dt itself comes from step.h's ht_dt_from_rate.
 *
 * Ensembles: the network may hold n_members stacked copies of one shape (net.h). Each member
 * has its own clock in a device array, and every thread first finds the member of its cell,
 * boundary or vessel and asks that member's clock whether it still steps. So one launch
 * advances all members, each with its own dt exactly as its single run would; a member
 * that reached t_stop or failed idles until the others are done. A single run is the
 * ensemble of one.
 *
 * One step is this fixed sequence of launches (per RK stage the CPU's phases: reconstruct
 * every cell; inlets, outlets, junctions; interior fluxes; update every cell; the CPU
 * computes the interior fluxes before the boundaries, which is the same: the two write
 * different faces and read only the reconstruction):
 *
 *   k_begin        U0 = U, pc0 = pc (pcim0 = pcim), hX0 = hX of every member still stepping
 *   k_dt           one block per member: max cell rate (exact, order-free) -> dt
 *   stage 0        k_reconstruct(U), [k_heart_begin], k_boundary, [k_heart_end], k_interior,
 *                  k_update(U -> U1), k_stage_end
 *   stage 1        k_reconstruct(U1), [k_heart_begin], k_boundary, [k_heart_end], k_interior,
 *                  k_update(U1, U0 -> U)
 *                  ([..]: closed loop only, net.heart; one thread per member, the CPU's
 *                  ht_heart_begin_member before the inlets and ht_heart_end_member after the
 *                  outlets and junctions, kernels/heart_stage.h)
 *   k_visco        viscoelastic wall only (net.Gamma != NULL): the split viscous step,
 *                  one thread per vessel (viscoelastic.h); not launched for elastic walls
 *   k_step_end     one block per member: record failures, t += dt, step++, land on
 *                  t_stop, sample the member's probes (and its heart row)
 *
 * Why a CUDA graph: a single network of a few hundred cells is launch- and latency-bound.
 * A step is 12 dependent kernels (13 with viscoelastic walls), each only a few microseconds
 * of work; launched one by one from the host, each costs a host API call, and a per-step
 * clock check would add a synchronisation. The chunk (HT_CHUNK_BIG steps) is captured once
 * into a graph with stream capture, instantiated once, and replayed: the GPU then chains the
 * kernels back to back with no host involvement. After a replay the host copies the member
 * clocks back (one small copy and one synchronisation per chunk) and repeats until every
 * member reached t_stop or failed. Steps past t_stop inside a chunk cost an empty kernel
 * each; a smaller graph (HT_CHUNK_SMALL steps) is used when every stepping member has few
 * steps left. (CUDA 12.4+ conditional WHILE nodes could remove the per-chunk
 * synchronisation; the fixed chunk works on any driver.)
 *
 * The other way (HEMOTREE_CUDA_LAUNCH=persistent): each chunk is one cooperative launch of
 * k_persistent, which runs the same phases with a grid-wide barrier where the graph has a
 * kernel boundary (step_phases.cuh). Both run the same phase functions, and the GPU check
 * (scripts/gpu-check.sh) runs the parity tests and the timings both ways, so that the
 * choice between them is a measurement (docs/performance.md). The kernels themselves, as
 * __device__ functions of one index and their __global__ wrappers, are in step_phases.cuh;
 * this file is the host side.
 *
 * Measured on an H100 before ensembles (single tree network, output every 8 ms): 225 cells
 * ~75-85 us per step, 2250 cells ~74 us, 22500 cells ~58 us: the latency of the kernels,
 * the boundary kernel (serial Newton solves) the longest at ~19 us. docs/performance.md
 * keeps the current figures.
 *
 * Failures: the CPU records a member's first failure in its serial order (inlets, then
 * outlets, then junctions; for the cell update the lowest failing cell). To reproduce that
 * order regardless of thread scheduling, each failing thread posts a 64-bit key
 * (order << 32 | code) with atomicMin into its member's slot: the lowest order wins, and its
 * code travels with it. A kernel at the end of each stage commits the keys into the clocks
 * (first failure wins, as record_fail).
 */
#include "backend_cuda.h"
#include "step_phases.cuh"
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HT_CHUNK_BIG 64       /* steps per replay of the big graph */
#define HT_CHUNK_SMALL 8      /* steps per replay of the small graph (tail of an interval) */

/* Host: one member's probe rows of the current advance call. */
typedef struct {
    double *t, *p, *q, *a, *h;
    size_t n, cap;
} ht_hrows;

struct ht_cuda {
    ht_net d;                      /* the network with device pointers (passed by value) */
    int M;                         /* members */
    int n_ends;                    /* junction ends */
    ht_state U;                    /* device */
    ht_work w;                     /* device */
    real *state_buf;               /* one device allocation behind U and w */
    ht_dmember *mem;               /* device [M] */
    ht_dmember *hmem;              /* pinned host mirror of mem, current once the chunk in
                                    * flight is waited for (finish_chunk) */
    ht_dprobe dp;                  /* device probe rows of one chunk */
    double *st, *sp, *sq, *sa, *sh; /* pinned staging for one chunk's probe (and heart) rows */
    real *hbuf;                    /* device: the heart's work arrays (closed loop only) */
    ht_hrows *hr;                  /* [M] */
    ht_cuda_rows *out;             /* [M] what ht_cuda_advance hands back */
    void **allocs;                 /* device allocations for the network arrays */
    int n_allocs, cap_allocs;
    cudaStream_t stream;
    int have_stream;
    cudaGraphExec_t exec[2];       /* [0] big chunk, [1] small chunk */
    int chunk[2];
    void *pinned[8];               /* host ranges page-locked by ht_cuda_pin */
    int n_pinned;
    int persistent;                /* chunks as one cooperative launch of k_persistent */
    int pgrid;                     /* its blocks: all resident at once */
    /* output copies: a device-side snapshot, copied to the host on a stream of its own */
    cudaStream_t copy;
    int have_copy;
    cudaEvent_t ev_snap, ev_copied; /* snapshot taken (g->stream), copy done (g->copy) */
    int have_events;               /* bit 0: ev_snap created, bit 1: ev_copied */
    unsigned char *snap;           /* device, laid out by fetch_items */
    int fetching;                  /* a fetch started, not yet waited for */
    /* the interval in progress (ht_cuda_begin, taken up by ht_cuda_advance) */
    int begun;
    double begun_t;
    int in_chunk;                  /* a chunk launched whose copies are not yet waited for */
    int rows_max;                  /* that chunk's steps: the most probe rows it can leave */
};

/* ------------------------------------------------------------------ error handling */

static void cu_msg(char *err, size_t len, const char *file, int line, const char *what,
                   cudaError_t e)
{
    if (err && len)
        snprintf(err, len, "%s:%d: %s: %s (%s)", file, line, what, cudaGetErrorString(e),
                 cudaGetErrorName(e));
}

/* Check a CUDA call: on error, write file, line, call and the error string into err and
 * jump to the function's `fail` label (which returns -1 after cleaning up). */
#define CU(call)                                                        \
    do {                                                                \
        cudaError_t e_ = (call);                                        \
        if (e_ != cudaSuccess) {                                        \
            cu_msg(err, len, __FILE__, __LINE__, #call, e_);            \
            goto fail;                                                  \
        }                                                               \
    } while (0)

/* After every launch: configuration errors surface here (errors while a kernel runs surface
 * at the next synchronisation: a chunk's in finish_chunk, or, for a chunk begun ahead, the
 * output copy's in ht_cuda_fetch_wait). */
#define CU_LAUNCH(name)                                                 \
    do {                                                                \
        cudaError_t e_ = cudaGetLastError();                            \
        if (e_ != cudaSuccess) {                                        \
            cu_msg(err, len, __FILE__, __LINE__, "launch of " #name, e_); \
            goto fail;                                                  \
        }                                                               \
    } while (0)

/* ------------------------------------------------------------------ host side */

static int nblocks(int count) { return (count + HT_CUDA_BS - 1) / HT_CUDA_BS; }

/* Launch the kernels of one step into g->stream (captured into a graph by the caller). */
static int enqueue_step(ht_cuda *g, char *err, size_t len)
{
    const ht_net n = g->d;
    ht_dmember *mem = g->mem;
    cudaStream_t st = g->stream;
    int nc = n.n_cells, M = g->M;
    int nbeg0 = nc > n.n_outlets ? nc : n.n_outlets;
    int nbeg = nblocks(nbeg0 > M ? nbeg0 : M);
    int ncb = nblocks(nc);
    int nb = n.n_inlets + n.n_outlets + n.n_junctions;
    /* a single run: one thread per block (see k_boundary); an ensemble: warps of one kind */
    int bbs = M == 1 ? 1 : 32;
    ht_state U = g->U, U0 = g->w.U0, U1 = g->w.U1;

    k_begin<<<nbeg, HT_CUDA_BS, 0, st>>>(n, U, g->w, mem);
    CU_LAUNCH(k_begin);
    k_dt<<<M, HT_CUDA_BS, 0, st>>>(n, g->w, mem);
    CU_LAUNCH(k_dt);
    for (int s = 0; s < 2; ++s) {
        ht_state in = s == 0 ? U : U1;
        ht_state base = s == 0 ? U : U0;
        ht_state out = s == 0 ? U1 : U;
        k_reconstruct<<<ncb, HT_CUDA_BS, 0, st>>>(n, in, g->w, mem);
        CU_LAUNCH(k_reconstruct);
        if (n.heart) {
            k_heart_begin<<<nblocks(M), HT_CUDA_BS, 0, st>>>(n, g->w, mem, s);
            CU_LAUNCH(k_heart_begin);
        }
        if (nb > 0) {
            k_boundary<<<(nb + bbs - 1) / bbs, bbs, 0, st>>>(n, g->w, mem, s);
            CU_LAUNCH(k_boundary);
        }
        if (n.heart) {
            k_heart_end<<<nblocks(M), HT_CUDA_BS, 0, st>>>(n, g->w, mem, s);
            CU_LAUNCH(k_heart_end);
        }
        k_interior<<<ncb, HT_CUDA_BS, 0, st>>>(n, g->w, mem);
        CU_LAUNCH(k_interior);
        k_update<<<ncb, HT_CUDA_BS, 0, st>>>(n, in, base, out, g->w, mem, s);
        CU_LAUNCH(k_update);
        if (n.dev) {
            k_ecmo_source<<<nblocks(M), HT_CUDA_BS, 0, st>>>(n, out, g->w, mem, s);
            CU_LAUNCH(k_ecmo_source);
        }
        if (s == 0) {
            k_stage_end<<<nblocks(M), HT_CUDA_BS, 0, st>>>(n, mem);
            CU_LAUNCH(k_stage_end);
        }
    }
    if (n.Gamma) {
        k_visco<<<nblocks(n.n_vessels), HT_CUDA_BS, 0, st>>>(n, U, g->w, mem);
        CU_LAUNCH(k_visco);
    }
    k_step_end<<<M, 32, 0, st>>>(n, U, g->w, mem, g->dp);
    CU_LAUNCH(k_step_end);
    return 0;
fail:
    return -1;
}

/* Capture `steps` steps (after resetting the chunk's probe-row counts) into a graph. */
static int build_graph(ht_cuda *g, int steps, cudaGraphExec_t *exec, char *err, size_t len)
{
    cudaGraph_t graph = NULL;
    int rc = 0;
    cudaError_t e;
    CU(cudaStreamBeginCapture(g->stream, cudaStreamCaptureModeThreadLocal));
    k_chunk_start<<<nblocks(g->M), HT_CUDA_BS, 0, g->stream>>>(g->mem, g->M);
    e = cudaGetLastError();
    if (e != cudaSuccess) {
        cu_msg(err, len, __FILE__, __LINE__, "launch of k_chunk_start", e);
        rc = -1;
    }
    for (int k = 0; k < steps && rc == 0; ++k) rc = enqueue_step(g, err, len);
    /* always end the capture, also after a failed launch, so the stream is usable again */
    e = cudaStreamEndCapture(g->stream, &graph);
    if (rc) {
        if (graph) cudaGraphDestroy(graph);
        return -1;
    }
    if (e != cudaSuccess) {
        cu_msg(err, len, __FILE__, __LINE__, "cudaStreamEndCapture", e);
        if (graph) cudaGraphDestroy(graph);
        return -1;
    }
    e = cudaGraphInstantiate(exec, graph, 0);
    cudaGraphDestroy(graph);
    if (e != cudaSuccess) {
        cu_msg(err, len, __FILE__, __LINE__, "cudaGraphInstantiate", e);
        *exec = NULL;
        return -1;
    }
    CU(cudaGraphUpload(*exec, g->stream));
    return 0;
fail:
    return -1;
}

/* The blocks of a cooperative launch of k_persistent: as many as the device holds at once
 * (a grid barrier needs every block resident), no more than the widest phase uses. */
static int persistent_grid(ht_cuda *g, char *err, size_t len)
{
    int dev = 0, coop = 0, sms = 0, per_sm = 0;
    CU(cudaGetDevice(&dev));
    CU(cudaDeviceGetAttribute(&coop, cudaDevAttrCooperativeLaunch, dev));
    if (!coop) {
        snprintf(err, len, "HEMOTREE_CUDA_LAUNCH=persistent: device %d has no cooperative launch", dev);
        return -1;
    }
    CU(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    CU(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k_persistent, HT_CUDA_BS, 0));
    if (per_sm < 1) {
        snprintf(err, len, "HEMOTREE_CUDA_LAUNCH=persistent: k_persistent does not fit on an SM");
        return -1;
    }
    {
        const ht_net *n = &g->d;
        int widest = n->n_cells > n->n_outlets ? n->n_cells : n->n_outlets;
        if (g->M > widest) widest = g->M;
        int want = nblocks(widest), nb = n->n_inlets + n->n_outlets + n->n_junctions;
        if (g->M == 1 && nb > want) want = nb; /* a single run: one boundary per block */
        if (g->M > want) want = g->M; /* d_dt, d_step_end: one block per member */
        g->pgrid = per_sm * sms < want ? per_sm * sms : want;
    }
    return 0;
fail:
    return -1;
}

/* One chunk of `steps` steps as a cooperative launch of k_persistent. */
static int launch_persistent(ht_cuda *g, int steps, char *err, size_t len)
{
    ht_net n = g->d;
    ht_state U = g->U;
    ht_work w = g->w;
    ht_dmember *mem = g->mem;
    ht_dprobe pb = g->dp;
    int M = g->M;
    void *args[] = {&n, &U, &w, &mem, &pb, &M, &steps};
    /* the typed overload, not a cast to void *: the CPU emulation of the runtime
     * (tests/cuda_emu) reads args by the kernel's parameter types */
    CU(cudaLaunchCooperativeKernel(k_persistent, dim3(g->pgrid), dim3(HT_CUDA_BS), args, 0,
                                   g->stream));
    return 0;
fail:
    return -1;
}

static int track(ht_cuda *g, void *p)
{
    if (g->n_allocs == g->cap_allocs) {
        int cap = g->cap_allocs ? 2 * g->cap_allocs : 32;
        void **a = (void **)realloc(g->allocs, (size_t)cap * sizeof *a);
        if (!a) return -1;
        g->allocs = a;
        g->cap_allocs = cap;
    }
    g->allocs[g->n_allocs++] = p;
    return 0;
}

/* Device copy of `bytes` bytes at src (NULL when bytes is 0). */
static int dev_dup(ht_cuda *g, const void *src, size_t bytes, void **dst, char *err, size_t len)
{
    void *p = NULL;
    *dst = NULL;
    if (bytes == 0) return 0;
    if (!src) {
        snprintf(err, len, "CUDA backend: network array missing (NULL host pointer)");
        return -1;
    }
    CU(cudaMalloc(&p, bytes));
    if (track(g, p)) {
        cudaFree(p);
        snprintf(err, len, "CUDA backend: out of host memory");
        return -1;
    }
    CU(cudaMemcpy(p, src, bytes, cudaMemcpyHostToDevice));
    *dst = p;
    return 0;
fail:
    return -1;
}

/* Deep-copy a waveform's table or Fourier arrays to the device and point the (host-side
 * copy of the) waveform at them; `what` and k name the owner in messages. */
static int dev_waveform(ht_cuda *g, ht_waveform *wv, const char *what, size_t k, char *err, size_t len)
{
    const real *ht = wv->t, *hv = wv->v, *ha = wv->amp, *hp = wv->phase;
    void *pv;
    wv->t = wv->v = wv->amp = wv->phase = NULL;
    if (wv->kind == HT_WAVE_TABLE) {
        if (wv->n <= 0) {
            snprintf(err, len, "CUDA backend: %s %d has an empty table", what, (int)k);
            return -1;
        }
        if (dev_dup(g, ht, (size_t)wv->n * sizeof(real), &pv, err, len)) return -1;
        wv->t = (const real *)pv;
        if (dev_dup(g, hv, (size_t)wv->n * sizeof(real), &pv, err, len)) return -1;
        wv->v = (const real *)pv;
    } else if (wv->kind == HT_WAVE_FOURIER && wv->n_harm > 0) {
        if (dev_dup(g, ha, (size_t)wv->n_harm * sizeof(real), &pv, err, len)) return -1;
        wv->amp = (const real *)pv;
        if (dev_dup(g, hp, (size_t)wv->n_harm * sizeof(real), &pv, err, len)) return -1;
        wv->phase = (const real *)pv;
    }
    return 0;
}

#define DUP(field, count, type)                                                             \
    do {                                                                                    \
        void *p_;                                                                           \
        if (dev_dup(g, net->field, (size_t)(count) * sizeof(type), &p_, err, len)) goto fail; \
        g->d.field = (const type *)p_;                                                      \
    } while (0)

extern "C" int ht_cuda_available(char *msg, size_t len)
{
    char tmp[256];
    if (!msg || !len) {
        msg = tmp;
        len = sizeof tmp;
    }
    int count = 0, dev = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        snprintf(msg, len, "no usable CUDA device: %s (%s)", cudaGetErrorString(e),
                 cudaGetErrorName(e));
        cudaGetLastError();
        return 0;
    }
    if (count == 0) {
        snprintf(msg, len, "no CUDA device found");
        return 0;
    }
    /* a device of an architecture this build has no code for fails here, not mid-run */
    cudaFuncAttributes attr;
    e = cudaFuncGetAttributes(&attr, k_update);
    if (e != cudaSuccess) {
        snprintf(msg, len, "CUDA device present, but this build cannot run on it: %s (%s)",
                 cudaGetErrorString(e), cudaGetErrorName(e));
        cudaGetLastError();
        return 0;
    }
    cudaDeviceProp prop;
    if (cudaGetDevice(&dev) == cudaSuccess && cudaGetDeviceProperties(&prop, dev) == cudaSuccess)
        snprintf(msg, len, "CUDA device %d: %s (compute capability %d.%d)", dev, prop.name,
                 prop.major, prop.minor);
    else
        snprintf(msg, len, "CUDA device available");
    cudaGetLastError();
    return 1;
}

/* What ht_cuda_fetch_start copies, in the order of its arguments, and where each sits in
 * the snapshot; returns the snapshot's size in bytes. */
enum { F_A, F_Q, F_C, F_PC, F_PCIM, F_VOL_IN, F_VOL_OUT, F_HX, F_HBUF, F_N };
static size_t fetch_items(const ht_cuda *g, const void *dev[F_N], size_t bytes[F_N], size_t off[F_N])
{
    size_t nc = (size_t)g->d.n_cells, no = (size_t)g->d.n_outlets, ni = (size_t)g->d.n_inlets;
    int heart = g->d.heart;
    const void *d[F_N] = {g->U.A, g->U.Q, g->U.C, g->w.pc, g->w.pcim, g->w.vol_in, g->w.vol_out,
                          heart ? (const void *)g->w.hX : NULL, heart ? (const void *)g->hbuf : NULL};
    size_t b[F_N] = {nc * sizeof(real), nc * sizeof(real), nc * sizeof(real), no * sizeof(real),
                     no * sizeof(real), ni * sizeof(real), no * sizeof(real),
                     heart ? (size_t)g->M * sizeof(ht_heart_state) : 0,
                     heart ? ht_heart_layout(NULL, NULL, (size_t)g->M, no) * sizeof(real) : 0};
    size_t total = 0;
    for (int i = 0; i < F_N; ++i) {
        if (dev) dev[i] = b[i] ? d[i] : NULL;
        if (bytes) bytes[i] = b[i];
        if (off) off[i] = total;
        total += (b[i] + 255) / 256 * 256; /* each array on its own 256-byte boundary */
    }
    return total;
}

extern "C" int ht_cuda_create(const ht_net *net, const ht_state *U, const real *pc,
                              const real *pcim, const struct ht_heart_state_s *hX,
                              const real *h_plv_ref, ht_cuda **out, char *err, size_t len)
{
    char tmp[256];
    if (!err || !len) {
        err = tmp;
        len = sizeof tmp;
    }
    ht_cuda *g = NULL;
    ht_inlet *hin = NULL;
    ht_outlet *hout = NULL;
    ht_dmember *init = NULL;
    size_t nc, nf, no, ni, np, total, M;
    *out = NULL;
    if (!net || !U || net->n_cells <= 0 || net->n_faces <= 0) {
        snprintf(err, len, "CUDA backend: empty network");
        return -1;
    }
    g = (ht_cuda *)calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, len, "CUDA backend: out of host memory");
        return -1;
    }
    nc = (size_t)net->n_cells;
    nf = (size_t)net->n_faces;
    no = (size_t)net->n_outlets;
    ni = (size_t)net->n_inlets;
    np = (size_t)net->m_probes;
    M = (size_t)net->n_members;
    g->M = net->n_members;
    CU(cudaStreamCreateWithFlags(&g->stream, cudaStreamNonBlocking));
    g->have_stream = 1;
    CU(cudaStreamCreateWithFlags(&g->copy, cudaStreamNonBlocking));
    g->have_copy = 1;
    CU(cudaEventCreateWithFlags(&g->ev_snap, cudaEventDisableTiming));
    g->have_events |= 1;
    CU(cudaEventCreateWithFlags(&g->ev_copied, cudaEventDisableTiming));
    g->have_events |= 2;

    /* the network: scalars by value, every array copied, pointers rewritten */
    g->d = *net;
    DUP(cell_vessel, nc, int);
    DUP(vessel_first, net->n_vessels, int);
    DUP(vessel_n, net->n_vessels, int);
    DUP(vessel_dx, net->n_vessels, real);
    DUP(vessel_fric, net->n_vessels, real);
    DUP(vessel_p0, net->n_vessels, real);
    DUP(sqrtA0, nc, real);
    DUP(K, nc, real);
    DUP(vessel_rdx, net->n_vessels, real);
    DUP(invK, nc, real);
    DUP(Gamma, net->Gamma ? nc : 0, real);   /* stays NULL for an elastic network */
    /* outlets: coronary ones hold their P_im waveform's host pointers (set below) */
    DUP(outlets, no, ht_outlet);
    DUP(junc_off, net->junc_off ? net->n_junctions + 1 : 0, int);
    g->n_ends = net->junc_off ? net->junc_off[net->n_junctions] : 0;
    DUP(jend_cell, g->n_ends, int);
    DUP(jend_face, g->n_ends, int);
    DUP(jend_sign, g->n_ends, int);
    DUP(probe_cell, (size_t)net->n_probes, int);
    DUP(probe_w, (size_t)net->n_probes, real);
    /* closed loop: the members' heart parameters (plain numbers, no pointers inside) */
    DUP(heart_par, net->heart ? M : 0, ht_heart_par);
    /* devices (kernels/devices.h): plain numbers, no pointers inside */
    DUP(dev, net->dev ? M : 0, ht_devices);
    if (net->heart && (!hX || !h_plv_ref)) {
        snprintf(err, len, "CUDA backend: closed loop without initial heart states");
        goto fail;
    }
    /* inlets: their waveforms hold host pointers to tables / Fourier coefficients */
    if (ni > 0) {
        void *pv;
        hin = (ht_inlet *)malloc(ni * sizeof *hin);
        if (!hin) {
            snprintf(err, len, "CUDA backend: out of host memory");
            goto fail;
        }
        memcpy(hin, net->inlets, ni * sizeof *hin);
        for (size_t k = 0; k < ni; ++k)
            if (dev_waveform(g, &hin[k].wave, "inlet", k, err, len)) goto fail;
        if (dev_dup(g, hin, ni * sizeof *hin, &pv, err, len)) goto fail;
        g->d.inlets = (const ht_inlet *)pv;
        free(hin);
        hin = NULL;
    } else {
        g->d.inlets = NULL;
    }

    if (no > 0) {
        hout = (ht_outlet *)malloc(no * sizeof *hout);
        if (!hout) {
            snprintf(err, len, "CUDA backend: out of host memory");
            goto fail;
        }
        memcpy(hout, net->outlets, no * sizeof *hout);
        for (size_t k = 0; k < no; ++k) {
            if (hout[k].kind != HT_OUT_CORONARY) {
                /* only the coronary model reads its waveform: never hand the device a host pointer */
                hout[k].pim.t = hout[k].pim.v = hout[k].pim.amp = hout[k].pim.phase = NULL;
                continue;
            }
            if (dev_waveform(g, &hout[k].pim, "outlet", k, err, len)) goto fail;
        }
        CU(cudaMemcpy((void *)g->d.outlets, hout, no * sizeof *hout, cudaMemcpyHostToDevice));
        free(hout);
        hout = NULL;
    }

    /* state and work: one allocation, laid out as ht_solver_init does */
    total = ht_work_layout(NULL, NULL, NULL, nc, nf, no, ni);
    CU(cudaMalloc((void **)&g->state_buf, total * sizeof(real)));
    CU(cudaMemset(g->state_buf, 0, total * sizeof(real)));
    ht_work_layout(&g->U, &g->w, g->state_buf, nc, nf, no, ni);
    CU(cudaMemcpy(g->U.A, U->A, nc * sizeof(real), cudaMemcpyHostToDevice));
    CU(cudaMemcpy(g->U.Q, U->Q, nc * sizeof(real), cudaMemcpyHostToDevice));
    if (U->C) CU(cudaMemcpy(g->U.C, U->C, nc * sizeof(real), cudaMemcpyHostToDevice));
    if (no > 0 && pc) CU(cudaMemcpy(g->w.pc, pc, no * sizeof(real), cudaMemcpyHostToDevice));
    if (no > 0 && pcim)
        CU(cudaMemcpy(g->w.pcim, pcim, no * sizeof(real), cudaMemcpyHostToDevice));
    /* closed loop: the heart's work arrays, laid out as ht_solver_init does */
    if (net->heart) {
        void *pv;
        size_t hn = ht_heart_layout(NULL, NULL, M, no);
        CU(cudaMalloc((void **)&g->hbuf, hn * sizeof(real)));
        CU(cudaMemset(g->hbuf, 0, hn * sizeof(real)));
        ht_heart_layout(&g->w, g->hbuf, M, no);
        CU(cudaMemcpy(g->w.h_plv_ref, h_plv_ref, M * sizeof(real), cudaMemcpyHostToDevice));
        CU(cudaMemcpy(g->w.h_plv_ref0, h_plv_ref, M * sizeof(real), cudaMemcpyHostToDevice));
        if (dev_dup(g, hX, M * sizeof(ht_heart_state), &pv, err, len)) goto fail;
        g->w.hX = (ht_heart_state *)pv;
        if (dev_dup(g, hX, M * sizeof(ht_heart_state), &pv, err, len)) goto fail;
        g->w.hX0 = (ht_heart_state *)pv;
        CU(cudaMalloc(&pv, M * sizeof(ht_heart_lv_link)));
        if (track(g, pv)) {
            cudaFree(pv);
            snprintf(err, len, "CUDA backend: out of host memory");
            goto fail;
        }
        CU(cudaMemset(pv, 0, M * sizeof(ht_heart_lv_link)));
        g->w.hlink = (ht_heart_lv_link *)pv;
        CU(cudaMalloc(&pv, M * sizeof(int)));
        if (track(g, pv)) {
            cudaFree(pv);
            snprintf(err, len, "CUDA backend: out of host memory");
            goto fail;
        }
        CU(cudaMemset(pv, 0, M * sizeof(int)));
        g->w.h_fail = (int *)pv;
    }

    /* the output snapshot (ht_cuda_fetch_start): as large as what it copies */
    CU(cudaMalloc((void **)&g->snap, fetch_items(g, NULL, NULL, NULL)));

    /* member clocks at t = 0, step 0, no failure, empty keys */
    init = (ht_dmember *)calloc(M, sizeof *init);
    g->hr = (ht_hrows *)calloc(M, sizeof *g->hr);
    g->out = (ht_cuda_rows *)calloc(M, sizeof *g->out);
    if (!init || !g->hr || !g->out) {
        snprintf(err, len, "CUDA backend: out of host memory");
        goto fail;
    }
    for (size_t m = 0; m < M; ++m) init[m].bkey = init[m].ckey = HT_KEY_NONE;
    CU(cudaMalloc((void **)&g->mem, M * sizeof *g->mem));
    CU(cudaMemcpy(g->mem, init, M * sizeof *init, cudaMemcpyHostToDevice));
    CU(cudaMallocHost((void **)&g->hmem, M * sizeof *g->hmem));
    memcpy(g->hmem, init, M * sizeof *init);
    free(init);
    init = NULL;

    /* probe (and heart) rows of one chunk per member, on the device and pinned on the host;
     * rows past a chunk's count are copied back too (one copy, no second sync) */
    g->dp.cap = HT_CHUNK_BIG;
    if (np > 0 || net->heart) {
        size_t rows = (size_t)HT_CHUNK_BIG * M;
        CU(cudaMalloc((void **)&g->dp.t, rows * sizeof(double)));
        CU(cudaMemset(g->dp.t, 0, rows * sizeof(double)));
        CU(cudaMallocHost((void **)&g->st, rows * sizeof(double)));
    }
    if (np > 0) {
        size_t rows = (size_t)HT_CHUNK_BIG * M;
        CU(cudaMalloc((void **)&g->dp.p, rows * np * sizeof(double)));
        CU(cudaMalloc((void **)&g->dp.q, rows * np * sizeof(double)));
        CU(cudaMalloc((void **)&g->dp.a, rows * np * sizeof(double)));
        CU(cudaMemset(g->dp.p, 0, rows * np * sizeof(double)));
        CU(cudaMemset(g->dp.q, 0, rows * np * sizeof(double)));
        CU(cudaMemset(g->dp.a, 0, rows * np * sizeof(double)));
        CU(cudaMallocHost((void **)&g->sp, rows * np * sizeof(double)));
        CU(cudaMallocHost((void **)&g->sq, rows * np * sizeof(double)));
        CU(cudaMallocHost((void **)&g->sa, rows * np * sizeof(double)));
    }
    if (net->heart) {
        size_t rows = (size_t)HT_CHUNK_BIG * M;
        CU(cudaMalloc((void **)&g->dp.h, rows * HT_HEART_NSAMP * sizeof(double)));
        CU(cudaMemset(g->dp.h, 0, rows * HT_HEART_NSAMP * sizeof(double)));
        CU(cudaMallocHost((void **)&g->sh, rows * HT_HEART_NSAMP * sizeof(double)));
    }

    /* the two chunk graphs, captured once; or, with HEMOTREE_CUDA_LAUNCH=persistent, chunks
     * of the same sizes as cooperative launches of k_persistent */
    g->chunk[0] = HT_CHUNK_BIG;
    g->chunk[1] = HT_CHUNK_SMALL;
    {
        const char *mode = getenv("HEMOTREE_CUDA_LAUNCH");
        if (mode && *mode && strcmp(mode, "graph") != 0) {
            if (strcmp(mode, "persistent") != 0) {
                snprintf(err, len, "HEMOTREE_CUDA_LAUNCH: expected graph or persistent, got '%s'", mode);
                goto fail;
            }
            if (persistent_grid(g, err, len)) goto fail;
            g->persistent = 1;
        }
    }
    for (int k = 0; k < 2 && !g->persistent; ++k)
        if (build_graph(g, g->chunk[k], &g->exec[k], err, len)) goto fail;
    /* the set-up copies and memsets above went to the legacy default stream, which the
     * non-blocking g->stream does not wait for: the whole device, before the first replay */
    CU(cudaDeviceSynchronize());
    *out = g;
    return 0;
fail:
    free(hin);
    free(hout);
    free(init);
    ht_cuda_destroy(g);
    return -1;
}

/* Append member m's rows of the chunk (staged on the host) to its rows of this call. */
static int take_rows(ht_cuda *g, int m, size_t rows, char *err, size_t len)
{
    size_t np = (size_t)g->d.m_probes, nh = g->d.heart ? HT_HEART_NSAMP : 0;
    ht_hrows *h = &g->hr[m];
    if (rows == 0 || (np == 0 && nh == 0)) return 0;
    if (h->n + rows > h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 1024;
        while (cap < h->n + rows) cap *= 2;
        /* np or nh may be 0: allocate at least one element, so NULL only means failure */
        size_t pn = np ? np : 1, hn = nh ? nh : 1;
        double *t = (double *)realloc(h->t, cap * sizeof *t);
        if (t) h->t = t;
        double *p = t ? (double *)realloc(h->p, cap * pn * sizeof *p) : NULL;
        if (p) h->p = p;
        double *q = p ? (double *)realloc(h->q, cap * pn * sizeof *q) : NULL;
        if (q) h->q = q;
        double *a = q ? (double *)realloc(h->a, cap * pn * sizeof *a) : NULL;
        if (a) h->a = a;
        double *hh = a ? (double *)realloc(h->h, cap * hn * sizeof *hh) : NULL;
        if (!hh) {
            snprintf(err, len, "CUDA backend: out of host memory for probe samples");
            return -1;
        }
        h->h = hh;
        h->cap = cap;
    }
    size_t src = (size_t)m * (size_t)g->dp.cap;
    memcpy(h->t + h->n, g->st + src, rows * sizeof(double));
    if (np > 0) {
        memcpy(h->p + h->n * np, g->sp + src * np, rows * np * sizeof(double));
        memcpy(h->q + h->n * np, g->sq + src * np, rows * np * sizeof(double));
        memcpy(h->a + h->n * np, g->sa + src * np, rows * np * sizeof(double));
    }
    if (nh > 0) memcpy(h->h + h->n * nh, g->sh + src * nh, rows * nh * sizeof(double));
    h->n += rows;
    return 0;
}

/* Some member still steps towards t_stop (host mirror). With *few set when every such
 * member's last dt says fewer steps than half the big chunk remain. */
static int any_running(const ht_cuda *g, double t_stop, int *few)
{
    int run = 0;
    *few = 1;
    for (int m = 0; m < g->M; ++m) {
        const ht_clock *c = &g->hmem[m].clk;
        if (c->fail != HT_OK || !(c->t < t_stop)) continue;
        run = 1;
        if (!(c->dt > 0 && (t_stop - c->t) < 0.5 * HT_CHUNK_BIG * c->dt)) *few = 0;
    }
    return run;
}

/* Members the host has stopped since the mirror was last written (periodic state reached,
 * output failed; clk[m].fail set): the device must skip them too. Call only when the mirror
 * is current (after a chunk's copies were waited for): writing it back whole then changes
 * nothing else. */
static int push_stops(ht_cuda *g, const ht_clock *clk, char *err, size_t len)
{
    int push = 0;
    for (int m = 0; clk && m < g->M; ++m)
        if (clk[m].fail != HT_OK && g->hmem[m].clk.fail == HT_OK) {
            g->hmem[m].clk.fail = clk[m].fail;
            g->hmem[m].clk.fail_t = clk[m].fail_t;
            push = 1;
        }
    if (push)
        CU(cudaMemcpyAsync(g->mem, g->hmem, (size_t)g->M * sizeof *g->hmem, cudaMemcpyHostToDevice, g->stream));
    return 0;
fail:
    return -1;
}

/* Launch the next chunk towards t_stop, and queue the copies of the clocks and probe rows
 * it leaves: 1 when launched, 0 when no member steps any more, -1 on a CUDA error. */
static int launch_chunk(ht_cuda *g, double t_stop, char *err, size_t len)
{
    size_t np = (size_t)g->d.m_probes, M = (size_t)g->M;
    int few = 0;
    if (!any_running(g, t_stop, &few)) return 0;
    /* the small graph when every member is near t_stop: wasted (empty) steps past t_stop
     * then stay few */
    int which = few ? 1 : 0;
    if (g->persistent) {
        if (launch_persistent(g, g->chunk[which], err, len)) return -1;
    } else {
        CU(cudaGraphLaunch(g->exec[which], g->stream));
    }
    g->in_chunk = 1;
    g->rows_max = g->chunk[which];
    CU(cudaMemcpyAsync(g->hmem, g->mem, M * sizeof *g->hmem, cudaMemcpyDeviceToHost, g->stream));
    if (np > 0 || g->d.heart) {
        size_t all = M * (size_t)g->dp.cap;
        CU(cudaMemcpyAsync(g->st, g->dp.t, all * sizeof(double), cudaMemcpyDeviceToHost, g->stream));
    }
    if (g->d.heart) {
        size_t all = M * (size_t)g->dp.cap * HT_HEART_NSAMP;
        CU(cudaMemcpyAsync(g->sh, g->dp.h, all * sizeof(double), cudaMemcpyDeviceToHost, g->stream));
    }
    if (np > 0) {
        size_t all = M * (size_t)g->dp.cap;
        CU(cudaMemcpyAsync(g->sp, g->dp.p, all * np * sizeof(double), cudaMemcpyDeviceToHost, g->stream));
        CU(cudaMemcpyAsync(g->sq, g->dp.q, all * np * sizeof(double), cudaMemcpyDeviceToHost, g->stream));
        CU(cudaMemcpyAsync(g->sa, g->dp.a, all * np * sizeof(double), cudaMemcpyDeviceToHost, g->stream));
    }
    return 1;
fail:
    return -1;
}

/* Wait for the chunk in flight and take its probe rows. */
static int finish_chunk(ht_cuda *g, char *err, size_t len)
{
    g->in_chunk = 0;
    CU(cudaStreamSynchronize(g->stream));
    for (int m = 0; m < g->M; ++m) {
        int ns = g->hmem[m].nsamp;
        if (ns < 0 || ns > g->rows_max) {
            snprintf(err, len, "CUDA backend: member %d: probe row count %d outside [0, %d]", m, ns, g->rows_max);
            return -1;
        }
        if (take_rows(g, m, (size_t)ns, err, len)) return -1;
    }
    return 0;
fail:
    return -1;
}

/* After a CUDA error in an interval: whatever was queued has finished (or failed) before
 * the host may write the mirror or the staging buffers again; the interval is over. */
static void abandon(ht_cuda *g)
{
    cudaStreamSynchronize(g->stream); /* its error, if any, is the one already reported */
    g->begun = g->in_chunk = 0;
}

static int begin(ht_cuda *g, double t_stop, const ht_clock *clk, char *err, size_t len)
{
    for (int m = 0; m < g->M; ++m) g->hr[m].n = 0;
    /* the host mirror is current (copied back after every chunk): set the target there
     * and on the device */
    for (int m = 0; m < g->M; ++m) g->hmem[m].clk.t_stop = t_stop;
    if (push_stops(g, clk, err, len)) return -1;
    k_set_tstop<<<nblocks(g->M), HT_CUDA_BS, 0, g->stream>>>(g->mem, g->M, t_stop);
    CU_LAUNCH(k_set_tstop);
    g->begun = 1;
    g->begun_t = t_stop;
    if (launch_chunk(g, t_stop, err, len) >= 0) return 0;
fail:
    abandon(g);
    return -1;
}

extern "C" int ht_cuda_begin(ht_cuda *g, double t_stop, const ht_clock *clk, char *err, size_t len)
{
    char tmp[256];
    if (!err || !len) {
        err = tmp;
        len = sizeof tmp;
    }
    if (g->begun) {
        snprintf(err, len, "CUDA backend: an interval (to t = %.9g s) is already in progress", g->begun_t);
        return -1;
    }
    return begin(g, t_stop, clk, err, len);
}

extern "C" int ht_cuda_advance(ht_cuda *g, double t_stop, ht_clock *clk, const ht_cuda_rows **rows,
                               char *err, size_t len)
{
    char tmp[256];
    if (!err || !len) {
        err = tmp;
        len = sizeof tmp;
    }
    int fail = HT_OK, r;
    /* a caller's bug: the members already step towards begun_t, which cannot be undone, so
     * every later call refuses too */
    if (g->begun && g->begun_t != t_stop) {
        snprintf(err, len, "CUDA backend: the interval in progress ends at t = %.9g s, not %.9g s", g->begun_t,
                 t_stop);
        return -1;
    }
    if (!g->begun && begin(g, t_stop, clk, err, len)) goto fail;
    /* chunk by chunk; a stop the host made while the first chunk ran (an interval begun
     * ahead) reaches the device before the second */
    do {
        if (g->in_chunk && finish_chunk(g, err, len)) goto fail;
        if (push_stops(g, clk, err, len)) goto fail;
    } while ((r = launch_chunk(g, t_stop, err, len)) > 0);
    if (r < 0) goto fail;
    CU(cudaStreamSynchronize(g->stream));
    g->begun = 0;
    for (int m = 0; m < g->M; ++m) {
        if (clk) clk[m] = g->hmem[m].clk;
        if (fail == HT_OK && g->hmem[m].clk.fail != HT_STOPPED) fail = g->hmem[m].clk.fail;
        ht_hrows *h = &g->hr[m];
        g->out[m].n = h->n;
        g->out[m].t = h->t;
        g->out[m].p = h->p;
        g->out[m].q = h->q;
        g->out[m].a = h->a;
        g->out[m].h = h->h;
    }
    if (rows) *rows = g->out;
    return fail;
fail:
    abandon(g);
    return -1;
}

extern "C" int ht_cuda_pin(ht_cuda *g, void *p, size_t bytes)
{
    if (!p || !bytes || g->n_pinned == (int)(sizeof g->pinned / sizeof g->pinned[0])) return 1;
    if (cudaHostRegister(p, bytes, cudaHostRegisterDefault) != cudaSuccess) {
        cudaGetLastError(); /* not sticky: pageable copies still work */
        return 1;
    }
    g->pinned[g->n_pinned++] = p;
    return 0;
}

extern "C" int ht_cuda_fetch_start(ht_cuda *g, ht_state *U, real *pc, real *pcim, real *vol_in,
                                   real *vol_out, struct ht_heart_state_s *hX, real *hbuf,
                                   char *err, size_t len)
{
    char tmp[256];
    if (!err || !len) {
        err = tmp;
        len = sizeof tmp;
    }
    if (g->begun || g->fetching) {
        snprintf(err, len, "CUDA backend: output fetched while %s", g->begun ? "an interval is in progress"
                                                                           : "the last fetch is not waited for");
        return -1;
    }
    const void *dev[F_N];
    size_t bytes[F_N], off[F_N];
    fetch_items(g, dev, bytes, off);
    void *host[F_N] = {U ? U->A : NULL, U ? U->Q : NULL, U ? U->C : NULL, pc, pcim, vol_in, vol_out, hX, hbuf};
    /* the snapshot, in stream order after the interval: cheap at the device's bandwidth, and
     * what the next interval's kernels (queued behind it) no longer change */
    for (int i = 0; i < F_N; ++i)
        if (host[i] && dev[i])
            CU(cudaMemcpyAsync(g->snap + off[i], dev[i], bytes[i], cudaMemcpyDeviceToDevice, g->stream));
    CU(cudaEventRecord(g->ev_snap, g->stream));
    CU(cudaStreamWaitEvent(g->copy, g->ev_snap, 0));
    for (int i = 0; i < F_N; ++i)
        if (host[i] && dev[i])
            CU(cudaMemcpyAsync(host[i], g->snap + off[i], bytes[i], cudaMemcpyDeviceToHost, g->copy));
    CU(cudaEventRecord(g->ev_copied, g->copy));
    g->fetching = 1;
    return 0;
fail:
    /* copies queued before the failing call may still be writing the host arrays */
    cudaStreamSynchronize(g->copy);
    cudaStreamSynchronize(g->stream);
    return -1;
}

extern "C" int ht_cuda_fetch_wait(ht_cuda *g, char *err, size_t len)
{
    char tmp[256];
    if (!err || !len) {
        err = tmp;
        len = sizeof tmp;
    }
    if (!g->fetching) return 0;
    g->fetching = 0;
    CU(cudaEventSynchronize(g->ev_copied));
    return 0;
fail:
    return -1;
}

extern "C" int ht_cuda_state(ht_cuda *g, int to_device, real *buf, real *hbuf,
                             struct ht_heart_state_s *hX, struct ht_heart_state_s *hX0,
                             struct ht_heart_lv_link_s *hlink, int *h_fail, ht_clock *clk, char *err,
                             size_t len)
{
    char tmp[256];
    if (!err || !len) {
        err = tmp;
        len = sizeof tmp;
    }
    size_t M = (size_t)g->M, no = (size_t)g->d.n_outlets;
    size_t total = ht_work_layout(NULL, NULL, NULL, (size_t)g->d.n_cells, (size_t)g->d.n_faces, no,
                                  (size_t)g->d.n_inlets);
    cudaMemcpyKind k = to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost;
    cudaStream_t st = g->stream;
    if (g->begun || g->fetching) {
        /* a checkpoint must hold one time's state, not the middle of an interval */
        snprintf(err, len, "CUDA backend: state %s while %s", to_device ? "loaded" : "saved",
                 g->begun ? "an interval is in progress" : "a fetch is not waited for");
        return -1;
    }
    /* the host and the device lay their buffers out with the same functions, so one copy
     * per buffer moves every array in place */
#define MOVE(dev, host, bytes)                                                              \
    CU(cudaMemcpyAsync(to_device ? (void *)(dev) : (void *)(host),                          \
                       to_device ? (const void *)(host) : (const void *)(dev), (bytes), k, st))
    CU(cudaStreamSynchronize(st));
    MOVE(g->state_buf, buf, total * sizeof(real));
    if (g->d.heart) {
        MOVE(g->hbuf, hbuf, ht_heart_layout(NULL, NULL, M, no) * sizeof(real));
        MOVE(g->w.hX, hX, M * sizeof(ht_heart_state));
        MOVE(g->w.hX0, hX0, M * sizeof(ht_heart_state));
        MOVE(g->w.hlink, hlink, M * sizeof(ht_heart_lv_link));
        MOVE(g->w.h_fail, h_fail, M * sizeof(int));
    }
#undef MOVE
    if (to_device) {
        /* the clocks (time, step, failures) with fresh stage keys and no pending rows */
        for (size_t m = 0; m < M; ++m) {
            g->hmem[m].clk = clk[m];
            g->hmem[m].bkey = g->hmem[m].ckey = HT_KEY_NONE;
            g->hmem[m].nsamp = 0;
        }
        CU(cudaMemcpyAsync(g->mem, g->hmem, M * sizeof *g->hmem, cudaMemcpyHostToDevice, st));
    } else {
        /* the device's clocks, but a stop or failure the host recorded since the last
         * advance (a member at its periodic state) stays: the device has not heard of it
         * yet (ht_cuda_advance pushes it), and a checkpoint must not resume the member */
        for (size_t m = 0; m < M; ++m) {
            ht_clock c = g->hmem[m].clk;
            if (c.fail == HT_OK && clk[m].fail != HT_OK) {
                c.fail = clk[m].fail;
                c.fail_index = clk[m].fail_index;
                c.fail_t = clk[m].fail_t;
            }
            clk[m] = c;
        }
    }
    CU(cudaStreamSynchronize(st));
    return 0;
fail:
    return -1;
}

extern "C" void ht_cuda_destroy(ht_cuda *g)
{
    if (!g) return;
    if (g->have_stream) cudaStreamSynchronize(g->stream);
    if (g->have_copy) cudaStreamSynchronize(g->copy);
    if (g->have_events & 1) cudaEventDestroy(g->ev_snap);
    if (g->have_events & 2) cudaEventDestroy(g->ev_copied);
    cudaFree(g->snap);
    for (int k = 0; k < 2; ++k)
        if (g->exec[k]) cudaGraphExecDestroy(g->exec[k]);
    for (int k = 0; k < g->n_allocs; ++k) cudaFree(g->allocs[k]);
    free(g->allocs);
    cudaFree(g->state_buf);
    cudaFree(g->mem);
    cudaFreeHost(g->hmem);
    cudaFree(g->dp.t);
    cudaFree(g->dp.p);
    cudaFree(g->dp.q);
    cudaFree(g->dp.a);
    cudaFree(g->dp.h);
    cudaFree(g->hbuf);
    cudaFreeHost(g->sh);
    cudaFreeHost(g->st);
    cudaFreeHost(g->sp);
    cudaFreeHost(g->sq);
    cudaFreeHost(g->sa);
    if (g->hr)
        for (int m = 0; m < g->M; ++m) {
            free(g->hr[m].t);
            free(g->hr[m].p);
            free(g->hr[m].q);
            free(g->hr[m].a);
            free(g->hr[m].h);
        }
    free(g->hr);
    free(g->out);
    if (g->have_stream) cudaStreamDestroy(g->stream);
    if (g->have_copy) cudaStreamDestroy(g->copy);
    for (int k = 0; k < g->n_pinned; ++k) cudaHostUnregister(g->pinned[k]);
    /* reset the last-error state a failed call left, so the next create's launch checks do
     * not report it again (a sticky error, a corrupted context, cannot be cleared: the next
     * create then fails at its first call, with that error's message) */
    cudaGetLastError();
    free(g);
}
