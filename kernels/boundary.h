/* Inlets and outlets: each fixes the flux through a vessel's boundary face from the
 * characteristic that leaves the vessel there plus one condition of its own (a flow, a
 * pressure, a windkessel, a reflection coefficient). The flux written is the physical flux
 * of the solved boundary state, so what crosses the face is exactly what the boundary model
 * accounts for (mass conservation across the boundary to round-off). */
#ifndef HT_BOUNDARY_H
#define HT_BOUNDARY_H
#include "net.h"
#include "tubelaw.h"
#include "flux.h"
#include "coronary.h"

#define HT_BC_MAXIT 50
#define HT_BC_TOL 1e-13

HT_HD void ht_set_boundary_flux(const ht_net *n, ht_work *w, int face, real A, real Q, real K,
                                real c)
{
    real fa, fq;
    ht_phys_flux(A, Q, K, n->rho, n->alpha, &fa, &fq);
    w->FA[face] = fa;
    w->FQl[face] = fq;
    w->FQr[face] = fq;
    w->FC[face] = n->tracer ? fa * c : 0;
}

/* Inlet at a vessel's start. Flow: solve Q/A - 4 c(A) = W2 for A (W2 = u - 4c leaves the
 * vessel through its start). Pressure: A from the tube law, u from W2.
 * wdt = dt times the stage's weight in the step, for the volume account.
 * Returns 0, or HT_FAIL_BOUNDARY when the solve does not converge. */
HT_HD int ht_inlet_apply(const ht_net *n, ht_work *w, int k, real t, real wdt)
{
    const ht_inlet *in = &n->inlets[k];
    int i = in->cell;
    int v = n->cell_vessel[i];
    real K = n->K[i], s0 = n->sqrtA0[i], p0 = n->vessel_p0[v], rho = n->rho;
    real Af = w->fA_m[i], Qf = w->fQ_m[i];
    real W2 = ht_w_backward(Qf / Af, ht_wave_speed(Af, K, rho));
    real val = ht_wave_eval(&in->wave, t);
    real A, Q;
    if (in->kind == HT_BC_PRESSURE) {
        real s = ht_sqrtA_from_p(val, s0, K, p0);
        if (!(s > 0)) return HT_FAIL_BOUNDARY;
        A = s * s;
        Q = A * (W2 + 4 * ht_wave_speed(A, K, rho));
    } else {
        Q = val;
        A = Af;
        int ok = 0;
        for (int it = 0; it < HT_BC_MAXIT; ++it) {
            real c = ht_wave_speed(A, K, rho);
            real f = Q / A - 4 * c - W2;
            real df = -Q / (A * A) - c / A;
            real dA = -f / df;
            /* damped: never more than halve the area in one step */
            if (A + dA < 0.5 * A) dA = -0.5 * A;
            A += dA;
            if (fabs(dA) <= HT_BC_TOL * A) { ok = 1; break; }
        }
        if (!ok || !(A > 0)) return HT_FAIL_BOUNDARY;
    }
    real c_in = Q >= 0 ? in->tracer : w->fc_m[i];
    ht_set_boundary_flux(n, w, in->face, A, Q, K, c_in);
    w->vol_in[k] += wdt * Q;
    return 0;
}

/* Outlet at a vessel's end. W1 = u + 4c leaves the vessel; u = W1 - 4 c(A) at the face.
 * Windkessel R1 - (C || R2) - p_out, coupled implicitly: over the stage the flow through R1
 * is held, so the compliance pressure follows exactly
 *     pc' = p_out + (pc - p_out) E + R2 (1 - E) Q,   E = exp(-dt / (R2 C)),
 * and the face satisfies p(A) = pc' + R1 Q. One scalar Newton in A. This stays stable for a
 * stiff compliance (E -> 0) and reduces to a resistance R1 when C or R2 is zero.
 * stage 0 starts from pc0 and leaves pc; stage 1 starts from pc and leaves the RK2 average.
 * Coronary (coronary.h): the same Newton with pfix, Reff from the backward-Euler map of its two
 * compartments (pc: Ca pressure, pcim: intramyocardial one), P_im taken at the stage time t
 * and t + dt; both states averaged over the stages as pc.
 *
 * Closed loop (n->heart, heart_stage.h): p_out is the member's systemic venous pressure at
 * the stage input (w->h_psv), P_im of a coronary outlet is pim.scale times the heart's LV
 * pressure at t and t + dt (w->h_plv_in, w->h_plv_end), and w->drain[k] receives the volume
 * the outlet passes to the veins over the full dt of the stage:
 *   windkessel, resistance: drain = dt Q - C (pc' - pc_in)   (C = 0: dt Q)
 *       pc' - pc_in = (dt / C) (Q - (pc' - p_out) / R2) holds for the exact exponential
 *       solution only on average; the drain is defined as the volume balance of C itself, so
 *       whatever pc' is, dt Q = drain + C (pc' - pc_in) exactly (as ht_heart_step_wk).
 *   coronary: drain = dt (p2' - p_out) / Rv   (backward-Euler flow through Rv). Adding the two
 *       backward-Euler rows of coronary.h, Ca (p1' - p1) + Cim ((p2' - p2) - dpim)
 *       = dt Q - dt (p2' - p_out) / Rv, so again dt Q = drain + the change of the stored
 *       volume Ca p1 + Cim (p2 - P_im) over the stage (to the round-off of the 2x2 solve).
 * Total volume over a step: the 1D side loses (dt/2)(Q_0 + Q_1) through the face (vol_out);
 * pc after stage 1 is (pc_0 + pc'_1)/2, so the compliance gains C (pc'_1 - pc_0)/2; the veins
 * gain (drain_0 + drain_1)/2 (ht_heart_stage_end averages) = (dt/2)(Q_0 + Q_1)
 * - C ((pc'_0 - pc_0) + (pc'_1 - pc'_0))/2 = what the face passed minus what C kept: exact
 * for windkessels and resistances. For a coronary outlet the same holds for Ca, and for Cim
 * because its P_im (scale h_plv_ref, heart_stage.h) is advanced by the same dpim and averaged
 * over the stages exactly as p2: the stored Cim (p2 - P_im) after the step is the average of
 * the two stages' balances. (With a prescribed P_im(t), outside the closed loop, the stage-1
 * average of p2 but not of P_im leaves a telescoping second difference of P_im: no account
 * there needs it.) */
HT_HD int ht_outlet_apply(const ht_net *n, ht_work *w, int k, real t, real dt, int stage,
                          real wdt)
{
    const ht_outlet *o = &n->outlets[k];
    int i = o->cell;
    int v = n->cell_vessel[i];
    real K = n->K[i], s0 = n->sqrtA0[i], p0 = n->vessel_p0[v], rho = n->rho;
    real Af = w->fA_p[i], Qf = w->fQ_p[i];
    real W1 = ht_w_forward(Qf / Af, ht_wave_speed(Af, K, rho));
    real A, Q;
    if (o->kind == HT_OUT_REFLECTION) {
        real c0 = ht_wave_speed(s0 * s0, K, rho);
        real W2 = -4 * c0 - o->Rt * (W1 - 4 * c0);
        real c = (W1 - W2) / 8;
        if (!(c > 0)) return HT_FAIL_BOUNDARY;
        A = ht_area_from_c(c, K, rho);
        Q = A * 0.5 * (W1 + W2);
    } else {
        real pc_in = stage == 0 ? w->pc0[k] : w->pc[k];
        real E = 0, Reff, pfix, b1 = 0, a2 = 0, b2 = 0;
        int m = k / n->m_outlets;
        real p_out = n->heart ? w->h_psv[m] : o->p_out;
        if (o->kind == HT_OUT_CORONARY) {
            real pim_in = stage == 0 ? w->pcim0[k] : w->pcim[k];
            real dpim = n->heart ? o->pim.scale * (w->h_plv_end[m] - w->h_plv_in[m])
                                 : ht_coronary_pim(o, t + dt) - ht_coronary_pim(o, t);
            ht_coronary_affine(o, pc_in, pim_in, dpim, p_out, dt, &pfix, &b1, &a2, &b2);
            Reff = o->R1 + b1;
        } else {
            E = (o->R2 > 0 && o->C > 0) ? exp(-dt / (o->R2 * o->C)) : 0;
            Reff = o->R1 + o->R2 * (1 - E);
            pfix = p_out + (pc_in - p_out) * E;
        }
        A = Af;
        int ok = 0;
        for (int it = 0; it < HT_BC_MAXIT; ++it) {
            real c = ht_wave_speed(A, K, rho);
            real u = W1 - 4 * c;
            real sA = sqrt(A);
            real g = p0 + K * (sA - s0) - pfix - Reff * A * u;
            real dg = K / (2 * sA) - Reff * (u - c);
            real dA = -g / dg;
            if (A + dA < 0.5 * A) dA = -0.5 * A;
            A += dA;
            if (fabs(dA) <= HT_BC_TOL * A) { ok = 1; break; }
        }
        if (!ok || !(A > 0)) return HT_FAIL_BOUNDARY;
        Q = A * (W1 - 4 * ht_wave_speed(A, K, rho));
        if (o->kind == HT_OUT_CORONARY) {
            real p1 = pfix + b1 * Q, p2 = a2 + b2 * Q;
            if (n->heart) w->drain[k] = dt * (p2 - p_out) / o->Rv;
            w->pc[k] = stage == 0 ? p1 : 0.5 * (w->pc0[k] + p1);
            w->pcim[k] = stage == 0 ? p2 : 0.5 * (w->pcim0[k] + p2);
        } else {
            real pc_new = pfix + o->R2 * (1 - E) * Q;
            if (n->heart) w->drain[k] = dt * Q - o->C * (pc_new - pc_in);
            w->pc[k] = stage == 0 ? pc_new : 0.5 * (w->pc0[k] + pc_new);
        }
    }
    ht_set_boundary_flux(n, w, o->face, A, Q, K, w->fc_p[i]);
    w->vol_out[k] += wdt * Q;
    return 0;
}

#endif
