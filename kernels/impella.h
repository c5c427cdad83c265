/* Transvalvular micro-axial pump (Impella) from the LV to the aortic root, in parallel with
 * the aortic valve (docs/devices.md section 1 has the model and every parameter with its
 * source).
 *
 * Pump law (pressure head = p_root - p_lv, flow Q > 0 from LV to root, speed w in rpm):
 *
 *   p_root - p_lv = H(w, Q) - R_s(p_lv) Q - L dQ/dt
 *   H(w, Q) = a0 w^2 + a1 w Q - a_s(Q) Q|Q|,   a_s = -a2 (Q >= 0),  a_s = B_back (Q < 0)
 *
 * For Q >= 0 this is the affinity-law HQ form a0 w^2 + a1 w Q + a2 Q^2 (H ~ w^2, Q ~ w)
 * with a2 <= 0, a1 <= 0. For Q < 0 (flow backward through the pump, possible when the
 * head exceeds the shut-off head a0 w^2, and always under a diastolic gradient at w = 0) the
 * loss keeps growing with |Q|: a stopped Impella (P-0) is an open conduit across the valve,
 * i.e. pump-mediated aortic regurgitation (a modelling choice [D], not a published law:
 * dp = -B Q|Q| - L dQ/dt, re-using the cannula loss). B_back is the larger of -a2 and the
 * ideal orifice loss rho / (2 A_lumen^2) of the cannula lumen: backflow can never exceed
 * free Bernoulli flow through the lumen. An optional one_way flag (a hypothetical check
 * valve; no real Impella has one) forbids backflow.
 *
 * Suction (inlet obstruction when the LV empties): the suction resistance of Simaan et al.,
 * IEEE Trans Control Syst Technol 2009;17:15-28, R_k = alpha (x1 - p_lv) for p_lv <= x1
 * (alpha = 3.5 mmHg s/mL per mmHg, x1 = 1 mmHg: [V] public code of Simaan 2009), smoothed
 * with a softplus of width d so that it is C-infinity:
 *   R_s(p_lv) = alpha d ln(1 + exp((x1 - p_lv) / d))   ->  alpha (x1 - p_lv) for p_lv << x1,
 *                                                       ->  0 (exponentially) for p_lv >> x1.
 * It is evaluated at the stage's LV pressure before ejection and frozen over the stage (the
 * explicit driving pressure, like the valve's opening state): the stage equation stays one
 * monotone quadratic. As p_lv falls the resistance grows linearly and the pump flow falls,
 * so a pump that empties the LV settles where its flow equals the LV inflow with p_lv near
 * x1 instead of driving p_lv to the shut-off head below p_root (test_devices).
 *
 * Discretisation over one RK stage of length dt (backward Euler, as the valves in valve.h):
 *   (p_lv - S Q) - p_root + a0 w^2 + a1 w Q - a_s Q|Q| - R_s Q - L (Q - Q_prev) / dt = 0,
 *   S = dpdV dt (the LV pressure linearised in the volume it loses, as heart_root.h).
 * Written as  dp0 - G Q = a_s Q|Q| + b Q - c  with dp0 = p_lv - p_root, G = S,
 *   b = L/dt - a1 w + R_s >= 0,  c = a0 w^2 + L Q_prev / dt,
 * the left side decreasing and the right side increasing in Q: one root, with the sign of
 * cc = dp0 + c, in the rationalised closed form Q = 2 cc / (bb + sqrt(bb^2 + 4 a_s |cc|)),
 * bb = b + G (as ht_valve_solve_affine, with a_s chosen by the sign of cc).
 *
 * Root coupling (ht_root_solve_with_impella): the LV's outflow through the root is the sum of
 * the aortic valve flow (valve.h law, as heart_root.h) and the pump flow, both seeing the same
 * root pressure p(A) and the same LV pressure p_lv - S (Q_valve + Q_imp) (the LV loses both);
 * it feeds the 1D face and the bronchial branch (heart_root.h, Q_lv = Q + G_br (p - p_br)):
 *   Q(A) = A (W2 + 4 c(A))                                (characteristic from the interior)
 *   dp(A) = p_lv - S Q_lv(A) - p(A)                      (LV minus root, end of stage)
 *   g(A) = Q_valve(dp(A)) + Q_imp(dp(A)) - Q_lv(A) = 0
 * Q_valve(dp) and Q_imp(dp) are the closed-form flows of each law at a given dp, both
 * non-decreasing in dp; on the subcritical branch (dQ/dA = W2 + 5 c >= 0) dp(A) decreases and
 * Q(A) increases with A, so g is strictly decreasing and the root is unique. It is bracketed
 * from the closed-end area (Q = 0, c = -W2/4) and found by Newton safeguarded by bisection,
 * converged to a relative tolerance on A (never a fixed count). Failure (W2 >= 0, no bracket,
 * backflow needing supercritical inflow, no convergence) returns HT_FAIL_BOUNDARY.
 * The returned flows satisfy Q_valve + Q_imp = Q_lv (Q_imp is taken as Q_lv - Q_valve, or
 * Q_valve = Q_lv when the pump passes nothing), so the LV loses exactly what the face and the
 * bronchial branch take: with a shut ideal valve Q_imp = Q_lv, with no pump flow Q_valve = Q_lv.
 *
 * Units: SI (Pa, m^3, m^3/s, s), speeds in rpm (the manufacturer's unit). */
#ifndef HT_IMPELLA_H
#define HT_IMPELLA_H
#include "net.h"
#include "tubelaw.h"
#include "valve.h"
#include "heart_root.h"

#ifndef HT_MMHG
#define HT_MMHG 133.322387415 /* Pa */
#endif
#ifndef HT_ML
#define HT_ML 1e-6 /* m^3 */
#endif
#define HT_LPM (1e-3 / 60)    /* m^3/s per L/min */

#define HT_IMPELLA_NLEVEL 10  /* P-0 .. P-9 */
#define HT_MCS_ROOT_MAXIT 200
#define HT_MCS_ROOT_TOL 1e-13

enum { HT_IMPELLA_25 = 0, HT_IMPELLA_CP = 1, HT_IMPELLA_55 = 2 };

typedef struct {
    real a0;          /* Pa/rpm^2, shut-off head coefficient (> 0) */
    real a1;          /* Pa s/(m^3 rpm), linear loss per speed (<= 0; 0 in the presets) */
    real a2;          /* Pa s^2/m^6, quadratic loss for forward flow (<= 0) */
    real B_back;      /* Pa s^2/m^6, quadratic loss for backward flow (> 0) */
    real L;           /* Pa s^2/m^3, inertance of the blood in the cannula */
    real rpm_level[HT_IMPELLA_NLEVEL]; /* rpm at P-0 .. P-9 */
    real suc_alpha;   /* Pa s/m^3 per Pa: suction resistance slope (Simaan alpha) */
    real suc_p;       /* Pa: suction threshold (Simaan x1) */
    real suc_width;   /* Pa: softplus width (> 0) */
    int one_way;      /* 1: no backflow (hypothetical check valve); 0: the real device */
} ht_impella;

/* Per-member state: the pump flow (the inertial state of the stage law). */
typedef struct {
    real Q;           /* m^3/s, LV -> root */
} ht_impella_state;

/* The pump over one stage: dp0 - G Q = a_s Q|Q| + b Q - c (a_s = a_f for Q >= 0, a_b < 0). */
typedef struct {
    real a_f, a_b, b, c;
    int one_way;
} ht_impella_lin;

/* P-level speeds of the Impella 2.5 from the Automated Impella Controller IFU table
 * (manualslib Abiomed Impella 2.5 manual p. 11) [V]; index 9 is BOOST (51,000 rpm). */
HT_HD real ht_impella25_rpm(int level)
{
    switch (level) {
    case 1: return 25000;
    case 2: return 35000;
    case 3: return 38000;
    case 4: return 40000;
    case 5: return 43000;
    case 6: return 45000;
    case 7: return 47000;
    case 8: return 50000;
    case 9: return 51000;
    default: return 0;
    }
}

/* Fills P with the preset `device` (HT_IMPELLA_25 / _CP / _55). Returns 0, or -1 for an
 * unknown device. Sources and fits: docs/devices.md section 1.3.
 *  2.5: a0, a2 least-squares fit of the IFU P-2..BOOST flow-range midpoints at a head of
 *       60 mmHg (fitted; relative flow residuals <= 3.2 %).
 *  CP:  speeds: P-9 = 46,000 rpm (max speed [V-weak]); P-1..P-8 the 2.5's IFU speed ratios
 *       scaled to it (assumed: the CP table is not available). a0, a2 fitted to assumed
 *       anchors at P-9 [D]: Q = 3.7 L/min at 60 mmHg and 5.5 L/min at 0 mmHg (provisional).
 *  5.5: speeds: P-9 = 33,000 rpm [R], ratios as CP (assumed). a0, a2 fitted to Q = 5.5 L/min
 *       at 60 mmHg [R rated flow] and a shut-off head of 110 mmHg at P-9 (assumed equal to the
 *       CP's, provisional).
 * Inertance rho l / A of the cannula [D]; B_back = max(-a2, rho / (2 A_lumen^2)) [D]. */
HT_HD int ht_impella_preset(ht_impella *P, int device)
{
    const real rho = 1060, mmHg_s2_mL2 = HT_MMHG / (HT_ML * HT_ML);
    real rpm_max, lumen_d;
    if (device == HT_IMPELLA_25) {
        rpm_max = 51000;
        P->a0 = 7.935e-8 * HT_MMHG;                 /* Pa/rpm^2 (fitted) */
        P->a2 = -0.10152 * mmHg_s2_mL2;             /* 28.2 mmHg/(L/min)^2 (fitted) */
        P->L = 0.05 * HT_MMHG / HT_ML;              /* [D] ID 3.5 mm, 6 cm */
        lumen_d = 3.5e-3;                           /* m [D] */
    } else if (device == HT_IMPELLA_CP) {
        rpm_max = 46000;
        real Q60 = 3.7 * HT_LPM, Q0 = 5.5 * HT_LPM, H = 60 * HT_MMHG;
        P->a2 = -H / (Q0 * Q0 - Q60 * Q60);         /* fitted */
        P->a0 = -P->a2 * Q0 * Q0 / (rpm_max * rpm_max);
        P->L = 0.04 * HT_MMHG / HT_ML;              /* [D] rho l / A: ID ~4 mm, l ~6 cm */
        lumen_d = 4.0e-3;
    } else if (device == HT_IMPELLA_55) {
        rpm_max = 33000;
        real Q60 = 5.5 * HT_LPM, H0 = 110 * HT_MMHG, H = 60 * HT_MMHG;
        P->a2 = -(H0 - H) / (Q60 * Q60);            /* fitted */
        P->a0 = H0 / (rpm_max * rpm_max);
        P->L = 0.018 * HT_MMHG / HT_ML;             /* [D] rho l / A, ID ~6 mm: 0.015-0.02 */
        lumen_d = 5.5e-3;
    } else {
        return -1;
    }
    P->a1 = 0;
    for (int k = 0; k < HT_IMPELLA_NLEVEL; ++k)
        P->rpm_level[k] = device == HT_IMPELLA_25 ? ht_impella25_rpm(k)
                                                  : rpm_max * ht_impella25_rpm(k) / 51000;
    real A = 0.25 * HT_PI * lumen_d * lumen_d;
    P->B_back = ht_max(-P->a2, rho / (2 * A * A));
    P->suc_alpha = 3.5 * HT_MMHG / HT_ML / HT_MMHG; /* 3.5 mmHg s/mL per mmHg (Simaan) */
    P->suc_p = 1 * HT_MMHG;                         /* x1 = 1 mmHg (Simaan) */
    P->suc_width = 0.5 * HT_MMHG;                   /* [D] smoothing */
    P->one_way = 0;
    return 0;
}

/* Speed (rpm) at P-level `level` (0..9; out of range -> 0, the stopped pump). */
HT_HD real ht_impella_rpm(const ht_impella *P, int level)
{
    return level >= 0 && level < HT_IMPELLA_NLEVEL ? P->rpm_level[level] : 0;
}

/* Steady pressure head H(w, Q) = p_root - p_lv (Pa) at speed rpm and flow Q (no suction). */
HT_HD real ht_impella_head(const ht_impella *P, real rpm, real Q)
{
    real as = Q >= 0 ? -P->a2 : P->B_back;
    return P->a0 * rpm * rpm + P->a1 * rpm * Q - as * Q * fabs(Q);
}

/* Suction resistance R_s(p_lv) (Pa s/m^3), smooth, >= 0. */
HT_HD real ht_impella_suction_R(const ht_impella *P, real p_lv)
{
    real x = (P->suc_p - p_lv) / P->suc_width;
    real sp = x > 30 ? x : log1p(exp(x)); /* softplus, overflow-safe */
    return P->suc_alpha * P->suc_width * sp;
}

/* The stage law at speed rpm, suction at LV pressure p_lv (Pa), previous flow Q_prev (m^3/s),
 * stage length dt (s). dt = INFINITY (or L = 0) gives the quasi-steady law. */
HT_HD ht_impella_lin ht_impella_discretise(const ht_impella *P, real rpm, real p_lv, real Q_prev,
                                           real dt)
{
    ht_impella_lin l;
    real m = P->L / dt;
    l.a_f = -P->a2;
    l.a_b = P->B_back;
    l.b = m - P->a1 * rpm + ht_impella_suction_R(P, p_lv);
    l.c = P->a0 * rpm * rpm + m * Q_prev;
    l.one_way = P->one_way;
    return l;
}

/* No device (or a clamped one): zero flow at every pressure. */
HT_HD ht_impella_lin ht_impella_lin_off(void)
{
    ht_impella_lin l;
    l.a_f = l.a_b = l.b = l.c = 0;
    l.one_way = 1;
    return l;
}

/* Solves dp0 - G Q = a_s Q|Q| + b Q - c for Q (G >= 0); *dQ = dQ/d(dp0) (m^3/(s Pa)), which is
 * +inf only in the degenerate a = bb = 0 law with flow (not produced by the presets). */
HT_HD real ht_impella_solve(const ht_impella_lin *l, real dp0, real G, real *dQ)
{
    real bb = l->b + G;
    real cc = dp0 + l->c;
    *dQ = 0;
    if (l->a_f == 0 && l->a_b == 0 && l->b == 0) return 0; /* no device */
    if (cc == 0 || (l->one_way && !(cc > 0))) return 0;
    real a = cc > 0 ? l->a_f : l->a_b;
    real den = bb + sqrt(bb * bb + 4 * a * fabs(cc));
    if (!(den > 0)) return 0;
    real Q = 2 * cc / den;
    /* d/d(dp0) of a Q|Q| + bb Q = cc:  (2 a |Q| + bb) dQ = 1 */
    real dd = 2 * a * fabs(Q) + bb;
    *dQ = dd > 0 ? 1 / dd : INFINITY;
    return Q;
}

/* Pump flow (m^3/s) over one stage: LV pressure p_lv (Pa) before ejection and its volume
 * derivative dpdV (Pa/m^3) (the LV at the end of the stage is p_lv - dpdV dt Q), root
 * pressure p_root (Pa) held over the stage, previous flow Q_prev, stage length dt. */
HT_HD real ht_impella_flow(const ht_impella *P, real rpm, real p_lv, real dpdV, real p_root,
                           real Q_prev, real dt)
{
    ht_impella_lin l = ht_impella_discretise(P, rpm, p_lv, Q_prev, dt);
    real dQ;
    return ht_impella_solve(&l, p_lv - p_root, dpdV * dt, &dQ);
}

/* Steady operating point (m^3/s) on the HQ curve at fixed p_lv, p_root (with suction). */
HT_HD real ht_impella_steady_flow(const ht_impella *P, real rpm, real p_lv, real p_root)
{
    ht_impella_lin l = ht_impella_discretise(P, rpm, p_lv, 0, INFINITY);
    real dQ;
    return ht_impella_solve(&l, p_lv - p_root, 0, &dQ);
}

/* Flow of the valve law w dp = a Q|Q| + b Q - c at a given dp, and dQ/d(dp). */
HT_HD real ht_mcs_valve_flow(const ht_valve_lin *v, real dp, real *dQ)
{
    real Q = ht_valve_solve_affine(v, dp, 0);
    real dd = 2 * v->a * fabs(Q) + v->b;
    if (v->w == 0 || (v->one_way && Q == 0)) *dQ = 0;
    else *dQ = dd > 0 ? v->w / dd : INFINITY;
    return Q;
}

/* g(A) = Q_valve + Q_imp - Q_lv(A) of the joint root equation (Q_lv = the face flow plus the
 * bronchial branch, ht_root_face_eval), dg/dA, and the parts. */
HT_HD real ht_root_impella_g(real A, real K, real sqrtA0, real p0, real rho, real W2, real p_lv,
                             real S, const ht_valve_lin *av, const ht_impella_lin *ip, real G_br,
                             real p_br, real *dg, ht_root_face *f, real *Qv)
{
    *f = ht_root_face_eval(A, K, sqrtA0, p0, rho, W2, G_br, p_br);
    real dp = p_lv - S * f->Qlv - f->p;
    real ddp = -S * f->dQlv - f->dp;
    real dv, di;
    real qv = ht_mcs_valve_flow(av, dp, &dv);
    real qi = ht_impella_solve(ip, dp, 0, &di);
    *dg = (dv + di) * ddp - f->dQlv;
    *Qv = qv;
    return qv + qi - f->Qlv;
}

/* Solves the aortic root face with the aortic valve and the Impella in parallel.
 * Inputs: tube law at the face (K Pa/m, sqrtA0 m, p0 Pa, rho kg/m^3), W2 = u - 4c (m/s) from
 * the interior, p_lv (Pa) and dpdV (Pa/m^3) of the LV before ejection (ht_heart_lv_link),
 * stage length dt (s), the aortic valve over the stage (ht_valve_discretise) and the pump
 * over the stage (ht_impella_discretise with the same p_lv; ht_impella_lin_off for none), and
 * the bronchial branch G_br, p_br (as ht_heart_root_solve; G_br = 0: none).
 * Outputs: face area A (m^2), face flow Q (m^3/s) into the tree, valve and pump flows with
 * Q_valve + Q_imp = Q + Q_br, and the bronchial flow Q_br (Qbr_out may be NULL).
 * Returns HT_OK or HT_FAIL_BOUNDARY. */
HT_HD int ht_root_solve_with_impella(real K, real sqrtA0, real p0, real rho, real W2, real p_lv,
                                     real dpdV, real dt, const ht_valve_lin *av,
                                     const ht_impella_lin *ip, real G_br, real p_br, real *A_out,
                                     real *Q_out, real *Qv_out, real *Qi_out, real *Qbr_out)
{
    if (!(W2 < 0) || !(K > 0)) return HT_FAIL_BOUNDARY;
    real S = dpdV * dt;
    real A0c = ht_area_from_c(-0.25 * W2, K, rho); /* closed end: u = 0 */
    real dg, Qv, di;
    ht_root_face f;
    real g0 = ht_root_impella_g(A0c, K, sqrtA0, p0, rho, W2, p_lv, S, av, ip, G_br, p_br, &dg, &f, &Qv);
    if (!isfinite(g0)) return HT_FAIL_BOUNDARY;
    if (g0 == 0 && G_br == 0) { /* nothing flows: both laws give 0 at the closed-end pressure */
        *A_out = A0c;
        *Q_out = *Qv_out = *Qi_out = 0;
        if (Qbr_out) *Qbr_out = 0;
        return HT_OK;
    }
    real lo, hi, glo, ghi;
    if (g0 > 0) { /* forward: A > A0c */
        lo = A0c;
        glo = g0;
        hi = A0c;
        ghi = g0;
        for (int k = 0; k < 200 && ghi > 0; ++k) {
            hi *= 1.25;
            ghi = ht_root_impella_g(hi, K, sqrtA0, p0, rho, W2, p_lv, S, av, ip, G_br, p_br, &dg, &f, &Qv);
        }
        if (!(ghi <= 0)) return HT_FAIL_BOUNDARY;
    } else { /* backward: A_crit <= A < A0c */
        hi = A0c;
        ghi = g0;
        lo = ht_area_from_c(-0.2 * W2, K, rho); /* u + c = 0 */
        glo = ht_root_impella_g(lo, K, sqrtA0, p0, rho, W2, p_lv, S, av, ip, G_br, p_br, &dg, &f, &Qv);
        if (!(glo >= 0)) return HT_FAIL_BOUNDARY;
    }
    if (glo == 0) hi = lo;
    if (ghi == 0) lo = hi;
    real A = 0.5 * (lo + hi);
    int ok = hi - lo <= HT_MCS_ROOT_TOL * hi;
    if (ok) A = lo;
    for (int it = 0; it < HT_MCS_ROOT_MAXIT && !ok; ++it) {
        real g = ht_root_impella_g(A, K, sqrtA0, p0, rho, W2, p_lv, S, av, ip, G_br, p_br, &dg, &f, &Qv);
        if (g == 0) {
            ok = 1;
            break;
        }
        if (g > 0) lo = A;
        else hi = A;
        real An = (dg < 0 && isfinite(dg)) ? A - g / dg : 0.5 * (lo + hi);
        if (!(An > lo && An < hi)) An = 0.5 * (lo + hi);
        real step = fabs(An - A);
        A = An;
        if (step <= HT_MCS_ROOT_TOL * A || hi - lo <= HT_MCS_ROOT_TOL * A) ok = 1;
    }
    if (!ok || !(A > 0)) return HT_FAIL_BOUNDARY;
    ht_root_impella_g(A, K, sqrtA0, p0, rho, W2, p_lv, S, av, ip, G_br, p_br, &dg, &f, &Qv);
    real dpA = p_lv - S * f.Qlv - f.p;
    real Qbr = G_br * (f.p - p_br), Qlv = f.Q + Qbr;
    *A_out = A;
    *Q_out = f.Q;
    if (Qbr_out) *Qbr_out = Qbr;
    /* the split sums to the LV's outflow exactly; the converged residual (~1e-13 Q) goes to
     * the pump, or to the valve when the pump passes nothing */
    if (ht_impella_solve(ip, dpA, 0, &di) == 0) {
        *Qv_out = Qlv;
        *Qi_out = 0;
    } else {
        *Qv_out = Qv;
        *Qi_out = Qlv - Qv;
    }
    return HT_OK;
}

#endif
