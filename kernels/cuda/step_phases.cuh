/* The device side of the CUDA step (backend_cuda.cu is the host side): per-member control,
 * the phases of one step as __device__ functions of one index (a cell, face, boundary,
 * vessel or member), the __global__ kernels that run one phase each (replayed as CUDA
 * graphs), and k_persistent, which runs every phase of many steps in one cooperative launch
 * with a grid-wide barrier between phases (HEMOTREE_CUDA_LAUNCH=persistent). Both call the
 * same phase functions, which call the functions of the kernels/ headers: no arithmetic here. */
#ifndef HT_CUDA_STEP_PHASES_CUH
#define HT_CUDA_STEP_PHASES_CUH
#include "../step.h"
#include "../boundary.h"
#include "../heart_stage.h"
#include "../junction.h"
#include "../viscoelastic.h"
#include <cooperative_groups.h>

#define HT_CUDA_BS 128        /* threads per block: cells, faces, probes */
#define HT_KEY_NONE 0xffffffffffffffffULL

/* One member's device-side control: its clock and the failure keys of the stage. */
typedef struct {
    ht_clock clk;
    unsigned long long bkey;       /* lowest failing boundary: (local order << 32) | code */
    unsigned long long ckey;       /* lowest failing cell: (global cell << 32) | code */
    int nsamp;                     /* probe rows written in the current chunk */
    int pad;
} ht_dmember;

/* Device buffers for the probe samples of one chunk: member m's rows at m * cap. */
typedef struct {
    double *t, *p, *q, *a;         /* [M][cap], [M][cap][m_probes] */
    double *h;                     /* [M][cap][HT_HEART_NSAMP], closed loop only */
    int cap;
} ht_dprobe;

/* ------------------------------------------------------------------ device helpers */

/* Member m is done for this chunk: target time reached or a failure recorded. The clock is
 * only written by d_dt, d_stage_end and d_step_end (one thread per member), each a kernel of
 * its own or (k_persistent) followed by a grid barrier, so every thread of a phase sees the
 * same clock. */
__device__ static int member_done(const ht_dmember *mb)
{
    return mb->clk.fail != HT_OK || !(mb->clk.t < mb->clk.t_stop);
}

/* The same, and no boundary of the member failed in this stage (the CPU returns before the
 * interior fluxes and the update when a boundary failed). */
__device__ static int stage_done(const ht_dmember *mb)
{
    return member_done(mb) || mb->bkey != HT_KEY_NONE;
}

/* record_fail of step_cpu.c: the first failure wins. */
__device__ static void dev_record_fail(ht_clock *clk, int code, int index, real t)
{
    if (clk->fail == HT_OK) {
        clk->fail = code;
        clk->fail_index = index;
        clk->fail_t = t;
    }
}

/* Stage time as the CPU passes it to stage(): t, then t + dt. */
__device__ static real stage_time(const ht_clock *clk, int stage)
{
    return stage == 0 ? clk->t : clk->t + clk->dt;
}

/* Move member m's failure keys of this stage into its clock, in the CPU's order: a boundary
 * failure at the stage time (the update did not run), else the lowest failing cell at stage
 * time + dt. One thread per member. */
__device__ static void commit_stage(const ht_net *n, ht_dmember *mb, int m, int stage)
{
    real t = stage_time(&mb->clk, stage);
    unsigned long long k = mb->bkey;
    if (k != HT_KEY_NONE) {
        /* order 0 is the heart (k_heart_begin), recorded at the root inlet's cell as the CPU
         * records it; boundaries are orders 1.. (k_boundary), so the heart's code wins over a
         * failure of the root inlet in the same stage, as it does on the CPU (first recorded) */
        int b = (int)(k >> 32) - 1, code = (int)(k & 0xffffffffULL);
        int ni = n->m_inlets, no = n->m_outlets;
        int index = b < 0 ? n->inlets[m * ni].cell
                  : b < ni ? n->inlets[m * ni + b].cell
                  : b < ni + no ? n->outlets[m * no + b - ni].cell
                  : n->jend_cell[n->junc_off[m * n->m_junctions + b - ni - no]];
        dev_record_fail(&mb->clk, code, index, t);
        mb->bkey = HT_KEY_NONE;
    }
    k = mb->ckey;
    if (k != HT_KEY_NONE) {
        int i = (int)(k >> 32), code = (int)(k & 0xffffffffULL);
        dev_record_fail(&mb->clk, code, i, t + mb->clk.dt);
        mb->ckey = HT_KEY_NONE;
    }
}

/* ------------------------------------------------------------------ kernels */

/* Every member's target time (before a chunk loop; the host mirror gets it with the next
 * copy back). */
__global__ void k_set_tstop(ht_dmember *mem, int M, real t_stop)
{
    int m = blockIdx.x * blockDim.x + threadIdx.x;
    if (m < M) mem[m].clk.t_stop = t_stop;
}

/* Start of a step: U0 = U, pc0 = pc, hX0 = hX (copy_state and the pc0 and hX0 lines of
 * ht_cpu_step), and the step's first pass (every cell's CFL rate into w.rate, and stage 0's
 * prep: ht_prep_rate_cell) unless the previous step's stage 1 left it (first_pass_done, as
 * cell_loops.c's begin_cells). Launched with at least max(n_cells, n_outlets, n_members)
 * threads. */
__device__ static void d_begin(ht_net n, ht_state U, ht_work w, const ht_dmember *mem, int i)
{
    if (i < n.n_cells) {
        const ht_dmember *mb = &mem[i / n.m_cells];
        if (!member_done(mb)) {
            w.U0.A[i] = U.A[i];
            w.U0.Q[i] = U.Q[i];
            w.U0.C[i] = U.C[i];
            if (!mb->clk.first_pass_done) w.rate[i] = ht_prep_rate_cell(&n, &U, &w, i);
        }
    }
    if (i < n.n_outlets && !member_done(&mem[i / n.m_outlets])) {
        w.pc0[i] = w.pc[i];
        w.pcim0[i] = w.pcim[i];
    }
    if (n.heart && i < n.n_members && !member_done(&mem[i])) {
        w.hX0[i] = w.hX[i];
        w.h_plv_ref0[i] = w.h_plv_ref[i];
        ht_devices_step_start(&n, &w, i);
    }
}

__global__ void k_begin(ht_net n, ht_state U, ht_work w, const ht_dmember *mem)
{
    d_begin(n, U, w, mem, blockIdx.x * blockDim.x + threadIdx.x);
}

/* The CFL step of member m = blockIdx.x: the largest of its cells' rates (w.rate, from k_begin
 * or left by the previous step's stage 1). A maximum is exact whatever the order of the
 * reduction (max only selects), so dt is bitwise the CPU's for the same state; NaN rates
 * are skipped as the CPU's `rate > r` skips them. Then dt as ht_cpu_step: ht_dt_from_rate,
 * and a CFL failure when it is not positive. Only loads here: the square roots and
 * divisions of the rates ran in k_begin over the whole grid, not in this one block. */
__device__ static void d_dt(ht_net n, ht_work w, ht_dmember *mem, int m)
{
    __shared__ real smax[HT_CUDA_BS];
    int tid = threadIdx.x;
    __syncthreads(); /* the previous member's use of smax is over (persistent kernel) */
    ht_dmember *mb = &mem[m];
    if (member_done(mb)) return;
    int lo = m * n.m_cells, hi = lo + n.m_cells;
    real r = 0;
    for (int i = lo + tid; i < hi; i += blockDim.x) {
        real ri = w.rate[i];
        if (ri > r) r = ri;
    }
    smax[tid] = r;
    __syncthreads();
    for (int s = HT_CUDA_BS / 2; s > 0; s >>= 1) {
        if (tid < s && smax[tid + s] > smax[tid]) smax[tid] = smax[tid + s];
        __syncthreads();
    }
    if (tid != 0) return;
    ht_clock *clk = &mb->clk;
    clk->first_pass_done = 0; /* set again by k_step_end when the step ends as made */
    real dt = ht_dt_from_rate(n.cfl, smax[0], clk);
    clk->dt = dt;
    if (!(dt > 0)) {
        clk->fail = HT_FAIL_CFL;
        clk->fail_index = lo;
        clk->fail_t = clk->t;
    }
}

__global__ void k_dt(ht_net n, ht_work w, ht_dmember *mem)
{
    d_dt(n, w, mem, blockIdx.x);
}

/* Reconstruction of every cell from state `in`. */
__device__ static void d_reconstruct(ht_net n, ht_state in, ht_work w, const ht_dmember *mem, int i)
{
    if (i >= n.n_cells || member_done(&mem[i / n.m_cells])) return;
    ht_reconstruct_cell(&n, &in, &w, i);
}

__global__ void k_reconstruct(ht_net n, ht_state in, ht_work w, const ht_dmember *mem)
{
    d_reconstruct(n, in, w, mem, blockIdx.x * blockDim.x + threadIdx.x);
}

/* One thread per boundary: all inlets, then all outlets, then all junctions (member after
 * member within each kind, so a warp of an ensemble runs one kind of solve). Every boundary
 * of a member runs even when another fails (as on the CPU: the volume accounts of all of
 * them move). A single run launches one single-thread block per boundary: inlets, outlets
 * and junctions take different branches and serial Newton loops, which inside one warp
 * would run one after another (measured on an H100: 44 us for the 7 boundaries of the test
 * tree in one warp); in separate blocks they run side by side on different SMs. */
__device__ static void d_boundary(ht_net n, ht_work w, ht_dmember *mem, int stage, int b)
{
    int ni = n.n_inlets, no = n.n_outlets, nj = n.n_junctions;
    if (b >= ni + no + nj) return;
    int m, order;
    /* the CPU's serial order, from 1 (0 is the heart's: commit_stage) */
    if (b < ni) {
        m = b / n.m_inlets;
        order = 1 + b - m * n.m_inlets;
    } else if (b < ni + no) {
        m = (b - ni) / n.m_outlets;
        order = 1 + n.m_inlets + (b - ni - m * n.m_outlets);
    } else {
        m = (b - ni - no) / n.m_junctions;
        order = 1 + n.m_inlets + n.m_outlets + (b - ni - no - m * n.m_junctions);
    }
    ht_dmember *mb = &mem[m];
    if (member_done(mb)) return;
    real dt = mb->clk.dt;
    real t = stage_time(&mb->clk, stage);
    real wdt = 0.5 * dt;
    int code;
    if (b < ni)
        code = n.inlets[b].kind == HT_BC_HEART ? ht_heart_root_apply(&n, &w, b, dt, wdt)
                                               : ht_inlet_apply(&n, &w, b, t, wdt);
    else if (b < ni + no)
        code = ht_outlet_apply(&n, &w, b - ni, t, dt, stage, wdt);
    else
        code = ht_junction_apply(&n, &w, b - ni - no);
    if (code) atomicMin(&mb->bkey, ((unsigned long long)order << 32) | (unsigned int)code);
}

__global__ void k_boundary(ht_net n, ht_work w, ht_dmember *mem, int stage)
{
    d_boundary(n, w, mem, stage, blockIdx.x * blockDim.x + threadIdx.x);
}

/* Closed loop, before k_boundary: ht_heart_begin_member of every stepping member (one thread
 * each). A failure is posted with order 0, before every boundary's (the CPU records it
 * first, at the root inlet's cell; commit_stage does the same). */
__device__ static void d_heart_begin(ht_net n, ht_work w, ht_dmember *mem, int stage, int m)
{
    if (m >= n.n_members) return;
    ht_dmember *mb = &mem[m];
    if (member_done(mb)) return;
    int code = ht_heart_begin_member(&n, &w, m, stage_time(&mb->clk, stage), mb->clk.dt);
    if (code) atomicMin(&mb->bkey, (unsigned long long)(unsigned int)code);
}

__global__ void k_heart_begin(ht_net n, ht_work w, ht_dmember *mem, int stage)
{
    d_heart_begin(n, w, mem, stage, blockIdx.x * blockDim.x + threadIdx.x);
}

/* Closed loop, after k_boundary: ht_heart_end_member of every member whose boundaries did
 * not fail in this stage (the CPU returns before it when one did). */
__device__ static void d_heart_end(ht_net n, ht_work w, const ht_dmember *mem, int stage, int m)
{
    if (m >= n.n_members) return;
    const ht_dmember *mb = &mem[m];
    if (stage_done(mb)) return;
    ht_heart_end_member(&n, &w, m, mb->clk.dt, stage);
}

__global__ void k_heart_end(ht_net n, ht_work w, const ht_dmember *mem, int stage)
{
    d_heart_end(n, w, mem, stage, blockIdx.x * blockDim.x + threadIdx.x);
}

/* Interior face fluxes: the right face of every cell that is not the last of its vessel. */
__device__ static void d_interior(ht_net n, ht_work w, const ht_dmember *mem, int i)
{
    if (i >= n.n_cells || stage_done(&mem[i / n.m_cells])) return;
    if (!ht_is_last_cell(&n, i)) ht_interior_flux(&n, &w, i);
}

__global__ void k_interior(ht_net n, ht_work w, const ht_dmember *mem)
{
    d_interior(n, w, mem, blockIdx.x * blockDim.x + threadIdx.x);
}

/* Cell update of one RK stage. Every cell of a stepping member is written (as on the CPU);
 * the lowest failing cell wins. Stage 0: a = 0, b = 1; stage 1: a = b = 0.5 with the CFL
 * check. */
__device__ static void d_update(ht_net n, ht_state in, ht_state base, ht_state out, ht_work w, ht_dmember *mem, int stage, int i)
{
    if (i >= n.n_cells) return;
    ht_dmember *mb = &mem[i / n.m_cells];
    if (stage_done(mb)) return;
    real dt = mb->clk.dt;
    int code;
    if (stage == 0) {
        code = ht_update_cell(&n, &in, &base, &out, &w, i, dt, 0, 1, 0);
        ht_prep_cell(&n, &out, &w, i); /* stage 1's prep (stage 0's was k_begin's) */
    } else {
        code = ht_update_last_cell(&n, &in, &base, &out, &w, i, dt);
    }
    if (code) atomicMin(&mb->ckey, ((unsigned long long)i << 32) | (unsigned int)code);
}

__global__ void k_update(ht_net n, ht_state in, ht_state base, ht_state out, ht_work w, ht_dmember *mem, int stage)
{
    d_update(n, in, base, out, w, mem, stage, blockIdx.x * blockDim.x + threadIdx.x);
}

/* VA-ECMO return after the cell update of a stage (step_cpu.c: ht_ecmo_source_apply after
 * the update, only when nothing failed): one thread per member. */
__device__ static void d_ecmo_source(ht_net n, ht_state out, ht_work w, const ht_dmember *mem, int stage, int m)
{
    if (m >= n.n_members) return;
    const ht_dmember *mb = &mem[m];
    if (stage_done(mb) || mb->ckey != HT_KEY_NONE) return;
    if (!n.dev || !n.dev[m].ecmo) return;
    real b = stage == 0 ? 1 : 0.5;
    ht_ecmo_source_apply(&n, &out, &w, m, mb->clk.dt, b);
    ht_ecmo_source_prep(&n, &out, &w, m, stage);
}

__global__ void k_ecmo_source(ht_net n, ht_state out, ht_work w, const ht_dmember *mem, int stage)
{
    d_ecmo_source(n, out, w, mem, stage, blockIdx.x * blockDim.x + threadIdx.x);
}

/* Viscoelastic wall: the backward-Euler viscous step of every vessel on the final state,
 * one thread per vessel (a Thomas solve is sequential along the vessel). Skipped as the CPU
 * skips it: when stage 1 failed, in a boundary (bkey) or in a cell (ckey; committed only by
 * k_step_end, which runs after this kernel). */
__device__ static void d_visco(ht_net n, ht_state U, ht_work w, const ht_dmember *mem, int v)
{
    if (v >= n.n_vessels) return;
    const ht_dmember *mb = &mem[v / n.m_vessels];
    if (stage_done(mb) || mb->ckey != HT_KEY_NONE) return;
    ht_visco_vessel(&n, &U, w.visc_cp, v, mb->clk.dt);
}

__global__ void k_visco(ht_net n, ht_state U, ht_work w, const ht_dmember *mem)
{
    d_visco(n, U, w, mem, blockIdx.x * blockDim.x + threadIdx.x);
}

/* End of stage 0: commit its failures. One thread per member. */
__device__ static void d_stage_end(ht_net n, ht_dmember *mem, int m)
{
    if (m >= n.n_members || member_done(&mem[m])) return;
    commit_stage(&n, &mem[m], m, 0);
}

__global__ void k_stage_end(ht_net n, ht_dmember *mem)
{
    d_stage_end(n, mem, blockIdx.x * blockDim.x + threadIdx.x);
}

/* End of the step, one block per member: commit stage 1's failures; if none, advance the
 * clock as ht_cpu_step and solver.c do (t = t + dt, step++, t = t_stop once t >= t_stop),
 * then sample the member's probes (and, in a closed loop, its heart: ht_heart_sample, as
 * solver.c's sample_probes) into its next row of the chunk's buffer. */
__device__ static void d_step_end(ht_net n, ht_state U, ht_work w, ht_dmember *mem, ht_dprobe pb, int m)
{
    __shared__ int ok, row;
    __shared__ real tnew;
    __syncthreads(); /* the previous member's use of ok, row, tnew is over (persistent kernel) */
    ht_dmember *mb = &mem[m];
    if (threadIdx.x == 0) {
        ok = 0;
        if (!member_done(mb)) {
            commit_stage(&n, mb, m, 1);
            ht_clock *clk = &mb->clk;
            if (clk->fail == HT_OK) {
                clk->t = clk->t + clk->dt;
                clk->step++;
                /* the viscous step changed every cell after stage 1 (k_begin redoes them) */
                clk->first_pass_done = !n.Gamma;
                if (clk->t >= clk->t_stop) clk->t = clk->t_stop; /* exact output times */
                tnew = clk->t;
                row = mb->nsamp;
                if ((n.m_probes > 0 || n.heart) && row < pb.cap) {
                    mb->nsamp = row + 1;
                    ok = 1;
                }
            }
        }
    }
    __syncthreads();
    if (!ok) return;
    int np = n.m_probes;
    size_t base = ((size_t)m * (size_t)pb.cap + (size_t)row) * (size_t)np;
    for (int k = threadIdx.x; k < np; k += blockDim.x)
        ht_probe_sample(&n, &U, m * np + k, &pb.p[base + k], &pb.q[base + k], &pb.a[base + k]);
    if (threadIdx.x == 0) {
        pb.t[(size_t)m * (size_t)pb.cap + (size_t)row] = tnew;
        if (n.heart)
            ht_heart_sample(&n, &w, m, tnew, &pb.h[((size_t)m * (size_t)pb.cap + (size_t)row) * HT_HEART_NSAMP]);
    }
}

__global__ void k_step_end(ht_net n, ht_state U, ht_work w, ht_dmember *mem, ht_dprobe pb)
{
    d_step_end(n, U, w, mem, pb, blockIdx.x);
}

/* Zero every member's probe-row count at the start of a chunk. */
__global__ void k_chunk_start(ht_dmember *mem, int M)
{
    int m = blockIdx.x * blockDim.x + threadIdx.x;
    if (m < M) mem[m].nsamp = 0;
}

/* `steps` steps of every member in one cooperative launch: the phases of backend_cuda.cu's
 * enqueue_step in the same order, each a loop of the grid's threads over its indices
 * (blocks over members where a phase works a block per member, blocks over boundaries for
 * a single run, as its graph launches them), with a grid-wide barrier where the graph has
 * a kernel boundary. The alternative to the graph replay of per-phase kernels: no launch
 * between phases, a barrier instead (which of the two is faster is measured, not assumed:
 * docs/performance.md). Every thread passes every barrier: the conditions that skip a phase
 * (heart, devices, viscoelastic walls, boundaries) are the same for the whole grid, and a
 * member that is done skips inside the phase functions. Launched with blockDim.x ==
 * HT_CUDA_BS (d_dt's reduction assumes it, as k_dt's launch does) and no more blocks than
 * can be resident at once (a grid barrier waits for every block). */
__global__ void k_persistent(ht_net n, ht_state U, ht_work w, ht_dmember *mem, ht_dprobe pb, int M,
                             int steps)
{
    cooperative_groups::grid_group grid = cooperative_groups::this_grid();
    int t0 = blockIdx.x * blockDim.x + threadIdx.x, nt = gridDim.x * blockDim.x;
    int nc = n.n_cells, nb = n.n_inlets + n.n_outlets + n.n_junctions;
    int nbeg = nc > n.n_outlets ? nc : n.n_outlets;
    if (M > nbeg) nbeg = M;
    ht_state U0 = w.U0, U1 = w.U1;
    for (int m = t0; m < M; m += nt) mem[m].nsamp = 0;
    grid.sync();
    for (int k = 0; k < steps; ++k) {
        for (int i = t0; i < nbeg; i += nt) d_begin(n, U, w, mem, i);
        grid.sync();
        for (int m = blockIdx.x; m < M; m += gridDim.x) d_dt(n, w, mem, m);
        grid.sync();
        for (int s = 0; s < 2; ++s) {
            ht_state in = s == 0 ? U : U1;
            ht_state base = s == 0 ? U : U0;
            ht_state out = s == 0 ? U1 : U;
            for (int i = t0; i < nc; i += nt) d_reconstruct(n, in, w, mem, i);
            grid.sync();
            if (n.heart) {
                for (int m = t0; m < M; m += nt) d_heart_begin(n, w, mem, s, m);
                grid.sync();
            }
            if (nb > 0) {
                if (M == 1) {
                    /* one boundary per block, as the graph's single-thread blocks: their
                     * serial Newton loops side by side on different SMs */
                    if (threadIdx.x == 0)
                        for (int b = blockIdx.x; b < nb; b += gridDim.x) d_boundary(n, w, mem, s, b);
                } else {
                    for (int b = t0; b < nb; b += nt) d_boundary(n, w, mem, s, b);
                }
                grid.sync();
            }
            if (n.heart) {
                for (int m = t0; m < M; m += nt) d_heart_end(n, w, mem, s, m);
                grid.sync();
            }
            for (int i = t0; i < nc; i += nt) d_interior(n, w, mem, i);
            grid.sync();
            for (int i = t0; i < nc; i += nt) d_update(n, in, base, out, w, mem, s, i);
            grid.sync();
            if (n.dev) {
                for (int m = t0; m < M; m += nt) d_ecmo_source(n, out, w, mem, s, m);
                grid.sync();
            }
            if (s == 0) {
                for (int m = t0; m < M; m += nt) d_stage_end(n, mem, m);
                grid.sync();
            }
        }
        if (n.Gamma) {
            for (int v = t0; v < n.n_vessels; v += nt) d_visco(n, U, w, mem, v);
            grid.sync();
        }
        for (int m = blockIdx.x; m < M; m += gridDim.x) d_step_end(n, U, w, mem, pb, m);
        grid.sync();
    }
}

#endif
