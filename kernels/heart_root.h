/* The aortic root face of a 1D vessel driven by the 0D left ventricle through the aortic
 * valve (Formaggia, Lamponi, Tuveri & Veneziani, Comput Methods Biomech Biomed Eng
 * 2006;9:273-288; Mueller & Toro, Int J Numer Meth Biomed Eng 2014;30:681: the boundary
 * state from the outgoing characteristic plus the 0D law).
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
 * Bronchial branch (docs/heart.md): the bronchial arteries leave the root for the pulmonary
 * veins, Q_br = G_br (p(A) - p_br) with G_br = 1 / (R_br + dt / C_pvn) (the PVN pressure
 * linearised in its inflow, circulation.h). The valve then passes Q_lv = Q + Q_br, which
 * replaces Q in (2); Q_lv also increases with A, so g stays strictly decreasing, the same
 * bracket from A_closed (face flow 0) holds, and Q_br is implicit in the root pressure. A shut
 * valve (Q_lv = 0) makes the face feed the branch: Q = -Q_br, solved as the law Q_lv = 0.
 * (The anatomical origin is the proximal descending aorta; taking the root pressure instead
 * differs from it by the few mmHg of the arch's pressure drop.)
 *
 * Volume: whatever Q is returned, the caller removes exactly dt (Q + Q_br) from the LV, adds
 * dt Q_br to PVN
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
 *                     ht_heart_stage_end(P, X0, X, Q0, Qv0, Qbr0, p(A), drain_0, dt, 0)
 *   stage 1 (t + dt): the same from X (p_sv read before stage_begin), ending with
 *                     ht_heart_stage_end(P, X0, X, Q1, Qv1, Qbr1, p(A), drain_1, dt, 1)
 *                     (averages)
 *   V_lv(new) = V_lv(X0) + (dt/2)(Qmv_0 + Qmv_1) - (dt/2)(Q0 + Qbr0 + Q1 + Qbr1): exact to
 *   round-off; V_pvn gains (dt/2)(Qbr0 + Qbr1) besides its own flows, and V_sv gains
 *   (drain_0 + drain_1)/2, what the outlets passed over the step.
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

/* The root face at area A: face flow Q(A) = A (W2 + 4 c(A)) from the outgoing characteristic,
 * pressure p(A), and the flow the LV side must supply, Q_lv = Q + G_br (p - p_br): the face
 * flow plus the bronchial branch that leaves the root at its pressure. Both increase with A
 * on the subcritical branch (dQ/dA = W2 + 5c >= 0). */
typedef struct {
    real Q, p, Qlv;  /* m^3/s, Pa, m^3/s */
    real dQlv, dp;   /* their A-derivatives */
} ht_root_face;

HT_HD ht_root_face ht_root_face_eval(real A, real K, real sqrtA0, real p0, real rho, real W2, real G_br,
                                     real p_br)
{
    ht_root_face f;
    real c = ht_wave_speed(A, K, rho);
    f.Q = A * (W2 + 4 * c);
    f.p = p0 + K * (sqrt(A) - sqrtA0);
    f.dp = K / (2 * sqrt(A));
    f.Qlv = f.Q + G_br * (f.p - p_br);
    f.dQlv = W2 + 5 * c + G_br * f.dp;
    return f;
}

/* g(A) and dg/dA for the root equation; also the face state. */
HT_HD real ht_heart_root_g(real A, real K, real sqrtA0, real p0, real rho, real W2, real p_lv,
                           real S, const ht_valve_lin *av, real G_br, real p_br, real *dg,
                           ht_root_face *f)
{
    *f = ht_root_face_eval(A, K, sqrtA0, p0, rho, W2, G_br, p_br);
    real Q = f->Qlv;
    real g = av->w * (p_lv - S * Q - f->p) - av->a * Q * fabs(Q) - av->b * Q + av->c;
    *dg = -av->w * (S * f->dQlv + f->dp) - (2 * av->a * fabs(Q) + av->b) * f->dQlv;
    return g;
}

/* The root equation for one valve law, without the one-way decision (ht_heart_root_solve).
 * The bracket starts at the closed-end area A0c (face flow 0); g is decreasing, so its sign
 * there tells the side of the root, whatever the bronchial branch takes. */
HT_HD int ht_heart_root_solve_law(real K, real sqrtA0, real p0, real rho, real W2, real p_lv, real S,
                                  const ht_valve_lin *av, real G_br, real p_br, real A0c, real *A_out,
                                  ht_root_face *f)
{
    real dg;
    real g0 = ht_heart_root_g(A0c, K, sqrtA0, p0, rho, W2, p_lv, S, av, G_br, p_br, &dg, f);
    if (g0 == 0) {
        *A_out = A0c;
        return HT_OK;
    }
    real lo, hi, glo, ghi;
    if (g0 > 0) { /* forward face flow: A > A0c */
        lo = A0c;
        glo = g0;
        hi = A0c;
        ghi = g0;
        for (int k = 0; k < 200 && ghi > 0; ++k) {
            hi *= 1.25;
            ghi = ht_heart_root_g(hi, K, sqrtA0, p0, rho, W2, p_lv, S, av, G_br, p_br, &dg, f);
        }
        if (!(ghi <= 0)) return HT_FAIL_BOUNDARY;
    } else { /* backflow at the face: A_crit <= A < A0c */
        hi = A0c;
        ghi = g0;
        lo = ht_area_from_c(-0.2 * W2, K, rho); /* u + c = 0 */
        glo = ht_heart_root_g(lo, K, sqrtA0, p0, rho, W2, p_lv, S, av, G_br, p_br, &dg, f);
        if (!(glo >= 0)) return HT_FAIL_BOUNDARY;
    }
    if (glo == 0) hi = lo;
    if (ghi == 0) lo = hi;
    /* safeguarded Newton: g(lo) >= 0 >= g(hi), g decreasing */
    real A = 0.5 * (lo + hi);
    int ok = hi - lo <= HT_ROOT_TOL * hi;
    if (ok) A = lo;
    for (int it = 0; it < HT_ROOT_MAXIT && !ok; ++it) {
        real g = ht_heart_root_g(A, K, sqrtA0, p0, rho, W2, p_lv, S, av, G_br, p_br, &dg, f);
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
    *f = ht_root_face_eval(A, K, sqrtA0, p0, rho, W2, G_br, p_br);
    return HT_OK;
}

/* Solves the root face. Inputs: tube law at the face (K Pa/m, sqrtA0 m, p0 Pa, rho kg/m^3),
 * W2 = u - 4c (m/s) arriving from the interior, p_lv (Pa) and dpdV (Pa/m^3) of the LV at the
 * end of the stage before ejection (ht_heart_lv_link), the stage length dt (s), the aortic
 * valve over the stage (ht_valve_discretise: Bernoulli and inertance coefficients and the
 * previous valve flow), and the bronchial branch Q_br = G_br (p(A) - p_br) (G_br m^3/(Pa s),
 * 0: none; p_br Pa). Outputs: face area A (m^2), face flow Q (m^3/s) into the tree, and the
 * bronchial flow Q_br (m^3/s; Qbr_out may be NULL): the LV loses Q + Q_br, what the valve
 * passes. Returns HT_OK or HT_FAIL_BOUNDARY. */
HT_HD int ht_heart_root_solve(real K, real sqrtA0, real p0, real rho, real W2, real p_lv,
                              real dpdV, real dt, const ht_valve_lin *av, real G_br, real p_br,
                              real *A_out, real *Q_out, real *Qbr_out)
{
    if (!(W2 < 0) || !(K > 0)) return HT_FAIL_BOUNDARY;
    real S = dpdV * dt;
    real A0c = ht_area_from_c(-0.25 * W2, K, rho); /* closed end: u = 0, c = -W2/4 */
    /* the valve passes nothing: the face feeds the bronchial branch alone (Q_lv = 0) */
    const ht_valve_lin none = {0, 0, 1, 0, 0};
    real A = A0c, dg;
    ht_root_face f = ht_root_face_eval(A0c, K, sqrtA0, p0, rho, W2, G_br, p_br);
    int shut = av->w == 0 && av->b == 0 && av->c == 0; /* shut ideal valve */
    if (!shut && av->one_way) {
        /* a diode opens only if the LV exceeds the root pressure of the no-valve-flow state */
        int code = G_br > 0 ? ht_heart_root_solve_law(K, sqrtA0, p0, rho, W2, p_lv, S, &none, G_br, p_br, A0c, &A, &f)
                            : HT_OK;
        if (code) return code;
        shut = !(ht_heart_root_g(A, K, sqrtA0, p0, rho, W2, p_lv, S, av, G_br, p_br, &dg, &f) > 0);
    }
    if (shut) {
        if (G_br > 0 && !av->one_way) {
            int code = ht_heart_root_solve_law(K, sqrtA0, p0, rho, W2, p_lv, S, &none, G_br, p_br, A0c, &A, &f);
            if (code) return code;
        }
    } else {
        int code = ht_heart_root_solve_law(K, sqrtA0, p0, rho, W2, p_lv, S, av, G_br, p_br, A0c, &A, &f);
        if (code) return code;
    }
    /* a shut valve passes exactly nothing: the bronchial branch takes the face's backflow */
    real Q = shut && G_br == 0 ? 0 : f.Q;
    *A_out = A;
    *Q_out = Q;
    if (Qbr_out) *Qbr_out = shut ? -Q : G_br * (f.p - p_br);
    return HT_OK;
}

#endif
