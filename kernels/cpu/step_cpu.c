#include "step_cpu.h"
#include <limits.h>
#include "../step.h"
#include "../boundary.h"
#include "../heart_stage.h"
#include "../junction.h"
#include "../viscoelastic.h"
#include "cell_loops.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* Below this many cells a parallel region costs more than the loop it splits (a fork/join
 * is microseconds; a cell update tens of nanoseconds). */
#define HT_OMP_MIN_CELLS 4096

/* Split a member's cell loops over threads only when it is alone: in an ensemble the
 * members themselves are spread over the threads (solver.c), and a nested region would
 * only add overhead. */
static int split_cells(const ht_net *n)
{
    return n->n_members == 1 && n->m_cells >= HT_OMP_MIN_CELLS;
}

real ht_cpu_dt(const ht_net *n, const ht_state *U, const ht_clock *clk, int m)
{
    int lo = m * n->m_cells, hi = lo + n->m_cells;
    real rate = 0;
#pragma omp parallel for reduction(max : rate) schedule(static) if (split_cells(n))
    for (int i = lo; i < hi; ++i) {
        real r = ht_cell_rate(n, U, i);
        if (r > rate) rate = r;
    }
    return ht_dt_from_rate(n->cfl, rate, clk);
}

static void record_fail(ht_clock *clk, int code, int index, real t)
{
    if (clk->fail == HT_OK) {
        clk->fail = code;
        clk->fail_index = index;
        clk->fail_t = t;
    }
}

/* Outlets and junctions of member m as one list: entry e < m_outlets is outlet
 * m * m_outlets + e, the rest junctions in order. Each writes only its own faces and its own
 * outlet arrays, so the entries may run on different threads. Returns 0 or a key
 * e * HT_KEY_CODES + code, so that the smallest key is the first failure in list order. */
#define HT_KEY_CODES 16
static int outlet_or_junction(const ht_net *n, ht_work *w, int m, int e, int s, real t, real dt)
{
    int code = e < n->m_outlets ? ht_outlet_apply(n, w, m * n->m_outlets + e, t, dt, s, 0.5 * dt)
                                : ht_junction_apply(n, w, m * n->m_junctions + e - n->m_outlets);
    return code ? e * HT_KEY_CODES + code : 0;
}

/* The cell at which a failure of list entry e is recorded. */
static int entry_cell(const ht_net *n, int m, int e)
{
    if (e < n->m_outlets) return n->outlets[m * n->m_outlets + e].cell;
    return n->jend_cell[n->junc_off[m * n->m_junctions + e - n->m_outlets]];
}

/* Closed loop (heart_stage.h): the heart's stage begins before the inlets (its failure is
 * recorded at the root inlet's cell) and ends after the outlets and junctions. */
static void heart_and_inlets(const ht_net *n, ht_work *w, ht_clock *clk, int m, real t, real dt)
{
    real wdt = 0.5 * dt;
    if (n->heart) {
        int code = ht_heart_begin_member(n, w, m, t, dt);
        if (code) record_fail(clk, code, n->inlets[m * n->m_inlets].cell, t);
    }
    for (int k = m * n->m_inlets; k < (m + 1) * n->m_inlets; ++k) {
        int code = n->inlets[k].kind == HT_BC_HEART ? ht_heart_root_apply(n, w, k, dt, wdt)
                                                    : ht_inlet_apply(n, w, k, t, wdt);
        if (code) record_fail(clk, code, n->inlets[k].cell, t);
    }
}

/* What the threads of a stage share: the first failing boundary (a key in list order,
 * outlet_or_junction) and the first failing cell. */
typedef struct {
    int first_key;
    int bad_cell, bad_code;
} stage_fails;

/* A barrier of the stage's team; nothing for a caller stepping alone (nth == 1), which then
 * meets no OpenMP construct at all: a member of an ensemble, stepped on one thread of the
 * members' parallel region, must not bind a construct to that region's team, and a team
 * of one would still pay a system call at every barrier (libgomp wakes the waiters of a
 * barrier whatever the team's size: ~30 % of a small network's step). */
static void team_barrier(int nth)
{
    if (nth > 1) {
#pragma omp barrier
    }
}

/* Thread tid's part of one RK stage, of nth threads (within one parallel region: the loops
 * with barriers between them, not a region per loop). Each thread takes the same share of
 * the cells in every loop (cell_loops.c, vectorised), so it finds its own cells' values in
 * its cache. The interior fluxes need only the reconstruction, so they run before the
 * boundaries (which write the boundary faces only). Outlets and junctions (Newton solves,
 * the one serial part that grew with the network) are spread over the threads round robin;
 * failures are still recorded as a serial loop would: inlets (and the heart), then outlets,
 * then junctions, first one wins. The prep values the reconstruction reads come, for stage
 * 0, from the step's first pass (step_begin) and, for stage 1, from stage 0's update loop. */
static void stage_part(const ht_net *n, const ht_state *in, const ht_state *base, ht_state *out,
                       ht_work *w, ht_clock *clk, int m, int s, real t, real dt, real a, real b,
                       stage_fails *f, int tid, int nth)
{
    int lo = m * n->m_cells, hi = lo + n->m_cells;
    int n_oj = n->m_outlets + n->m_junctions;
    int c0, c1;
    ht_cpu_share(lo, hi, tid, nth, &c0, &c1);
    ht_cpu_reconstruct_cells(n, in, w, c0, c1);
    /* the fluxes read the neighbours' face values, which other threads write */
    team_barrier(nth);
    ht_cpu_flux_cells(n, w, c0, c1);
    /* the outlets read the heart's stage input (p_sv): begin first; the barrier after it
     * also waits for every thread's fluxes */
    if (tid == 0) heart_and_inlets(n, w, clk, m, t, dt);
    team_barrier(nth);
    int key = INT_MAX;
    for (int e = tid; e < n_oj; e += nth) {
        int k = outlet_or_junction(n, w, m, e, s, t, dt);
        if (k && k < key) key = k;
    }
    if (key != INT_MAX) {
        if (nth > 1) {
#pragma omp critical(ht_fail)
            if (key < f->first_key) f->first_key = key;
        } else if (key < f->first_key) {
            f->first_key = key;
        }
    }
    team_barrier(nth);
    if (tid == 0) {
        if (f->first_key != INT_MAX)
            record_fail(clk, f->first_key % HT_KEY_CODES, entry_cell(n, m, f->first_key / HT_KEY_CODES), t);
        if (!clk->fail && n->heart) ht_heart_end_member(n, w, m, dt, s);
    }
    team_barrier(nth);
    if (clk->fail) return;
    int cell = hi;
    int code = ht_cpu_update_cells(n, in, base, out, w, c0, c1, dt, a, b, s, &cell);
    if (!code) return;
    if (nth > 1) {
#pragma omp critical(ht_fail)
        if (cell < f->bad_cell) {
            f->bad_cell = cell;
            f->bad_code = code;
        }
    } else if (cell < f->bad_cell) {
        f->bad_cell = cell;
        f->bad_code = code;
    }
}

/* One RK stage: a team over the cells of a lone member large enough to split
 * (split_cells), else the caller alone. */
static int stage(const ht_net *n, const ht_state *in, const ht_state *base, ht_state *out,
                 ht_work *w, ht_clock *clk, int m, int s, real t, real dt, real a, real b)
{
    stage_fails f = {INT_MAX, (m + 1) * n->m_cells, HT_OK};
    if (split_cells(n)) {
#ifdef _OPENMP
#pragma omp parallel
        stage_part(n, in, base, out, w, clk, m, s, t, dt, a, b, &f, omp_get_thread_num(), omp_get_num_threads());
#else
        stage_part(n, in, base, out, w, clk, m, s, t, dt, a, b, &f, 0, 1);
#endif
    } else {
        stage_part(n, in, base, out, w, clk, m, s, t, dt, a, b, &f, 0, 1);
    }
    if (clk->fail) return clk->fail;
    if (f.bad_code) record_fail(clk, f.bad_code, f.bad_cell, t + dt);
    if (!clk->fail && n->dev && n->dev[m].ecmo) {
        ht_ecmo_source_apply(n, out, w, m, dt, b);
        ht_ecmo_source_prep(n, out, w, m, s);
    }
    return clk->fail;
}

/* The step's first pass: U0 = U, the CFL rates and stage 0's prep (ht_prep_rate_cell), the
 * latter two left by the previous step when done. Returns the largest rate (NaN rates are
 * skipped, as `r > rate` is false for them). A team only where stage() has one. */
static real step_begin(const ht_net *n, const ht_state *U, ht_work *w, int m, int done)
{
    int lo = m * n->m_cells, hi = lo + n->m_cells;
    if (!split_cells(n)) return ht_cpu_begin_cells(n, U, w, lo, hi, done);
    real rate = 0;
#pragma omp parallel reduction(max : rate)
    {
        int c0, c1;
        ht_cpu_thread_cells(lo, hi, &c0, &c1);
        real r = ht_cpu_begin_cells(n, U, w, c0, c1, done);
        if (r > rate) rate = r;
    }
    return rate;
}

int ht_cpu_step(const ht_net *n, ht_state *U, ht_work *w, ht_clock *clk, int m)
{
    real t = clk->t;
    /* the 0D states at the step start (stage 1 starts from them again); before the CFL
     * check, as the CUDA backend's first kernel does, so that a failed step leaves the
     * same work arrays on both */
    for (int k = m * n->m_outlets; k < (m + 1) * n->m_outlets; ++k) {
        w->pc0[k] = w->pc[k];
        w->pcim0[k] = w->pcim[k];
    }
    if (n->heart) {
        w->hX0[m] = w->hX[m];
        w->h_plv_ref0[m] = w->h_plv_ref[m];
        ht_devices_step_start(n, w, m);
    }
    /* Stage 1's update computes the rates and the prep of the state it makes (its CFL check
     * needs the rates anyway), so the next step need not: first_pass_done, set at the end of
     * a step that changed the state no further. Anything else (a new or restored state, a
     * failed step) leaves it 0, and the step computes them. */
    int done = clk->first_pass_done;
    clk->first_pass_done = 0;
    real dt = ht_dt_from_rate(n->cfl, step_begin(n, U, w, m, done), clk);
    clk->dt = dt;
    if (!(dt > 0)) {
        record_fail(clk, HT_FAIL_CFL, m * n->m_cells, t);
        return clk->fail;
    }
    if (stage(n, U, U, &w->U1, w, clk, m, 0, t, dt, 0, 1)) return clk->fail;
    if (stage(n, &w->U1, &w->U0, U, w, clk, m, 1, t + dt, dt, 0.5, 0.5)) return clk->fail;
    if (n->Gamma) {
        /* viscoelastic wall: the split viscous step, one tridiagonal solve per vessel
         * (vessels are independent: no viscous coupling across their ends) */
        int v0 = m * n->m_vessels;
        if (split_cells(n)) {
#pragma omp parallel for schedule(dynamic, 1)
            for (int v = v0; v < v0 + n->m_vessels; ++v) ht_visco_vessel(n, U, w->visc_cp, v, dt);
        } else {
            for (int v = v0; v < v0 + n->m_vessels; ++v) ht_visco_vessel(n, U, w->visc_cp, v, dt);
        }
    }
    clk->t = t + dt;
    clk->step++;
    /* the viscous step changed every cell after stage 1 */
    clk->first_pass_done = !n->Gamma;
    return HT_OK;
}
