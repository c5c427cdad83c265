/* The aortic root face of a 1D vessel driven by the 0D left ventricle through the aortic
 * valve (research note ecmo-impella-models.md section 1.5; Formaggia et al. 2006, Mueller &
 * Toro 2014: the boundary state from the outgoing characteristic plus the 0D law).
 *
 * Unknowns: the face area A and flow Q. Equations, over one RK stage of length dt:
 *   (1) characteristic from the interior:  Q = A (W2 + 4 c(A)),   W2 = u - 4c (given)
 *   (2) valve momentum, backward Euler:    p_lv(V - dt Q) - p(A) = B Q|Q| + L (Q - Q_prev)/dt
 * with the LV pressure linearised about the stage's LV volume V (after the mitral inflow):
 *   p_lv(V - dt Q) = p_lv - dpdV dt Q,
 * and the valve in the scaled form of valve.h (w dp = a Q|Q| + b Q - c), so a shut ideal
 * valve (w = b = c = 0) is the closed end Q = 0 exactly, A from W2 alone (c(A) = -W2/4).
 *
 * Substituting (1) into (2) leaves one equation g(A) = 0 with
 *   g(A) = w (p_lv - dpdV dt Q(A) - p(A)) - a Q|Q| - b Q + c.
 * On A >= A_crit (where dQ/dA = u + c = W2 + 5 c(A) >= 0: subcritical flow, always the case
 * in arteries) Q and p both increase with A, so g is strictly decreasing and the root is
 * unique. The solve brackets it (A_closed = the Q = 0 area splits forward from backward flow)
 * and runs Newton safeguarded by bisection, converged to a relative tolerance on A, never a
 * fixed count. Failure (W2 >= 0, backflow that would need supercritical inflow, no bracket,
 * no convergence) returns HT_FAIL_BOUNDARY.
 *
 * Volume: whatever Q is returned, the caller removes exactly dt Q from the LV
 * (ht_heart_stage_end) and writes the flux of the face state (A, Q) (ht_set_boundary_flux:
 * mass flux = Q), so the 1D side receives wdt Q per stage. With the RK2 stages below, the 1D
 * gains (dt/2)(Q_0 + Q_1) and the LV, after the stage-1 average, loses the same:
 *
 *   step start:   X0 = X (heart state), like pc0 = pc for the windkessel outlets
 *   stage 0 (t):      p_sv = ht_heart_venous_pressure(P, X)   (p_out of the closed-loop outlets)
 *                     ht_heart_stage_begin(P, X0 -> X, t, dt, &link)
 *                     W2 from the first cell's left face; ht_heart_root_solve -> (A, Q0)
 *                     ht_set_boundary_flux(face, A, Q0); vol_in += (dt/2) Q0
 *                     outlets (p_out = p_sv): drain_0 = sum over outlets of the volume each
 *                       passes to the veins over the full dt of the stage
 *                     ht_heart_stage_end(P, X0, X, Q0, p(A), drain_0, dt, 0)
 *   stage 1 (t + dt): the same from X (p_sv read before stage_begin), ending with
 *                     ht_heart_stage_end(P, X0, X, Q1, p(A), drain_1, dt, 1)   (averages)
 *   V_lv(new) = V_lv(X0) + (dt/2)(Qmv_0 + Qmv_1) - (dt/2)(Q0 + Q1): exact to round-off, and
 *   V_sv gains (drain_0 + drain_1)/2, what the outlets passed over the step.
 * This mirrors ht_outlet_apply: each stage advances the 0D state over the full dt from its
 * input (stage 0 from the step-start state, stage 1 from the stage-0 result) and stage 1
 * averages with the step-start state. */
#ifndef HT_HEART_ROOT_H
#define HT_HEART_ROOT_H
#include "net.h"
#include "tubelaw.h"
#include "valve.h"

#define HT_ROOT_MAXIT 200
#define HT_ROOT_TOL 1e-13

/* g(A) and dg/dA for the root equation; also Q(A). */
HT_HD real ht_heart_root_g(real A, real K, real sqrtA0, real p0, real rho, real W2, real p_lv,
                           real S, const ht_valve_lin *av, real *dg, real *Qout)
{
    real c = ht_wave_speed(A, K, rho);
    real Q = A * (W2 + 4 * c);
    real dQ = W2 + 5 * c;
    real sA = sqrt(A);
    real p = p0 + K * (sA - sqrtA0);
    real dp = K / (2 * sA);
    real g = av->w * (p_lv - S * Q - p) - av->a * Q * fabs(Q) - av->b * Q + av->c;
    *dg = -av->w * (S * dQ + dp) - (2 * av->a * fabs(Q) + av->b) * dQ;
    *Qout = Q;
    return g;
}

/* Solves the root face. Inputs: tube law at the face (K Pa/m, sqrtA0 m, p0 Pa, rho kg/m^3),
 * W2 = u - 4c (m/s) arriving from the interior, p_lv (Pa) and dpdV (Pa/m^3) of the LV at the
 * end of the stage before ejection (ht_heart_lv_link), the stage length dt (s), and the
 * aortic valve over the stage (ht_valve_discretise: Bernoulli and inertance coefficients and
 * the previous valve flow). Outputs: face area A (m^2) and flow Q (m^3/s).
 * Returns HT_OK or HT_FAIL_BOUNDARY. */
HT_HD int ht_heart_root_solve(real K, real sqrtA0, real p0, real rho, real W2, real p_lv,
                              real dpdV, real dt, const ht_valve_lin *av, real *A_out,
                              real *Q_out)
{
    if (!(W2 < 0) || !(K > 0)) return HT_FAIL_BOUNDARY;
    real S = dpdV * dt;
    real A0c = ht_area_from_c(-0.25 * W2, K, rho); /* closed end: u = 0, c = -W2/4 */
    real dg, Q;
    if (av->w == 0 && av->b == 0 && av->c == 0) { /* shut ideal valve */
        *A_out = A0c;
        *Q_out = 0;
        return HT_OK;
    }
    real g0 = ht_heart_root_g(A0c, K, sqrtA0, p0, rho, W2, p_lv, S, av, &dg, &Q);
    if (g0 == 0 || (av->one_way && !(g0 > 0))) { /* no flow, or a diode that stays shut */
        *A_out = A0c;
        *Q_out = 0;
        return HT_OK;
    }
    real lo, hi, glo, ghi;
    if (g0 > 0) { /* forward flow: A > A0c */
        lo = A0c;
        glo = g0;
        hi = A0c;
        ghi = g0;
        for (int k = 0; k < 200 && ghi > 0; ++k) {
            hi *= 1.25;
            ghi = ht_heart_root_g(hi, K, sqrtA0, p0, rho, W2, p_lv, S, av, &dg, &Q);
        }
        if (!(ghi <= 0)) return HT_FAIL_BOUNDARY;
    } else { /* backflow: A_crit <= A < A0c */
        hi = A0c;
        ghi = g0;
        lo = ht_area_from_c(-0.2 * W2, K, rho); /* u + c = 0 */
        glo = ht_heart_root_g(lo, K, sqrtA0, p0, rho, W2, p_lv, S, av, &dg, &Q);
        if (!(glo >= 0)) return HT_FAIL_BOUNDARY;
    }
    if (glo == 0) hi = lo;
    if (ghi == 0) lo = hi;
    /* safeguarded Newton: g(lo) >= 0 >= g(hi), g decreasing */
    real A = 0.5 * (lo + hi);
    int ok = hi - lo <= HT_ROOT_TOL * hi;
    if (ok) A = lo;
    for (int it = 0; it < HT_ROOT_MAXIT && !ok; ++it) {
        real g = ht_heart_root_g(A, K, sqrtA0, p0, rho, W2, p_lv, S, av, &dg, &Q);
        if (g == 0) {
            ok = 1;
            break;
        }
        if (g > 0) lo = A;
        else hi = A;
        real An = dg < 0 ? A - g / dg : 0.5 * (lo + hi);
        if (!(An > lo && An < hi)) An = 0.5 * (lo + hi);
        real step = fabs(An - A);
        A = An;
        if (step <= HT_ROOT_TOL * A || hi - lo <= HT_ROOT_TOL * A) ok = 1;
    }
    if (!ok || !(A > 0)) return HT_FAIL_BOUNDARY;
    *A_out = A;
    *Q_out = A * (W2 + 4 * ht_wave_speed(A, K, rho));
    return HT_OK;
}

#endif
