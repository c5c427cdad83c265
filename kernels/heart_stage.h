/* The 0D heart and closed loop (circulation.h, heart_root.h) coupled to the 1D tree: the
 * per-member and per-root functions of one RK stage that BOTH backends call (kernels/cpu
 * loops, kernels/cuda one thread per member), so the coupling exists once.
 *
 * One step of member m (the recipe of heart_root.h; docs/heart.md section 4):
 *   step start         hX0[m] = hX[m]                           (as pc0 = pc)
 *   stage s = 0 (ts = t), 1 (ts = t + dt), after the reconstruction:
 *     ht_heart_begin_member   p_sv and p_lv at the stage input (the p_out and P_im of the
 *                             outlets), ht_heart_stage_begin (valves, the six flows
 *                             SV -> ... -> LV, the aortic valve's coefficients)
 *     inlets                  the member's HT_BC_HEART inlet: ht_heart_root_apply (root
 *                             solve with the bronchial branch, boundary flux,
 *                             vol_in += (dt/2) Q)
 *     outlets                 ht_outlet_apply with p_out = p_sv; each writes drain[k]
 *     junctions
 *     ht_heart_end_member     drain = sum of the member's drain[k] in outlet order,
 *                             ht_heart_stage_end (LV loses dt (Q_ao + Q_br), PVN gains
 *                             dt Q_br, SV gains drain; stage 1 averages with hX0)
 *     interior fluxes, cell updates
 *     ht_ecmo_source_apply    with a VA-ECMO: the tip cell gains the stage's return flow
 * Devices (kernels/devices.h, docs/devices.md section 4): begin_member also computes the
 * ECMO's stage flow (drained from SV in end_member); with an Impella the root solve is
 * ht_root_solve_with_impella (the LV loses valve + pump flow, the valve state sees its own).
 * Failures: ht_heart_stage_begin's code (HT_FAIL_BOUNDARY) is recorded at the root inlet's
 * cell, and the root solve of that stage then fails with the same code (nothing is solved
 * from a link that was not computed); ht_heart_end_member runs only when no boundary of the
 * member failed in the stage (the CPU returns before it, the CUDA kernel skips it).
 *
 * Volume: the LV loses exactly what the root face and the bronchial branch take (heart_root.h),
 * PVN gains the branch's share, and SV gains exactly
 * what the outlets pass minus what their compliances keep (boundary.h, ht_outlet_apply), so
 * 1D + outlet compliances + 0D is conserved to round-off. Coronary outlets: their P_im is
 * scale x h_plv_ref, a per-member LV pressure that each stage moves from its input value to
 * the stage's LV pressure at ts + dt and that stage 1 averages like the coronary pressures;
 * so Cim (p2 - P_im) changes by exactly what the stage's balance says (boundary.h), and
 * h_plv_ref stays within one stage (dt dp_lv/dt) of the LV pressure. At the step start
 * h_plv_ref0 = h_plv_ref; at t = 0 it is the LV pressure of the initial state.
 * Units: SI. */
#ifndef HT_HEART_STAGE_H
#define HT_HEART_STAGE_H
#include "net.h"
#include "tubelaw.h"
#include "boundary.h"
#include "circulation.h"
#include "heart_root.h"
#include "devices.h"
#include "step.h"

/* Columns of one sampled heart row (ht_heart_sample), in output order after the time. */
enum { HT_HS_LV_P = 0, HT_HS_LV_V, HT_HS_LA_P, HT_HS_AO_Q, HT_HS_MIT_Q, HT_HS_AO_ZETA,
       HT_HS_RV_P, HT_HS_RV_V, HT_HS_RA_P, HT_HS_PA_P, HT_HS_SV_P, HT_HS_ROOT_P, HT_HS_IMP_Q,
       HT_HS_ECMO_Q, HT_HS_BR_Q, HT_HEART_NSAMP };

/* The LV pressure of state X at t = 0 (the coronary reference's initial value). */
HT_HD real ht_heart_lv_pressure0(const ht_heart_par *P, const ht_heart_state *X)
{
    real p, E;
    ht_chamber_eval(&P->lv, 0, X->V[HT_HC_LV], &p, &E);
    return p;
}

/* Stage start of member m's heart (stage 0: hX equals hX0). Returns HT_OK or the code of
 * ht_heart_stage_begin (also kept in h_fail[m]). */
HT_HD int ht_heart_begin_member(const ht_net *n, ht_work *w, int m, real ts, real dt)
{
    const ht_heart_par *P = &n->heart_par[m];
    ht_heart_state *X = &w->hX[m];
    real p = w->h_plv_ref[m];
    w->h_psv[m] = ht_heart_venous_pressure(P, X);
    w->h_plv_in[m] = p;
    int code = ht_heart_stage_begin(P, X, X, ts, dt, &w->hlink[m]);
    w->h_plv_end[m] = code ? p : w->hlink[m].p_lv;
    w->h_qao[m] = 0;
    w->h_qbr[m] = 0;
    w->h_proot[m] = X->p_root;
    w->d_qimp_s[m] = 0;
    w->d_qvalve_s[m] = 0;
    w->d_qecmo_s[m] = 0;
    if (!code && n->dev && n->dev[m].ecmo) {
        /* VA-ECMO: the stage's pump flow from the venous pressure at the stage input and the
         * tip cell's pressure after the reconstruction (the mean of its face areas; pump mode
         * only: a prescribed flow does not depend on it) */
        const ht_devices *D = &n->dev[m];
        int i = D->ecmo_cell;
        real Ac = 0.5 * (w->fA_m[i] + w->fA_p[i]);
        real p_tip = ht_pressure(Ac, n->sqrtA0[i], n->K[i], n->vessel_p0[n->cell_vessel[i]]);
        ht_ecmo_stage S = ht_ecmo_stage_setup(&D->ecmo_par, w->h_psv[m], 1 / P->C_sv, 0, w->d_qecmo[m], ts, dt);
        ht_ecmo_flows f;
        code = ht_ecmo_tip_inflow(&D->ecmo_par, &S, p_tip, &f);
        if (!code) w->d_qecmo_s[m] = f.Q;
    }
    w->h_fail[m] = code;
    return code;
}

/* The aortic root: inlet k (kind HT_BC_HEART) of member m = k / m_inlets. W2 = u - 4c leaves
 * the vessel through its start (as ht_inlet_apply); the root solve gives the face state, its
 * flux is the boundary flux (LV blood: ECMO fraction 0 forward, the cell's own backward),
 * vol_in += wdt Q. Returns HT_OK or HT_FAIL_BOUNDARY. */
HT_HD int ht_heart_root_apply(const ht_net *n, ht_work *w, int k, real dt, real wdt)
{
    const ht_inlet *in = &n->inlets[k];
    int m = k / n->m_inlets;
    if (w->h_fail[m]) return HT_FAIL_BOUNDARY;
    int i = in->cell;
    int v = n->cell_vessel[i];
    real K = n->K[i], s0 = n->sqrtA0[i], p0 = n->vessel_p0[v], rho = n->rho;
    real Af = w->fA_m[i], Qf = w->fQ_m[i];
    real W2 = ht_w_backward(Qf / Af, ht_wave_speed(Af, K, rho));
    const ht_heart_lv_link *L = &w->hlink[m];
    real A, Q, Qbr;
    int code;
    if (n->dev && n->dev[m].impella) {
        /* the valve and the Impella in parallel (impella.h); its stage input is d_qimp */
        const ht_devices *D = &n->dev[m];
        ht_impella_lin il = ht_impella_discretise(&D->imp, D->imp_rpm, L->p_lv, w->d_qimp[m], dt);
        real Qv, Qi;
        code = ht_root_solve_with_impella(K, s0, p0, rho, W2, L->p_lv, L->dpdV, dt, &L->av, &il, L->G_br,
                                          L->p_br, &A, &Q, &Qv, &Qi, &Qbr);
        if (code) return code;
        w->d_qvalve_s[m] = Qv;
        w->d_qimp_s[m] = Qi;
    } else {
        code = ht_heart_root_solve(K, s0, p0, rho, W2, L->p_lv, L->dpdV, dt, &L->av, L->G_br, L->p_br, &A, &Q,
                                   &Qbr);
        if (code) return code;
        w->d_qvalve_s[m] = Q + Qbr;
    }
    real c_in = Q >= 0 ? in->tracer : w->fc_m[i];
    ht_set_boundary_flux(n, w, in->face, A, Q, K, c_in);
    w->vol_in[k] += wdt * Q;
    w->h_qao[m] = Q;
    w->h_qbr[m] = Qbr;
    w->h_proot[m] = ht_pressure(A, s0, K, p0);
    return HT_OK;
}

/* Stage end of member m's heart, after its outlets: their drains summed in outlet order
 * (the same order on both backends, so the same rounding), then ht_heart_stage_end. */
HT_HD void ht_heart_end_member(const ht_net *n, ht_work *w, int m, real dt, int stage)
{
    real drain = 0;
    for (int k = m * n->m_outlets; k < (m + 1) * n->m_outlets; ++k) drain += w->drain[k];
    if (n->dev) {
        /* the ECMO pump drains the veins over the stage exactly what the tip cell receives
         * (ht_ecmo_source_apply); the device states average like the heart's */
        drain -= dt * w->d_qecmo_s[m];
        w->d_qimp[m] = stage == 0 ? w->d_qimp_s[m] : 0.5 * (w->d_qimp0[m] + w->d_qimp_s[m]);
        w->d_qecmo[m] = stage == 0 ? w->d_qecmo_s[m] : 0.5 * (w->d_qecmo0[m] + w->d_qecmo_s[m]);
        w->d_vol_ecmo[m] += 0.5 * dt * w->d_qecmo_s[m];
    }
    ht_heart_stage_end(&n->heart_par[m], &w->hX0[m], &w->hX[m], w->h_qao[m], w->d_qvalve_s[m],
                       w->h_qbr[m], w->h_proot[m], drain, dt, stage);
    /* the coronary reference follows the coronary pressures (boundary.h): stage 0 leaves the
     * stage's end value, stage 1 averages it with the step start */
    w->h_plv_ref[m] = stage == 0 ? w->h_plv_end[m] : 0.5 * (w->h_plv_ref0[m] + w->h_plv_end[m]);
}

/* One output row of member m's heart at time t (after a step): HT_HEART_NSAMP values, SI. */
HT_HD void ht_heart_sample(const ht_net *n, const ht_work *w, int m, real t, real *row)
{
    const ht_heart_par *P = &n->heart_par[m];
    const ht_heart_state *X = &w->hX[m];
    real p[HT_HEART_NCOMP];
    ht_heart_pressures(P, X, t, p);
    row[HT_HS_LV_P] = p[HT_HC_LV];
    row[HT_HS_LV_V] = X->V[HT_HC_LV];
    row[HT_HS_LA_P] = p[HT_HC_LA];
    row[HT_HS_AO_Q] = X->Q[HT_HQ_AO];
    row[HT_HS_MIT_Q] = X->Q[HT_HQ_MIT];
    row[HT_HS_AO_ZETA] = X->zeta[HT_HV_AO];
    row[HT_HS_RV_P] = p[HT_HC_RV];
    row[HT_HS_RV_V] = X->V[HT_HC_RV];
    row[HT_HS_RA_P] = p[HT_HC_RA];
    row[HT_HS_PA_P] = p[HT_HC_PA];
    row[HT_HS_SV_P] = p[HT_HC_SV];
    row[HT_HS_ROOT_P] = X->p_root;
    row[HT_HS_IMP_Q] = w->d_qimp[m];
    row[HT_HS_ECMO_Q] = w->d_qecmo[m];
    row[HT_HS_BR_Q] = X->Q_br;
}

/* Step start of member m's devices (as hX0 = hX). */
HT_HD void ht_devices_step_start(const ht_net *n, ht_work *w, int m)
{
    (void)n;
    w->d_qimp0[m] = w->d_qimp[m];
    w->d_qecmo0[m] = w->d_qecmo[m];
}

/* The VA-ECMO return of member m after the stage's cell update (out = a base + b (in + dt
 * L(in))): the stage's flow enters the tip cell as a mass source b dt Q / dx with ECMO
 * fraction 1 and no momentum (the return jet's momentum is not carried: docs/devices.md).
 * Over the two stages the cell gains (dt/2)(Q_0 + Q_1), what the veins lost. */
HT_HD void ht_ecmo_source_apply(const ht_net *n, ht_state *out, const ht_work *w, int m, real dt, real b)
{
    const ht_devices *D = &n->dev[m];
    int i = D->ecmo_cell, d = D->dpc_cell;
    /* a distal perfusion cannula takes its fixed share; the tip gets the rest (all of it,
     * bit for bit, without one: (1 - 0) q == q) */
    real f = D->ecmo_par.dpc == HT_DPC_FRACTION && d >= 0 ? D->ecmo_par.dpc_frac : 0;
    real q = b * dt * w->d_qecmo_s[m];
    real s = (1 - f) * q / n->vessel_dx[n->cell_vessel[i]];
    out->A[i] += s;
    if (n->tracer) out->C[i] += s * HT_ECMO_TRACER;
    if (f > 0) {
        real sd = f * q / n->vessel_dx[n->cell_vessel[d]];
        out->A[d] += sd;
        if (n->tracer) out->C[d] += sd * HT_ECMO_TRACER;
    }
}

/* The cells member m's ECMO source changes: the return tip's, and a distal perfusion
 * cannula's if there is one. Returns their count. */
HT_HD int ht_ecmo_source_cells(const ht_net *n, int m, int cell[2])
{
    const ht_devices *D = &n->dev[m];
    cell[0] = D->ecmo_cell;
    cell[1] = D->dpc_cell;
    return D->dpc_cell >= 0 ? 2 : 1;
}

/* After stage s's ECMO source: the cells it changed get anew what the update loop computed
 * for them before the source was added: after stage 0 their prep values for stage 1
 * (step.h), after stage 1 the next step's first pass (prep and CFL rate, w->rate). */
HT_HD void ht_ecmo_source_prep(const ht_net *n, const ht_state *out, ht_work *w, int m, int s)
{
    int cell[2], nc = ht_ecmo_source_cells(n, m, cell);
    for (int k = 0; k < nc; ++k) {
        if (s == 0) ht_prep_cell(n, out, w, cell[k]);
        else w->rate[cell[k]] = ht_prep_rate_cell(n, out, w, cell[k]);
    }
}

/* Blood volume stored in member m's outlet compliances at time t (m^3): windkessel C pc,
 * coronary Ca p1 + Cim (p2 - P_im), P_im = scale h_plv_ref in closed-loop mode (exactly
 * what the coronary stages conserve), else the prescribed P_im(t). */
HT_HD real ht_outlet_stored_volume(const ht_net *n, const ht_work *w, int m, real t)
{
    real s = 0;
    for (int k = m * n->m_outlets; k < (m + 1) * n->m_outlets; ++k) {
        const ht_outlet *o = &n->outlets[k];
        if (o->kind == HT_OUT_CORONARY) {
            real pim = n->heart ? o->pim.scale * w->h_plv_ref[m] : ht_coronary_pim(o, t);
            s += o->Ca * w->pc[k] + o->Cim * (w->pcim[k] - pim);
        } else if (o->kind != HT_OUT_REFLECTION) {
            s += o->C * w->pc[k];
        }
    }
    return s;
}

#endif
