/* The CPU's loops over cells and faces, vessel by vessel, written so that the compiler
 * vectorises them. Within a vessel the cells and faces are contiguous (face of cell i:
 * i + v, i + v + 1) and the vessel's values (p0, 1/dx, friction) are loop constants; the
 * per-cell functions of step.h and flux.h are branch-free where they run here, and the
 * branches that remain (limiter kind, tracer, stage) are hoisted out of the loops, each
 * case a loop of its own. So one division or square root instruction serves two (SSE2) or
 * four (AVX2) cells, in the same IEEE operations as the scalar code: the results are bitwise
 * those of one cell at a time (tests/test_cell_loops.c), which is how the CUDA kernels run
 * the same functions.
 *
 * CMakeLists.txt compiles this file with -fno-math-errno and -fno-trapping-math (a square
 * root may then be one instruction, and both arms of a selection may be computed: neither
 * changes a value) and -ffp-contract=off (no fused multiply-add, as everywhere). Where the
 * compiler supports it, each loop is built twice, for AVX2 and for the baseline, and the
 * program picks by the CPU it runs on. */
#include "cell_loops.h"
#include "../step.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* Each exported loop function is its body built twice, for the baseline and for AVX2
 * (`target("avx2")`), and picks the second where the CPU has AVX2 (__builtin_cpu_supports
 * reads what the runtime found at start-up). Written out rather than with GCC's
 * target_clones, which clang 14 does not link across files. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(HT_NO_CPU_AVX2)
#define HT_AVX2 __attribute__((target("avx2")))
#define HT_USE_AVX2 __builtin_cpu_supports("avx2")
#endif

#define HT_ALWAYS_INLINE static inline __attribute__((always_inline))

void ht_cpu_share(int lo, int hi, int t, int nt, int *a, int *b)
{
    int q = (hi - lo) / nt, r = (hi - lo) % nt;
    *a = lo + t * q + (t < r ? t : r);
    *b = *a + q + (t < r);
}

void ht_cpu_thread_cells(int lo, int hi, int *a, int *b)
{
    int t = 0, nt = 1;
#ifdef _OPENMP
    t = omp_get_thread_num();
    nt = omp_get_num_threads();
#endif
    ht_cpu_share(lo, hi, t, nt, a, b);
}

/* The run of cells [i, *stop) of one vessel within [i, b); returns the vessel. */
static int vessel_run(const ht_net *n, int i, int b, int *stop)
{
    int v = n->cell_vessel[i];
    int end = n->vessel_first[v] + n->vessel_n[v];
    *stop = end < b ? end : b;
    return v;
}

/* ---- the step's first pass: U0 = U, CFL rates, stage 0's prep ---- */

/* Each loop function works on local copies of the net, work and state structs: the arrays
 * they point to are stored into, and through a pointer to the original struct the compiler
 * would have to assume that a store may change a struct member (a per-vessel pointer, the
 * blood density) and reload it for every cell. */
#define HT_LOCAL(type, name, from) \
    type name##_l = *(from);       \
    type *name = &name##_l

HT_ALWAYS_INLINE real begin_cells(const ht_net *n_, const ht_state *U_, ht_work *w_, int a, int b,
                                  int done)
{
    HT_LOCAL(const ht_net, n, n_);
    HT_LOCAL(const ht_state, U, U_);
    HT_LOCAL(ht_work, w, w_);
#pragma omp simd
    for (int i = a; i < b; ++i) {
        w->U0.A[i] = U->A[i];
        w->U0.Q[i] = U->Q[i];
        w->U0.C[i] = U->C[i];
    }
    if (!done) {
        for (int i = a, stop; i < b; i = stop) {
            int v = vessel_run(n, i, b, &stop);
            real p0 = n->vessel_p0[v], rdx = n->vessel_rdx[v];
#pragma omp simd
            for (int k = i; k < stop; ++k) w->rate[k] = ht_prep_p_rate(n, U, w, k, p0, rdx);
        }
        if (n->tracer) {
#pragma omp simd
            for (int i = a; i < b; ++i) ht_prep_c(U, w, i);
        }
    }
    /* the maximum apart from the rates: in one loop the compiler vectorises neither; it
     * skips NaN rates (`r > rate` is false), as the CUDA reduction does */
    real rate = 0;
    for (int i = a; i < b; ++i) rate = w->rate[i] > rate ? w->rate[i] : rate;
    return rate;
}

/* ---- reconstruction ---- */

HT_ALWAYS_INLINE void inner_pq(const ht_net *n, const ht_state *U, ht_work *w, int lo, int hi,
                               real p0, int lim)
{
#pragma omp simd
    for (int k = lo; k < hi; ++k) ht_reconstruct_inner_pq(n, U, w, k, p0, lim);
}

HT_ALWAYS_INLINE void inner_c(ht_work *w, int lo, int hi, int lim)
{
#pragma omp simd
    for (int k = lo; k < hi; ++k) ht_reconstruct_inner_c(w, k, lim);
}

/* One case per limiter: with the kind a constant, ht_limit's switch folds away. Inlined
 * into each build of its caller (a function of its own would be built for the baseline
 * only). */
HT_ALWAYS_INLINE void inner_cells(const ht_net *n, const ht_state *U, ht_work *w, int lo, int hi, real p0)
{
    switch (n->limiter) {
    case HT_LIM_MC: inner_pq(n, U, w, lo, hi, p0, HT_LIM_MC); break;
    case HT_LIM_SUPERBEE: inner_pq(n, U, w, lo, hi, p0, HT_LIM_SUPERBEE); break;
    case HT_LIM_NONE: inner_pq(n, U, w, lo, hi, p0, HT_LIM_NONE); break;
    default: inner_pq(n, U, w, lo, hi, p0, HT_LIM_MINMOD); break;
    }
    if (!n->tracer) {
#pragma omp simd
        for (int k = lo; k < hi; ++k) w->fc_m[k] = w->fc_p[k] = 0;
        return;
    }
    switch (n->tracer_limiter) {
    case HT_LIM_MC: inner_c(w, lo, hi, HT_LIM_MC); break;
    case HT_LIM_SUPERBEE: inner_c(w, lo, hi, HT_LIM_SUPERBEE); break;
    case HT_LIM_NONE: inner_c(w, lo, hi, HT_LIM_NONE); break;
    default: inner_c(w, lo, hi, HT_LIM_MINMOD); break;
    }
}

/* A vessel's end cells take ht_reconstruct_cell (one-sided slopes), its inner cells the
 * vectorised loop. */
HT_ALWAYS_INLINE void reconstruct_cells(const ht_net *n_, const ht_state *U_, ht_work *w_, int a, int b)
{
    HT_LOCAL(const ht_net, n, n_);
    HT_LOCAL(const ht_state, U, U_);
    HT_LOCAL(ht_work, w, w_);
    for (int i = a, stop; i < b; i = stop) {
        int v = vessel_run(n, i, b, &stop);
        int first = n->vessel_first[v], last = first + n->vessel_n[v] - 1;
        int lo = i > first ? i : first + 1, hi = stop < last ? stop : last;
        if (i == first) ht_reconstruct_cell(n, U, w, first);
        if (lo < hi) inner_cells(n, U, w, lo, hi, n->vessel_p0[v]);
        if (stop == last + 1 && last != first) ht_reconstruct_cell(n, U, w, last);
    }
}

/* ---- interior fluxes ---- */

/* The faces right of the cells [a, b) but a vessel's last (a boundary or junction face). */
HT_ALWAYS_INLINE void flux_cells(const ht_net *n_, ht_work *w_, int a, int b)
{
    HT_LOCAL(const ht_net, n, n_);
    HT_LOCAL(ht_work, w, w_);
    for (int i = a, stop; i < b; i = stop) {
        int v = vessel_run(n, i, b, &stop);
        int last = n->vessel_first[v] + n->vessel_n[v] - 1;
        int hi = stop < last ? stop : last;
#pragma omp simd
        for (int k = i; k < hi; ++k) ht_interior_flux_v(n, w, k, v);
    }
}

/* ---- update ---- */

HT_ALWAYS_INLINE void update_aq(const ht_net *n, const ht_state *in, const ht_state *base,
                                ht_state *out, const ht_work *w, int lo, int hi, int v, real dt,
                                real ca, real cb)
{
#pragma omp simd
    for (int k = lo; k < hi; ++k) ht_update_aq(n, in, base, out, w, k, v, dt, ca, cb);
}

HT_ALWAYS_INLINE void update_c(const ht_net *n, const ht_state *in, const ht_state *base,
                               ht_state *out, const ht_work *w, int lo, int hi, int v, real dt,
                               real ca, real cb)
{
#pragma omp simd
    for (int k = lo; k < hi; ++k) ht_update_c(n, in, base, out, w, k, v, dt, ca, cb);
}

/* ht_check_cell of the new cell i; in stage 1 from the rate the update loop left in
 * w->rate (the same function of the same state as ht_check_cell's). */
HT_ALWAYS_INLINE int check_cell(const ht_state *out, const ht_work *w, int i, real dt, int s)
{
    return ht_check_code(out->A[i], out->Q[i], s == 1 && w->rate[i] * dt > 1);
}

HT_ALWAYS_INLINE int any_failure(const ht_state *out, const ht_work *w, int a, int b, real dt,
                                 int s)
{
    int any = 0;
#pragma omp simd reduction(| : any)
    for (int i = a; i < b; ++i) any |= check_cell(out, w, i, dt, s);
    return any;
}

HT_ALWAYS_INLINE int update_cells(const ht_net *n_, const ht_state *in_, const ht_state *base_,
                                  ht_state *out_, ht_work *w_, int a, int b, real dt, real ca,
                                  real cb, int s, int *bad_cell)
{
    HT_LOCAL(const ht_net, n, n_);
    HT_LOCAL(const ht_state, in, in_);
    HT_LOCAL(const ht_state, base, base_);
    HT_LOCAL(ht_state, out, out_);
    HT_LOCAL(ht_work, w, w_);
    for (int i = a, stop; i < b; i = stop) {
        int v = vessel_run(n, i, b, &stop);
        /* stage 0 (ca = 0) has no base term: a loop without it */
        if (ca == 0) update_aq(n, in, base, out, w, i, stop, v, dt, 0, cb);
        else update_aq(n, in, base, out, w, i, stop, v, dt, ca, cb);
        if (n->tracer) {
            if (ca == 0) update_c(n, in, base, out, w, i, stop, v, dt, 0, cb);
            else update_c(n, in, base, out, w, i, stop, v, dt, ca, cb);
        }
        /* while the new cells are at hand: after stage 0 stage 1's prep; after stage 1 the
         * next step's first pass (its prep and the rates, which stage 1's CFL check needs
         * too), for a state that nothing changes before that step (step_cpu.c) */
        real p0 = n->vessel_p0[v], rdx = n->vessel_rdx[v];
        if (s == 0) {
#pragma omp simd
            for (int k = i; k < stop; ++k) ht_prep_p(n, out, w, k, p0);
        } else {
#pragma omp simd
            for (int k = i; k < stop; ++k) w->rate[k] = ht_prep_p_rate(n, out, w, k, p0, rdx);
        }
        if (n->tracer) {
#pragma omp simd
            for (int k = i; k < stop; ++k) ht_prep_c(out, w, k);
        }
    }
    int any = s == 1 ? any_failure(out, w, a, b, dt, 1) : any_failure(out, w, a, b, dt, 0);
    if (!any) return HT_OK;
    /* a failure (rare): the first failing cell, as a loop of one cell at a time finds it */
    for (int i = a; i < b; ++i) {
        int code = check_cell(out, w, i, dt, s);
        if (code) {
            *bad_cell = i;
            return code;
        }
    }
    return HT_OK;
}

/* ---- the two builds of each, and the choice ---- */

#ifdef HT_AVX2
HT_AVX2 static real begin_cells_avx2(const ht_net *n, const ht_state *U, ht_work *w, int a, int b,
                                     int done)
{
    return begin_cells(n, U, w, a, b, done);
}

HT_AVX2 static void reconstruct_cells_avx2(const ht_net *n, const ht_state *U, ht_work *w, int a,
                                           int b)
{
    reconstruct_cells(n, U, w, a, b);
}

HT_AVX2 static void flux_cells_avx2(const ht_net *n, ht_work *w, int a, int b)
{
    flux_cells(n, w, a, b);
}

HT_AVX2 static int update_cells_avx2(const ht_net *n, const ht_state *in, const ht_state *base,
                                     ht_state *out, ht_work *w, int a, int b, real dt, real ca,
                                     real cb, int s, int *bad_cell)
{
    return update_cells(n, in, base, out, w, a, b, dt, ca, cb, s, bad_cell);
}
#endif

real ht_cpu_begin_cells(const ht_net *n, const ht_state *U, ht_work *w, int a, int b, int done)
{
#ifdef HT_AVX2
    if (HT_USE_AVX2) return begin_cells_avx2(n, U, w, a, b, done);
#endif
    return begin_cells(n, U, w, a, b, done);
}

void ht_cpu_reconstruct_cells(const ht_net *n, const ht_state *U, ht_work *w, int a, int b)
{
#ifdef HT_AVX2
    if (HT_USE_AVX2) {
        reconstruct_cells_avx2(n, U, w, a, b);
        return;
    }
#endif
    reconstruct_cells(n, U, w, a, b);
}

void ht_cpu_flux_cells(const ht_net *n, ht_work *w, int a, int b)
{
#ifdef HT_AVX2
    if (HT_USE_AVX2) {
        flux_cells_avx2(n, w, a, b);
        return;
    }
#endif
    flux_cells(n, w, a, b);
}

int ht_cpu_update_cells(const ht_net *n, const ht_state *in, const ht_state *base, ht_state *out,
                        ht_work *w, int a, int b, real dt, real ca, real cb, int s, int *bad_cell)
{
#ifdef HT_AVX2
    if (HT_USE_AVX2) return update_cells_avx2(n, in, base, out, w, a, b, dt, ca, cb, s, bad_cell);
#endif
    return update_cells(n, in, base, out, w, a, b, dt, ca, cb, s, bad_cell);
}
