/* Femoral veno-arterial ECMO circuit (docs/devices.md section 2 has the model and every
 * parameter with its source).
 *
 *   systemic veins (p_v) -> drainage cannula -> centrifugal pump -> oxygenator -> arterial
 *   line -> return cannula -> tip junction in the femoral/iliac artery (p_tip)
 *                        \-> optional distal perfusion cannula -> distal leg (p_dist)
 *
 * Modes:
 *  - prescribed: Q(t) (m^3/s) constant or a piecewise-linear table (periodic or held at its
 *    ends), evaluated at the stage time; exact (no solve).
 *  - pump: the circuit momentum balance, backward Euler over one stage of length dt:
 *      L dQ/dt = p_v - p_line(Q) + H(w, Q) - (R_dr + R_col) Q - K_dr Q|Q| - R_ox Q - K_ox Q|Q|
 *      H(w, Q) = b0 w^2 + b1 w Q + b2 Q|Q|     (centrifugal pump, affinity form; b1, b2 <= 0)
 *      p_line(Q) = p_tip + R_ret Q_ret + K_ret Q_ret|Q_ret|   (return cannula, Q_ret its flow)
 *    with the venous pressure linearised in the volume drained over the stage,
 *    p_v(V - dt Q) = p_v - dpdV_v dt Q (the caller removes dt Q from the venous compartment).
 *    Cannula and oxygenator losses are the parabolic fit dp = a Q + b Q^2 (Ganushchak et al.
 *    2020; written a Q + b Q|Q| so that the loss is odd in Q). R_col(p_v) is a smooth collapse
 *    resistance of the drainage side (the softplus of impella.h's suction law about col_p),
 *    frozen at the stage input.
 *    Without a distal cannula (or with a fixed fraction f: Q_ret = (1 - f) Q) everything is
 *    a Q|Q| + b Q = c with a, b >= 0, solved in closed form (valve.h's rationalised root).
 *    With a resistance distal cannula the arterial line splits: p_line solves
 *    Q_ret(p_line - p_tip) + Q_dpc(p_line - p_dist) = Q (monotone), nested in a safeguarded
 *    Newton on Q (the balance is strictly decreasing in Q).
 *
 * Coupling to the 1D tree (the junction Newton of junction.h, once extended): the cannula
 * tip is a junction between the proximal and distal parts of the femoral/iliac vessel with a
 * third "end", the cannula, which adds Q_ret(p) to the junction's mass balance:
 *     sum_k s_k A_k u_k + Q_ret(p_J) = 0,    J[0][k] += dQ_ret/dp * dp_J/dA_k,
 * where p_J is the static pressure of the junction (that of end 0 in the total-pressure
 * formulation). ht_ecmo_tip_inflow gives Q_ret(p) and dQ_ret/dp for that Newton. The return
 * jet's momentum is not carried into the junction (1D treats the tip region as perfectly
 * mixed; the jet needs 9-12 cannula diameters to mix: Lemetayer et al., Front Bioeng
 * Biotechnol 2021;9:630568). Tracer: the cannula inflow has ECMO fraction 1.
 *
 * Saturation: S = c S_oxy + (1 - c) S_native, linear in c (docs/devices.md section 2.1).
 * Units: SI (Pa, m^3, m^3/s, s), pump speed in rpm. */
#ifndef HT_ECMO_H
#define HT_ECMO_H
#include "net.h"
#include "valve.h"

#ifndef HT_MMHG
#define HT_MMHG 133.322387415 /* Pa */
#endif
#ifndef HT_ML
#define HT_ML 1e-6 /* m^3 */
#endif
#ifndef HT_LPM
#define HT_LPM (1e-3 / 60) /* m^3/s per L/min */
#endif

#define HT_ECMO_TABLE_MAX 32
#define HT_ECMO_TRACER 1.0  /* ECMO fraction of the returned blood */
#define HT_ECMO_MAXIT 200
#define HT_ECMO_TOL 1e-13
#define HT_ECMO_QSCALE 1e-6 /* m^3/s: below this, flow tolerances are absolute */

enum { HT_ECMO_PRESCRIBED = 0, HT_ECMO_PUMP = 1 };
enum { HT_DPC_NONE = 0, HT_DPC_FRACTION = 1, HT_DPC_RESISTANCE = 2 };

typedef struct {
    int mode;              /* HT_ECMO_PRESCRIBED | HT_ECMO_PUMP */
    /* prescribed: Q_set (m^3/s) when n_tab < 2, else the table t_tab (s, ascending),
     * q_tab (m^3/s), linear interpolation, periodic in `period` (s) when > 0 */
    real Q_set;
    int n_tab;
    real period;
    real t_tab[HT_ECMO_TABLE_MAX], q_tab[HT_ECMO_TABLE_MAX];
    /* pump */
    real rpm;              /* rpm */
    real b0;               /* Pa/rpm^2 */
    real b1;               /* Pa s/(m^3 rpm), <= 0 */
    real b2;               /* Pa s^2/m^6, <= 0 */
    real R_dr, K_dr;       /* drainage cannula: Pa s/m^3, Pa s^2/m^6 */
    real R_ox, K_ox;       /* oxygenator */
    real R_ret, K_ret;     /* return cannula */
    real L;                /* Pa s^2/m^3, circuit inertance */
    real col_alpha;        /* Pa s/m^3 per Pa: drainage collapse resistance slope (0: off) */
    real col_p;            /* Pa: collapse threshold of the venous pressure */
    real col_width;        /* Pa: softplus width (> 0) */
    /* distal perfusion cannula */
    int dpc;               /* HT_DPC_NONE | HT_DPC_FRACTION | HT_DPC_RESISTANCE */
    real dpc_frac;         /* fraction of the pump flow (FRACTION) */
    real R_dpc, K_dpc;     /* branch from the arterial line to p_dist (RESISTANCE; R > 0) */
    /* oxygen saturation (fractions) */
    real S_oxy;            /* of the oxygenator outflow */
    real S_native;         /* of native (lung-oxygenated) blood */
} ht_ecmo;

/* Per-member state. */
typedef struct {
    real Q;                /* m^3/s, pump flow (the inertial state), drained from the veins */
    real Q_ret;            /* m^3/s, into the tip junction */
    real Q_dpc;            /* m^3/s, into the distal leg */
} ht_ecmo_state;

/* What is frozen over one stage. */
typedef struct {
    real p_v;              /* Pa, venous pressure at the stage input */
    real Gv;               /* Pa s/m^3, dpdV_v dt */
    real p_dist;           /* Pa, distal perfusion point (RESISTANCE) */
    real Ldt;              /* Pa s/m^3, L / dt (0: steady) */
    real Q_prev;           /* m^3/s */
    real R_col;            /* Pa s/m^3 */
    real Q_pres;           /* m^3/s, prescribed flow at the stage time */
} ht_ecmo_stage;

typedef struct {
    real Q;                /* m^3/s, pump flow (= drained) */
    real Q_ret;            /* m^3/s, into the tip junction */
    real Q_dpc;            /* m^3/s, into the distal leg; Q_ret + Q_dpc = Q */
    real dQret_dp;         /* m^3/(s Pa), d Q_ret / d p_tip (<= 0) */
} ht_ecmo_flows;

/* Smooth resistance alpha d ln(1 + exp((p_th - p) / d)) (Pa s/m^3). */
HT_HD real ht_ecmo_softplus_R(real alpha, real p_th, real d, real p)
{
    if (!(alpha > 0)) return 0;
    real x = (p_th - p) / d;
    return alpha * d * (x > 30 ? x : log1p(exp(x)));
}

/* Adult femoral VA-ECMO circuit, pump mode at 3000 rpm (docs/devices.md section 2.3):
 * Rotaflow-class centrifugal pump fitted to 350 mmHg at 5 L/min [V He et al. 2021 operating
 * point] and 420 mmHg shut-off at 3500 rpm [assumed]; 25 Fr drainage 40 mmHg at 5 L/min,
 * 17 Fr return 100 mmHg at 4 L/min (blood), oxygenator 35 mmHg at 5 L/min (all fitted /
 * assumed typical values, to be replaced by digitised Broman 2019 / IFU curves); inertance
 * rho l / A of tubing and cannulas [D]. No distal cannula; S_oxy 1.0, S_native 0.95. */
HT_HD void ht_ecmo_preset(ht_ecmo *E)
{
    const real m = HT_MMHG, q5 = 5 * HT_LPM, q4 = 4 * HT_LPM;
    E->mode = HT_ECMO_PUMP;
    E->Q_set = 0;
    E->n_tab = 0;
    E->period = 0;
    for (int k = 0; k < HT_ECMO_TABLE_MAX; ++k) E->t_tab[k] = E->q_tab[k] = 0;
    E->rpm = 3000;
    E->b0 = 420 * m / (3500.0 * 3500.0);
    E->b1 = 0;
    E->b2 = -(420 - 350) * m / (q5 * q5);
    E->R_dr = 0.3 * 40 * m / q5;
    E->K_dr = 0.7 * 40 * m / (q5 * q5);
    E->R_ox = 35 * m / q5;
    E->K_ox = 0;
    E->R_ret = 0.25 * 100 * m / q4;
    E->K_ret = 0.75 * 100 * m / (q4 * q4);
    E->L = 0.42 * m / HT_ML;
    E->col_alpha = 3.5 * m / HT_ML / m;
    E->col_p = 2 * m;
    E->col_width = 0.5 * m;
    E->dpc = HT_DPC_NONE;
    E->dpc_frac = 0.05;
    E->R_dpc = 30 * m / HT_ML;
    E->K_dpc = 0;
    E->S_oxy = 1.0;
    E->S_native = 0.95;
}

/* Switches to a constant prescribed flow Q_Lmin (L/min). */
HT_HD void ht_ecmo_set_prescribed(ht_ecmo *E, real Q_Lmin)
{
    E->mode = HT_ECMO_PRESCRIBED;
    E->Q_set = Q_Lmin * HT_LPM;
    E->n_tab = 0;
}

/* Prescribed flow (m^3/s) at time t. */
HT_HD real ht_ecmo_prescribed_flow(const ht_ecmo *E, real t)
{
    int n = E->n_tab;
    if (n < 2) return E->Q_set;
    real tt = t;
    if (E->period > 0) {
        tt = fmod(t, E->period);
        if (tt < 0) tt += E->period;
    }
    if (tt <= E->t_tab[0]) return E->q_tab[0];
    if (tt >= E->t_tab[n - 1]) return E->q_tab[n - 1];
    int lo = 0, hi = n - 1;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (E->t_tab[mid] <= tt) lo = mid;
        else hi = mid;
    }
    real s = (tt - E->t_tab[lo]) / (E->t_tab[hi] - E->t_tab[lo]);
    return E->q_tab[lo] + s * (E->q_tab[hi] - E->q_tab[lo]);
}

/* Pump head H(w, Q) (Pa) at speed rpm. */
HT_HD real ht_ecmo_head(const ht_ecmo *E, real rpm, real Q)
{
    return E->b0 * rpm * rpm + E->b1 * rpm * Q + E->b2 * Q * fabs(Q);
}

/* Steady circuit loss (Pa) at flow Q without a distal cannula and without collapse:
 * drainage + oxygenator + return cannula. */
HT_HD real ht_ecmo_loss(const ht_ecmo *E, real Q)
{
    return (E->R_dr + E->R_ox + E->R_ret) * Q + (E->K_dr + E->K_ox + E->K_ret) * Q * fabs(Q);
}

/* Oxygen saturation of blood with ECMO fraction c. */
HT_HD real ht_saturation_mix(real c, real S_oxy, real S_native)
{
    return c * S_oxy + (1 - c) * S_native;
}

/* Freezes a stage: venous pressure p_v (Pa) and dp/dV (Pa/m^3) at the stage input, distal
 * pressure p_dist (Pa; RESISTANCE only), previous pump flow Q_prev, stage time ts, length dt. */
HT_HD ht_ecmo_stage ht_ecmo_stage_setup(const ht_ecmo *E, real p_v, real dpdV_v, real p_dist,
                                        real Q_prev, real ts, real dt)
{
    ht_ecmo_stage S;
    S.p_v = p_v;
    S.Gv = dpdV_v * dt;
    S.p_dist = p_dist;
    S.Ldt = E->L / dt;
    S.Q_prev = Q_prev;
    S.R_col = ht_ecmo_softplus_R(E->col_alpha, E->col_p, E->col_width, p_v);
    S.Q_pres = ht_ecmo_prescribed_flow(E, ts);
    return S;
}

/* The steady operating point's stage: no inertia, venous pressure held (Gv = 0). */
HT_HD ht_ecmo_stage ht_ecmo_steady_setup(const ht_ecmo *E, real p_v, real p_dist, real t)
{
    ht_ecmo_stage S = ht_ecmo_stage_setup(E, p_v, 0, p_dist, 0, t, 1);
    S.Ldt = 0;
    return S;
}

/* Branch law dp = R Q + K Q|Q|: flow at dp and dQ/d(dp). */
HT_HD real ht_ecmo_branch(real R, real K, real dp, real *dQ)
{
    ht_valve_lin l;
    l.w = 1;
    l.a = K;
    l.b = R;
    l.c = 0;
    l.one_way = 0;
    real Q = ht_valve_solve_affine(&l, dp, 0);
    real dd = R + 2 * K * fabs(Q);
    *dQ = dd > 0 ? 1 / dd : INFINITY;
    return Q;
}

/* Arterial-line pressure with a resistance distal cannula: solves
 * Q_ret(p - p_tip) + Q_dpc(p - p_dist) = Q. Outputs the branch flows and their derivatives.
 * Returns HT_OK or HT_FAIL_BOUNDARY. */
HT_HD int ht_ecmo_line_split(const ht_ecmo *E, real Q, real p_tip, real p_dist, real *p_line,
                             real *Qr, real *Qd, real *dr, real *dd)
{
    real aQ = fabs(Q);
    real D = ht_max(E->R_ret * aQ + E->K_ret * aQ * aQ, E->R_dpc * aQ + E->K_dpc * aQ * aQ) + 1;
    real lo = ht_min(p_tip, p_dist) - D, hi = ht_max(p_tip, p_dist) + D;
    real p = 0.5 * (lo + hi);
    int ok = 0;
    for (int it = 0; it < HT_ECMO_MAXIT && !ok; ++it) {
        *Qr = ht_ecmo_branch(E->R_ret, E->K_ret, p - p_tip, dr);
        *Qd = ht_ecmo_branch(E->R_dpc, E->K_dpc, p - p_dist, dd);
        real f = *Qr + *Qd - Q;
        if (f == 0) {
            ok = 1;
            break;
        }
        if (f > 0) hi = p;
        else lo = p;
        real df = *dr + *dd;
        real pn = (df > 0 && isfinite(df)) ? p - f / df : 0.5 * (lo + hi);
        if (!(pn > lo && pn < hi)) pn = 0.5 * (lo + hi);
        real step = fabs(pn - p);
        p = pn;
        real tol = HT_ECMO_TOL * (fabs(p) + HT_MMHG);
        if (step <= tol || hi - lo <= tol) ok = 1;
    }
    if (!ok) return HT_FAIL_BOUNDARY;
    *Qr = ht_ecmo_branch(E->R_ret, E->K_ret, p - p_tip, dr);
    *Qd = ht_ecmo_branch(E->R_dpc, E->K_dpc, p - p_dist, dd);
    *p_line = p;
    return HT_OK;
}

/* Pump-mode balance with the RESISTANCE split: F(Q) (Pa, decreasing) and its parts. */
HT_HD int ht_ecmo_balance(const ht_ecmo *E, const ht_ecmo_stage *S, real p_tip, real Q, real *F,
                          real *dF, real *Qr, real *Qd, real *dr, real *dd)
{
    real pl;
    if (ht_ecmo_line_split(E, Q, p_tip, S->p_dist, &pl, Qr, Qd, dr, dd)) return HT_FAIL_BOUNDARY;
    real w = E->rpm, aQ = fabs(Q);
    real Rlin = S->Gv + E->R_dr + S->R_col + E->R_ox + S->Ldt;
    *F = S->p_v + ht_ecmo_head(E, w, Q) - Rlin * Q - (E->K_dr + E->K_ox) * Q * aQ +
         S->Ldt * S->Q_prev - pl;
    *dF = E->b1 * w + 2 * E->b2 * aQ - Rlin - 2 * (E->K_dr + E->K_ox) * aQ - 1 / (*dr + *dd);
    return HT_OK;
}

/* The cannula's inflow into the tip junction at junction pressure p_tip (Pa), over the
 * stage S: fills f (pump flow, return flow, distal flow, dQ_ret/dp_tip).
 * Returns HT_OK or HT_FAIL_BOUNDARY. */
HT_HD int ht_ecmo_tip_inflow(const ht_ecmo *E, const ht_ecmo_stage *S, real p_tip,
                             ht_ecmo_flows *f)
{
    real frac = E->dpc == HT_DPC_FRACTION ? E->dpc_frac : 0;
    if (E->mode == HT_ECMO_PRESCRIBED) {
        f->Q = S->Q_pres;
        if (E->dpc == HT_DPC_RESISTANCE) {
            real pl, Qr, Qd, dr, dd;
            if (ht_ecmo_line_split(E, f->Q, p_tip, S->p_dist, &pl, &Qr, &Qd, &dr, &dd))
                return HT_FAIL_BOUNDARY;
            f->Q_ret = Qr;
            f->dQret_dp = -dr * dd / (dr + dd);
        } else {
            f->Q_ret = (1 - frac) * f->Q;
            f->dQret_dp = 0;
        }
        f->Q_dpc = f->Q - f->Q_ret;
        return isfinite(f->Q_ret) ? HT_OK : HT_FAIL_BOUNDARY;
    }
    real w = E->rpm;
    if (E->dpc != HT_DPC_RESISTANCE) {
        /* a Q|Q| + b Q = c, closed form */
        real r = 1 - frac;
        ht_valve_lin l;
        l.w = 1;
        l.a = E->K_dr + E->K_ox - E->b2 + E->K_ret * r * r;
        l.b = S->Gv + E->R_dr + S->R_col + E->R_ox + S->Ldt - E->b1 * w + E->R_ret * r;
        l.c = S->p_v - p_tip + E->b0 * w * w + S->Ldt * S->Q_prev;
        l.one_way = 0;
        real Q = ht_valve_solve_affine(&l, 0, 0);
        real dd = 2 * l.a * fabs(Q) + l.b;
        if (!isfinite(Q) || !(dd > 0)) return HT_FAIL_BOUNDARY;
        f->Q = Q;
        f->Q_ret = r * Q;
        f->Q_dpc = Q - f->Q_ret;
        f->dQret_dp = -r / dd;
        return HT_OK;
    }
    /* RESISTANCE: safeguarded Newton on Q, bracket grown from the previous flow */
    real F, dF, Qr, Qd, dr, dd;
    real step = ht_max(fabs(S->Q_prev), HT_LPM);
    real lo = S->Q_prev - step, hi = S->Q_prev + step;
    int k;
    for (k = 0; k < 100; ++k) {
        if (ht_ecmo_balance(E, S, p_tip, lo, &F, &dF, &Qr, &Qd, &dr, &dd)) return HT_FAIL_BOUNDARY;
        if (F > 0) break;
        lo -= step;
        step *= 2;
    }
    if (!(F > 0)) return HT_FAIL_BOUNDARY;
    for (k = 0; k < 100; ++k) {
        if (ht_ecmo_balance(E, S, p_tip, hi, &F, &dF, &Qr, &Qd, &dr, &dd)) return HT_FAIL_BOUNDARY;
        if (F < 0) break;
        hi += step;
        step *= 2;
    }
    if (!(F < 0)) return HT_FAIL_BOUNDARY;
    real Q = S->Q_prev > lo && S->Q_prev < hi ? S->Q_prev : 0.5 * (lo + hi);
    int ok = 0;
    for (int it = 0; it < HT_ECMO_MAXIT && !ok; ++it) {
        if (ht_ecmo_balance(E, S, p_tip, Q, &F, &dF, &Qr, &Qd, &dr, &dd)) return HT_FAIL_BOUNDARY;
        if (F == 0) {
            ok = 1;
            break;
        }
        if (F > 0) lo = Q;
        else hi = Q;
        real Qn = (dF < 0 && isfinite(dF)) ? Q - F / dF : 0.5 * (lo + hi);
        if (!(Qn > lo && Qn < hi)) Qn = 0.5 * (lo + hi);
        real dq = fabs(Qn - Q);
        Q = Qn;
        real sc = HT_ECMO_TOL * ht_max(fabs(Q), HT_ECMO_QSCALE);
        if (dq <= sc || hi - lo <= sc) ok = 1;
    }
    if (!ok) return HT_FAIL_BOUNDARY;
    if (ht_ecmo_balance(E, S, p_tip, Q, &F, &dF, &Qr, &Qd, &dr, &dd)) return HT_FAIL_BOUNDARY;
    real sum = dr + dd;
    real dQdp = (dr / sum) / dF;           /* dF/dp_tip = -dr / sum */
    real dpl = dr / sum + dQdp / sum;      /* total d p_line / d p_tip */
    f->Q = Q;
    f->Q_ret = Qr;
    f->Q_dpc = Q - Qr;
    f->dQret_dp = dr * (dpl - 1);
    return isfinite(f->dQret_dp) ? HT_OK : HT_FAIL_BOUNDARY;
}

#endif
