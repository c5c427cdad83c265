/* The per-cell and per-face work of one SSP-RK2 stage, and the step's CFL rate:
 *
 *   ht_prep_rate_cell       every cell: CFL rate (-> dt) and stage 0's ht_prep_cell
 *   for each stage s = 0, 1:
 *     ht_reconstruct_cell   every cell: limited linear reconstruction -> face values
 *     boundary.h/junction.h every inlet, outlet, junction -> boundary-face fluxes
 *     ht_interior_flux      every interior face -> flux.h
 *     ht_update_cell        every cell: U^(s+1) = a U^n + b (U^(s) + dt L(U^(s))); after
 *                           stage 0 also ht_prep_cell of the new cell, for stage 1; stage
 *                           1 as ht_update_last_cell, which leaves the next step's first
 *                           pass (its prep and CFL rate) behind
 *
 * Both backends run exactly this arithmetic: the CUDA kernels call these functions, the CPU's
 * vectorised loops (kernels/cpu/cell_loops.c) the parts they are composed of (ht_prep_p_rate
 * and ht_prep_c; ht_reconstruct_inner_pq/_c with ht_reconstruct_cell at vessel ends;
 * ht_interior_flux_v; ht_update_aq, ht_update_c and ht_check_cell), on a vessel's cells at a
 * time, and tests/test_cell_loops.c holds the two to the same bits. Reconstruction uses the equilibrium variable p (not A), so that a fluid at rest in a
 * tapered vessel reconstructs to rest, and Q and the ECMO fraction c. */
#ifndef HT_STEP_H
#define HT_STEP_H
#include "net.h"
#include "tubelaw.h"
#include "limiter.h"
#include "flux.h"

/* Pressure of cell i from sA = sqrt(A) (the _s form: for callers that have the root). */
HT_HD_INLINE real ht_cell_pressure_sv(const ht_net *n, int i, real sA, real p0)
{
    return ht_pressure_s(sA, n->sqrtA0[i], n->K[i], p0);
}

HT_HD_INLINE real ht_cell_pressure_s(const ht_net *n, int i, real sA)
{
    return ht_cell_pressure_sv(n, i, sA, n->vessel_p0[n->cell_vessel[i]]);
}

HT_HD real ht_cell_pressure(const ht_net *n, const ht_state *U, int i)
{
    return ht_cell_pressure_s(n, i, sqrt(U->A[i]));
}

/* Largest characteristic speed over dx in cell i (1/s), from sA = sqrt(A). */
HT_HD_INLINE real ht_cell_rate_sv(const ht_net *n, const ht_state *U, int i, real sA, real rdx)
{
    real lm, lp;
    ht_eigen_uc(U->Q[i] / U->A[i], ht_wave_speed_r(sA, n->K[i], n->inv2rho), n->alpha, &lm, &lp);
    return ht_max(fabs(lm), fabs(lp)) * rdx;
}

HT_HD_INLINE real ht_cell_rate_s(const ht_net *n, const ht_state *U, int i, real sA)
{
    return ht_cell_rate_sv(n, U, i, sA, n->vessel_rdx[n->cell_vessel[i]]);
}

HT_HD real ht_cell_rate(const ht_net *n, const ht_state *U, int i)
{
    return ht_cell_rate_s(n, U, i, sqrt(U->A[i]));
}

/* Slope of one variable in cell j of a vessel with m cells: limited between two neighbours;
 * at a vessel end the one-sided difference to the single neighbour keeps the boundary
 * input second-order accurate (a zero slope there would make the whole solution
 * first-order, since boundary errors travel inward). */
HT_HD_INLINE real ht_slope_inner(int lim, real um, real u, real up)
{
    return ht_limit(lim, u - um, up - u);
}

HT_HD_INLINE real ht_slope(int lim, int j, int m, real um, real u, real up)
{
    if (m < 2) return 0;
    if (j == 0) return up - u;
    if (j == m - 1) return u - um;
    return ht_slope_inner(lim, um, u, up);
}

/* The values of cell i that the reconstruction reads three times (for the cell itself and
 * for both neighbours): its pressure (one square root) and its ECMO fraction c = C / A (one
 * division), computed once per stage: for stage 0 in the step's first pass
 * (ht_prep_rate_cell), for stage 1 right after stage 0 updates the cell (and again for the
 * cells the ECMO source then changes: heart_stage.h). */
HT_HD_INLINE void ht_prep_c(const ht_state *U, ht_work *w, int i)
{
    w->cc[i] = U->C[i] / U->A[i];
}

/* The pressure half, with the vessel's p0 given (kernels/cpu's loops over a vessel). */
HT_HD_INLINE void ht_prep_p(const ht_net *n, const ht_state *U, ht_work *w, int i, real p0)
{
    w->cp[i] = ht_cell_pressure_sv(n, i, sqrt(U->A[i]), p0);
}

HT_HD_INLINE void ht_prep_cell(const ht_net *n, const ht_state *U, ht_work *w, int i)
{
    ht_prep_p(n, U, w, i, n->vessel_p0[n->cell_vessel[i]]);
    if (n->tracer) ht_prep_c(U, w, i);
}

/* The pressure half and the CFL rate, sharing the square root, with the vessel's p0 and
 * 1 / dx given. */
HT_HD_INLINE real ht_prep_p_rate(const ht_net *n, const ht_state *U, ht_work *w, int i, real p0,
                                 real rdx)
{
    real sA = sqrt(U->A[i]);
    w->cp[i] = ht_cell_pressure_sv(n, i, sA, p0);
    return ht_cell_rate_sv(n, U, i, sA, rdx);
}

/* The first pass of a step: the cell's CFL rate (its maximum over the cells sets dt) and
 * the first stage's ht_prep_cell, of the same state and sharing its square root. */
HT_HD_INLINE real ht_prep_rate_cell(const ht_net *n, const ht_state *U, ht_work *w, int i)
{
    int v = n->cell_vessel[i];
    real r = ht_prep_p_rate(n, U, w, i, n->vessel_p0[v], n->vessel_rdx[v]);
    if (n->tracer) ht_prep_c(U, w, i);
    return r;
}

/* The reconstruction of cell i from its limited slopes of p and Q (times dx): the face
 * values of A (through the inverse tube law, with their square roots) and of Q. */
HT_HD_INLINE void ht_reconstruct_pq(const ht_net *n, const ht_state *U, ht_work *w, int i,
                                    real p0, real sp, real sq)
{
    real s0 = n->sqrtA0[i], rK = n->invK[i], p = w->cp[i], A = U->A[i];
    real am = ht_sqrtA_from_p_r(p - 0.5 * sp, s0, rK, p0);
    real ap = ht_sqrtA_from_p_r(p + 0.5 * sp, s0, rK, p0);
    if (!(am > 0 && ap > 0)) {
        /* a face would collapse: first order in this cell */
        am = ap = sqrt(A);
    }
    /* the square roots go on to the flux, which would otherwise take them again:
     * sqrt(s * s) == s exactly in IEEE arithmetic (s > 0, no overflow) */
    w->fS_m[i] = am;
    w->fS_p[i] = ap;
    w->fA_m[i] = am * am;
    w->fA_p[i] = ap * ap;
    w->fQ_m[i] = U->Q[i] - 0.5 * sq;
    w->fQ_p[i] = U->Q[i] + 0.5 * sq;
}

/* The face values of the ECMO fraction of cell i from its limited slope sc. */
HT_HD_INLINE void ht_reconstruct_c(ht_work *w, int i, real sc)
{
    real c = w->cc[i];
    w->fc_m[i] = c - 0.5 * sc;
    w->fc_p[i] = c + 0.5 * sc;
}

/* Cell i with both neighbours in its vessel: ht_reconstruct_cell without the vessel-end
 * cases, for a loop over a vessel's inner cells (kernels/cpu vectorises it). */
HT_HD_INLINE void ht_reconstruct_inner_pq(const ht_net *n, const ht_state *U, ht_work *w, int i,
                                          real p0, int lim)
{
    real sp = ht_slope_inner(lim, w->cp[i - 1], w->cp[i], w->cp[i + 1]);
    real sq = ht_slope_inner(lim, U->Q[i - 1], U->Q[i], U->Q[i + 1]);
    ht_reconstruct_pq(n, U, w, i, p0, sp, sq);
}

HT_HD_INLINE void ht_reconstruct_inner_c(ht_work *w, int i, int lim)
{
    ht_reconstruct_c(w, i, ht_slope_inner(lim, w->cc[i - 1], w->cc[i], w->cc[i + 1]));
}

/* Any cell: the one-sided slopes at the vessel ends, the tracer's first order there. */
HT_HD_INLINE void ht_reconstruct_cell(const ht_net *n, const ht_state *U, ht_work *w, int i)
{
    int v = n->cell_vessel[i];
    int first = n->vessel_first[v], m = n->vessel_n[v], j = i - first;
    int im = j > 0 ? i - 1 : i, ip = j < m - 1 ? i + 1 : i;
    real sp = ht_slope(n->limiter, j, m, w->cp[im], w->cp[i], w->cp[ip]);
    real sq = ht_slope(n->limiter, j, m, U->Q[im], U->Q[i], U->Q[ip]);
    ht_reconstruct_pq(n, U, w, i, n->vessel_p0[v], sp, sq);
    if (n->tracer) {
        /* no one-sided slope at vessel ends: boundedness of c matters more than its order */
        if (j > 0 && j < m - 1) ht_reconstruct_inner_c(w, i, n->tracer_limiter);
        else ht_reconstruct_c(w, i, 0);
    } else {
        w->fc_m[i] = w->fc_p[i] = 0;
    }
}

/* Face value of cell i on its left (side = 0) or right (side = 1) face, for flux.h. */
HT_HD_INLINE ht_face_in ht_face_value(const ht_net *n, const ht_work *w, int i, int side)
{
    ht_face_in f;
    f.A = side ? w->fA_p[i] : w->fA_m[i];
    f.sA = side ? w->fS_p[i] : w->fS_m[i];
    f.Q = side ? w->fQ_p[i] : w->fQ_m[i];
    f.s0 = n->sqrtA0[i];
    f.K = n->K[i];
    f.invK = n->invK[i];
    return f;
}

/* Interior face between cells i (left) and i + 1 (right) of vessel v: face i + v + 1.
 * Branch-free, so that the CPU's loop over one vessel's faces vectorises (kernels/cpu);
 * without a tracer the face values of c are 0 and so is FC, which nothing then reads. */
HT_HD_INLINE void ht_interior_flux_v(const ht_net *n, ht_work *w, int i, int v)
{
    int f = i + v + 1;
    ht_blood b;
    b.alpha = n->alpha;
    b.inv2rho = n->inv2rho;
    b.inv3rho = n->inv3rho;
    ht_face_flux F = ht_flux_hr(ht_face_value(n, w, i, 1), ht_face_value(n, w, i + 1, 0),
                                n->vessel_p0[v], b);
    real cL = w->fc_p[i], cR = w->fc_m[i + 1];
    w->FA[f] = F.fa;
    w->FQl[f] = F.fq_left;
    w->FQr[f] = F.fq_right;
    w->FC[f] = ht_tracer_flux(F.fa, cL, cR);
}

HT_HD_INLINE void ht_interior_flux(const ht_net *n, ht_work *w, int i)
{
    ht_interior_flux_v(n, w, i, n->cell_vessel[i]);
}

/* Is cell i the last of its vessel (its right face is a boundary face)? */
HT_HD int ht_is_last_cell(const ht_net *n, int i)
{
    int v = n->cell_vessel[i];
    return i == n->vessel_first[v] + n->vessel_n[v] - 1;
}

/* The step from the largest rate (CFL), shortened to land exactly on clk->t_stop rather
 * than leave a sliver step behind it. */
HT_HD real ht_dt_from_rate(real cfl, real rate, const ht_clock *clk)
{
    real left = clk->t_stop - clk->t;
    real dt = rate > 0 ? cfl / rate : left;
    if (dt >= left * (1 - 1e-9)) dt = left;
    return dt;
}

/* One RK stage for cell i: out = a * base + b * (in + dt L(in)).
 * Stage 0: a = 0, b = 1; stage 1: a = b = 1/2 (SSP-RK2, Shu & Osher). Friction is part of
 * L, so the source is second-order in time too. In three parts (A and Q, the tracer, the
 * check of the new state), which kernels/cpu runs as separate vectorised loops. */
HT_HD_INLINE void ht_update_aq(const ht_net *n, const ht_state *in, const ht_state *base,
                               ht_state *out, const ht_work *w, int i, int v, real dt, real a,
                               real b)
{
    int lf = i + v, rf = lf + 1;
    real rdx = n->vessel_rdx[v];
    real A = in->A[i], Q = in->Q[i];
    real dA = -(w->FA[rf] - w->FA[lf]) * rdx;
    real dQ = -(w->FQl[rf] - w->FQr[lf]) * rdx - n->vessel_fric[v] * Q / A;
    real An = b * (A + dt * dA), Qn = b * (Q + dt * dQ);
    if (a != 0) {
        An += a * base->A[i];
        Qn += a * base->Q[i];
    }
    out->A[i] = An;
    out->Q[i] = Qn;
}

HT_HD_INLINE void ht_update_c(const ht_net *n, const ht_state *in, const ht_state *base,
                              ht_state *out, const ht_work *w, int i, int v, real dt, real a,
                              real b)
{
    int lf = i + v, rf = lf + 1;
    real dC = -(w->FC[rf] - w->FC[lf]) * n->vessel_rdx[v];
    real Cn = b * (in->C[i] + dt * dC);
    if (a != 0) Cn += a * base->C[i];
    out->C[i] = Cn;
}

/* HT_OK or the failure code of a new cell state (An, Qn) whose CFL number over the step
 * just taken is above 1 or not. */
HT_HD_INLINE int ht_check_code(real An, real Qn, int cfl_exceeded)
{
    /* selections, not early returns, so that a loop of cells vectorises; the first test
     * that fails names the code, as a chain of returns would */
    int code = cfl_exceeded ? HT_FAIL_CFL : HT_OK;
    code = An > 0 ? code : HT_FAIL_AREA;
    code = isfinite(An) && isfinite(Qn) ? code : HT_FAIL_NONFINITE;
    return code;
}

/* The same for cell i of out, the CFL test only with check_cfl (stage 1). A NaN rate
 * exceeds nothing: its state fails one of the other tests. */
HT_HD_INLINE int ht_check_cell(const ht_net *n, const ht_state *out, int i, real dt, int check_cfl)
{
    int cfl_exceeded = check_cfl && ht_cell_rate(n, out, i) * dt > 1;
    return ht_check_code(out->A[i], out->Q[i], cfl_exceeded);
}

HT_HD_INLINE int ht_update_cell(const ht_net *n, const ht_state *in, const ht_state *base,
                         ht_state *out, const ht_work *w, int i, real dt, real a, real b,
                         int check_cfl)
{
    int v = n->cell_vessel[i];
    ht_update_aq(n, in, base, out, w, i, v, dt, a, b);
    if (n->tracer) ht_update_c(n, in, base, out, w, i, v, dt, a, b);
    return ht_check_cell(n, out, i, dt, check_cfl);
}

/* Stage 1's update of cell i whole, as the CUDA kernel runs it: ht_update_cell's A, Q and
 * tracer update, then the next step's first pass of the new cell (ht_prep_rate_cell: its
 * prep, and its CFL rate kept in w->rate), whose rate is also this stage's CFL check (the
 * same function of the same state as ht_check_cell's). The next step takes them as they are
 * unless something changes the state first (the ECMO source redoes its cells,
 * ht_ecmo_source_prep; a viscous step or a restored state makes that step compute them). */
HT_HD_INLINE int ht_update_last_cell(const ht_net *n, const ht_state *in, const ht_state *base,
                                     ht_state *out, ht_work *w, int i, real dt)
{
    int v = n->cell_vessel[i];
    ht_update_aq(n, in, base, out, w, i, v, dt, 0.5, 0.5);
    if (n->tracer) ht_update_c(n, in, base, out, w, i, v, dt, 0.5, 0.5);
    real r = ht_prep_rate_cell(n, out, w, i);
    w->rate[i] = r;
    return ht_check_code(out->A[i], out->Q[i], r * dt > 1);
}

/* Probe k: pressure, flow and area interpolated between two cell centres. */
HT_HD void ht_probe_sample(const ht_net *n, const ht_state *U, int k, real *p, real *q, real *a)
{
    int i = n->probe_cell[k];
    real wt = n->probe_w[k];
    int j = wt > 0 ? i + 1 : i;
    *p = (1 - wt) * ht_cell_pressure(n, U, i) + wt * ht_cell_pressure(n, U, j);
    *q = (1 - wt) * U->Q[i] + wt * U->Q[j];
    *a = (1 - wt) * U->A[i] + wt * U->A[j];
}

#endif
