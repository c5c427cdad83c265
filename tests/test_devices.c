/* Mechanical circulatory support devices (kernels/impella.h, ecmo.h, watershed.h;
 * docs/devices.md), without the 1D tree.
 *
 * (a) Impella HQ: the steady flow at a head of 60 mmHg at each P-level reproduces the
 *     documented operating points: Impella 2.5 P-2..BOOST inside the IFU flow range and
 *     within 4 % of its midpoint (the fit's largest residual is 3.2 %, at P-5); CP P-8 and
 *     P-9 in 3.5-4.3 L/min, P-9 at its anchors (3.7 L/min at 60 mmHg, 5.5 at 0 mmHg);
 *     5.5 P-9 at 5.5 L/min at 60 mmHg and 110 mmHg shut-off. Flow rises with the level.
 *     Stopped pump (P-0): backflow -sqrt(dp / B_back); with the one_way option 0.
 * (b) Inertance: with constant pressures and a1 = 0 the pump ODE L dQ/dt = c0 - a Q^2 has
 *     the exact solution Q* tanh(a Q* t / L) from rest; the backward-Euler stage steps
 *     (dt = 1e-5 s, 1 s = 40 tau) follow it within 0.2 % of Q* and end on the steady HQ
 *     point; the tail decays like exp(-t / tau), tau = L / |dH/dQ|(Q*), measured rate within 1 % of 1/tau.
 * (c) Suction: a compliant LV (0.1 mmHg/mL) filled at 20 mL/s and emptied by the CP at P-9
 *     into 80 mmHg: the flow stays in [0, free flow], and p_lv settles near the suction
 *     threshold (between 0 and 3 mmHg, never below -1 mmHg); without the suction law the
 *     same run drives p_lv to about -24 mmHg (the shut-off head below p_root).
 * (d) Root solve with valve + Impella: shut ideal valve -> Q_valve = 0, face flow = pump
 *     flow exactly, the pump law holding at the returned root pressure; no pump (lin_off) ->
 *     ht_heart_root_solve's A and Q (1e-12) for forward, backward and diode valves; stopped
 *     pump with a shut valve in diastole -> backflow (regurgitation), with one_way -> the
 *     closed end of heart_root; both open -> Q = Q_valve + Q_imp and both laws hold;
 *     with the bronchial branch: no pump -> heart_root's solve with the same branch, shut
 *     valve -> Q_imp = Q_face + Q_br exactly; W2 >= 0 -> HT_FAIL_BOUNDARY.
 * (e) ECMO: at 3000 rpm the operating point (pump head = circuit losses + p_tip - p_v) equals
 *     an independent bisection written from the raw coefficients (1e-10); stepping from rest
 *     reaches it with the linearised decay rate; prescribed flow is exact (constant and
 *     table); dQ_ret/dp matches central differences (1e-6) in every mode; the distal
 *     cannula's flows add up to the pump flow; saturation mixing.
 * (f) Watershed front: step, tanh front (exact to linear interpolation), a cell at exactly
 *     c = 1/2, no-crossing conventions, non-uniform cells. Delivered fraction on a synthetic
 *     beat Q = sin(2 pi t / T), c = t / T: exactly 1/4 analytically (forward half only),
 *     midpoint sums within 1e-6; all-backward -> -1. */
#include "testutil.h"
#include "heart_presets.h"
#include "heart_root.h"
#include "impella.h"
#include "ecmo.h"
#include "watershed.h"
#include "heart_stage.h"
#include <math.h>
#include <string.h>

#define MMHG HT_MMHG
#define ML HT_ML
#define LPM HT_LPM

/* ---------------------------------------------------------------- (a) Impella HQ */
static void test_impella_hq(void)
{
    static const double lo25[10] = {0, 0, 0.8, 1.1, 1.3, 1.5, 1.7, 1.8, 2.1, 2.1};
    static const double hi25[10] = {0, 1.1, 1.5, 1.7, 1.8, 1.9, 2.1, 2.2, 2.4, 2.5};
    const double plv = 20 * MMHG, proot = 80 * MMHG; /* head 60 mmHg */
    ht_impella P;
    CHECK(ht_impella_preset(&P, 99) == -1, "unknown device");
    const char *names[3] = {"2.5", "CP", "5.5"};
    for (int dev = 0; dev < 3; ++dev) {
        CHECK(ht_impella_preset(&P, dev) == 0, "preset %d", dev);
        printf("Impella %s: a0 = %.5g mmHg/rpm^2, a2 = %.5g mmHg s^2/mL^2, B_back = %.5g, "
               "L = %.4g mmHg s^2/mL\n", names[dev], P.a0 / MMHG, P.a2 / (MMHG / (ML * ML)),
               P.B_back / (MMHG / (ML * ML)), P.L / (MMHG / ML));
        double prev = -1e30;
        for (int k = 1; k < HT_IMPELLA_NLEVEL; ++k) {
            double w = ht_impella_rpm(&P, k);
            double Q = ht_impella_steady_flow(&P, w, plv, proot);
            double Q0 = ht_impella_steady_flow(&P, w, plv, plv);
            printf("  P-%d %6.0f rpm: Q(60 mmHg) = %.3f L/min, Q(0 mmHg) = %.3f L/min, "
                   "shut-off %.1f mmHg", k, w, Q / LPM, Q0 / LPM, P.a0 * w * w / MMHG);
            CHECK(Q > prev, "flow rises with the level");
            prev = Q;
            if (Q > 0)
                CHECK_CLOSE(ht_impella_head(&P, w, Q), proot - plv, 1e-9, "head at the point");
            if (dev == HT_IMPELLA_25 && k >= 2) {
                double mid = 0.5 * (lo25[k] + hi25[k]);
                printf("  IFU %.1f-%.1f, mid %.2f, dev %+.2f %%", lo25[k], hi25[k], mid,
                       100 * (Q / LPM - mid) / mid);
                CHECK(Q / LPM >= lo25[k] && Q / LPM <= hi25[k], "2.5 P-%d in the IFU range", k);
                CHECK(fabs(Q / LPM - mid) <= 0.04 * mid, "2.5 P-%d within 4 %% of the midpoint", k);
            }
            printf("\n");
            if (dev == HT_IMPELLA_CP && k >= 8)
                CHECK(Q / LPM >= 3.5 && Q / LPM <= 4.3, "CP P-%d: %.3f L/min", k, Q / LPM);
            if (dev == HT_IMPELLA_CP && k == 9) {
                CHECK_CLOSE(Q / LPM, 3.7, 1e-12, "CP P-9 anchor at 60 mmHg");
                CHECK_CLOSE(Q0 / LPM, 5.5, 1e-12, "CP P-9 anchor at 0 mmHg");
            }
            if (dev == HT_IMPELLA_55 && k == 9) {
                CHECK_CLOSE(Q / LPM, 5.5, 1e-12, "5.5 P-9 anchor at 60 mmHg");
                CHECK_CLOSE(P.a0 * w * w / MMHG, 110, 1e-12, "5.5 P-9 shut-off head");
            }
        }
        /* stopped pump: open conduit, regurgitation through the cannula */
        double dp = 70 * MMHG;
        double Qs = ht_impella_steady_flow(&P, 0, 30 * MMHG, 30 * MMHG + dp);
        printf("  P-0 (stopped) at a 70 mmHg diastolic gradient: %.3f L/min backward\n",
               Qs / LPM);
        CHECK_CLOSE(Qs, -sqrt(dp / P.B_back), 1e-12, "stopped pump leak");
        P.one_way = 1;
        CHECK(ht_impella_steady_flow(&P, 0, 30 * MMHG, 30 * MMHG + dp) == 0, "one_way: no leak");
    }
    /* a pump with a linear term: the steady point still satisfies the HQ law */
    ht_impella_preset(&P, HT_IMPELLA_CP);
    P.a1 = -0.3 * P.a0 * 46000 / (3 * LPM);
    double Q = ht_impella_steady_flow(&P, 46000, plv, proot);
    CHECK_CLOSE(ht_impella_head(&P, 46000, Q), proot - plv, 1e-9, "head with a1 != 0");
}

/* ---------------------------------------------------------------- (b) inertance */
static void test_impella_inertance(void)
{
    ht_impella P;
    ht_impella_preset(&P, HT_IMPELLA_CP);
    const double w = ht_impella_rpm(&P, 9), plv = 20 * MMHG, proot = 80 * MMHG;
    const double a = -P.a2, c0 = P.a0 * w * w - (proot - plv);
    const double Qs = sqrt(c0 / a), tau = P.L / (2 * a * Qs);
    const double dt = 1e-5;
    double Q = 0, err = 0, t = 0, e1 = 0, e2 = 0, t1 = 4 * tau, t2 = 8 * tau;
    long n = lround(1.0 / dt);
    for (long k = 1; k <= n; ++k) {
        Q = ht_impella_flow(&P, w, plv, 0, proot, Q, dt);
        t = k * dt;
        double ex = Qs * tanh(a * Qs * t / P.L);
        err = ht_max(err, fabs(Q - ex) / Qs);
        if (k == lround(t1 / dt)) e1 = Qs - Q;
        if (k == lround(t2 / dt)) e2 = Qs - Q;
    }
    double rate = log(e1 / e2) / (lround(t2 / dt) * dt - lround(t1 / dt) * dt);
    printf("Impella inertance: Q* = %.4f L/min, tau = L/|dH/dQ| = %.3f ms; max |Q - Q* tanh| / Q* "
           "= %.2e (dt = %g s); tail rate %.4f /s vs 1/tau = %.4f /s (%.2f %%)\n", Qs / LPM,
           1e3 * tau, err, dt, rate, 1 / tau, 100 * (rate * tau - 1));
    CHECK(err < 2e-3, "backward Euler vs tanh: %.3e", err);
    CHECK_CLOSE(rate, 1 / tau, 0.01, "decay rate");
    CHECK_CLOSE(Q, ht_impella_steady_flow(&P, w, plv, proot), 1e-10, "end on the HQ point");
}

/* ---------------------------------------------------------------- (c) suction */
static void run_suction(const ht_impella *P, double *p_end, double *p_min, double *q_end,
                        double *q_min, double *q_max)
{
    const double E = 0.1 * MMHG / ML, V0 = 20 * ML, Qin = 20 * ML, proot = 80 * MMHG;
    const double w = ht_impella_rpm(P, 9), dt = 1e-4;
    double V = 120 * ML, Q = 0;
    *p_min = 1e30;
    *q_min = 1e30;
    *q_max = -1e30;
    for (long k = 0; k < 300000; ++k) { /* 30 s */
        V += dt * Qin;
        double p = E * (V - V0);
        Q = ht_impella_flow(P, w, p, E, proot, Q, dt);
        V -= dt * Q;
        double pe = E * (V - V0);
        *p_min = ht_min(*p_min, pe);
        *q_min = ht_min(*q_min, Q);
        *q_max = ht_max(*q_max, Q);
        *p_end = pe;
    }
    *q_end = Q;
}

static void test_impella_suction(void)
{
    ht_impella P;
    ht_impella_preset(&P, HT_IMPELLA_CP);
    double pe, pmin, qe, qmin, qmax;
    run_suction(&P, &pe, &pmin, &qe, &qmin, &qmax);
    double qfree = ht_impella_steady_flow(&P, ht_impella_rpm(&P, 9), 10 * MMHG, 80 * MMHG);
    printf("Suction (CP P-9, LV inflow 1.2 L/min, p_root 80 mmHg): p_lv end %.3f mmHg, min "
           "%.3f mmHg; Q end %.4f L/min, range [%.4f, %.4f] L/min (free flow at 10 mmHg %.3f)\n",
           pe / MMHG, pmin / MMHG, qe / LPM, qmin / LPM, qmax / LPM, qfree / LPM);
    CHECK(pe > 0 && pe < 3 * MMHG, "p_lv settles near the threshold: %g mmHg", pe / MMHG);
    CHECK(pmin > -1 * MMHG, "p_lv never far below 0: %g mmHg", pmin / MMHG);
    CHECK(qmin >= 0 && qmax <= qfree * 1.0001, "flow bounded: [%g, %g]", qmin, qmax);
    CHECK_CLOSE(qe, 20 * ML, 1e-3, "steady pump flow = LV inflow");
    P.suc_alpha = 0;
    run_suction(&P, &pe, &pmin, &qe, &qmin, &qmax);
    printf("  without the suction law: p_lv end %.2f mmHg\n", pe / MMHG);
    CHECK(pe < -20 * MMHG, "no suction: p_lv falls to the shut-off head below p_root");
}

/* ---------------------------------------------------------------- (d) root solve */
static void test_root(void)
{
    const double rho = 1060, c0 = 5, A0 = HT_PI * 0.015 * 0.015, sA0 = sqrt(A0);
    const double K = 2 * rho * c0 * c0 / sA0, p0 = 80 * MMHG, W2 = -4 * c0, dt = 1e-4;
    const double dpdV = 0.5 * MMHG / ML;
    ht_valve av;
    ht_heart_valve_mynard(&av, 6.9, 1.5, 0.012, 0.012);
    ht_impella P;
    ht_impella_preset(&P, HT_IMPELLA_CP);
    double w9 = ht_impella_rpm(&P, 9);
    double A = 0, Q = 0, Qv = 0, Qi = 0, Ah = 0, Qh = 0;

    /* shut ideal valve: the face flow is the pump flow */
    {
        double plv = 30 * MMHG;
        ht_valve_lin vl = ht_valve_discretise(&av, 0, 0, rho, dt);
        ht_impella_lin il = ht_impella_discretise(&P, w9, plv, 50 * ML, dt);
        int rc = ht_root_solve_with_impella(K, sA0, p0, rho, W2, plv, dpdV, dt, &vl, &il, 0, 0, &A, &Q,
                                            &Qv, &Qi, NULL);
        CHECK(rc == HT_OK, "shut valve solve");
        CHECK(Qv == 0 && Qi == Q, "shut valve: Q_valve = 0, Q_imp = Q (%g %g %g)", Qv, Qi, Q);
        double proot = ht_pressure(A, sA0, K, p0);
        double dQ;
        double Qlaw = ht_impella_solve(&il, plv - proot, dpdV * dt, &dQ);
        CHECK_CLOSE(Q, Qlaw, 1e-10, "pump law at the returned root pressure");
        CHECK_CLOSE(Q, A * (W2 + 4 * ht_wave_speed(A, K, rho)), 1e-14, "characteristic");
        printf("Root, shut valve: Q_imp = %.3f mL/s, p_root = %.2f mmHg\n", Q / ML, proot / MMHG);
    }
    /* no pump: heart_root's solve */
    {
        ht_impella_lin off = ht_impella_lin_off();
        const double plvs[3] = {120 * MMHG, 10 * MMHG, 100 * MMHG};
        const double zetas[3] = {1.0, 0.3, 0.5};
        const double qprev[3] = {200 * ML, -5 * ML, 0};
        for (int k = 0; k < 4; ++k) {
            ht_valve v = av;
            if (k == 3) ht_heart_valve_diode(&v, 0.005);
            int j = k < 3 ? k : 0;
            ht_valve_lin vl = ht_valve_discretise(&v, zetas[j], qprev[j], rho, dt);
            int r1 = ht_heart_root_solve(K, sA0, p0, rho, W2, plvs[j], dpdV, dt, &vl, 0, 0, &Ah, &Qh, NULL);
            int r2 = ht_root_solve_with_impella(K, sA0, p0, rho, W2, plvs[j], dpdV, dt, &vl, &off, 0, 0,
                                                &A, &Q, &Qv, &Qi, NULL);
            CHECK(r1 == HT_OK && r2 == HT_OK, "no pump case %d", k);
            CHECK_CLOSE(A, Ah, 1e-12, "no pump: A = heart_root's");
            CHECK_CLOSE(Q, Qh, 1e-12, "no pump: Q = heart_root's");
            CHECK(Qi == 0 && Qv == Q, "no pump: all through the valve");
            printf("Root, no pump, case %d: Q = %.6f mL/s (heart_root %.6f)\n", k, Q / ML, Qh / ML);
        }
    }
    /* bronchial branch (G = 1/(65 mmHg s/mL) to 16 mmHg): no pump = heart_root's solve with the
     * same branch; with the pump the split is Q_valve + Q_imp = Q + Q_br */
    {
        ht_impella_lin off = ht_impella_lin_off();
        const double G = 1 / (65 * MMHG / ML), pb = 16 * MMHG;
        double Qb = 0, Qbh = 0;
        for (int k = 0; k < 3; ++k) {
            ht_valve v = av;
            if (k == 2) ht_heart_valve_diode(&v, 0.005);
            ht_valve_lin vl = ht_valve_discretise(&v, k == 0 ? 0 : 0.7, k == 0 ? 0 : 150 * ML, rho, dt);
            double plv = (k == 0 ? 30 : 110) * MMHG;
            int r1 = ht_heart_root_solve(K, sA0, p0, rho, W2, plv, dpdV, dt, &vl, G, pb, &Ah, &Qh, &Qbh);
            int r2 = ht_root_solve_with_impella(K, sA0, p0, rho, W2, plv, dpdV, dt, &vl, &off, G, pb, &A, &Q,
                                                &Qv, &Qi, &Qb);
            CHECK(r1 == HT_OK && r2 == HT_OK, "bronchial, no pump case %d", k);
            CHECK_CLOSE(A, Ah, 1e-12, "bronchial, no pump: A = heart_root's");
            CHECK_CLOSE(Q + Qb, Qh + Qbh, 1e-10, "bronchial, no pump: valve flow = heart_root's");
            CHECK(Qi == 0 && Qv == Q + Qb, "bronchial, no pump: all through the valve");
        }
        double plv = 30 * MMHG;
        ht_valve_lin vl = ht_valve_discretise(&av, 0, 0, rho, dt);
        ht_impella_lin il = ht_impella_discretise(&P, w9, plv, 50 * ML, dt);
        int rc = ht_root_solve_with_impella(K, sA0, p0, rho, W2, plv, dpdV, dt, &vl, &il, G, pb, &A, &Q, &Qv, &Qi,
                                            &Qb);
        double proot = ht_pressure(A, sA0, K, p0), dQ;
        CHECK(rc == HT_OK && Qv == 0 && Qi == Q + Qb, "bronchial, shut valve: Q_imp = Q + Q_br (%g %g %g)", Qi, Q, Qb);
        CHECK_CLOSE(Qb, G * (proot - pb), 1e-12, "bronchial, shut valve: Q_br = G (p_root - p_br)");
        CHECK_CLOSE(Qi, ht_impella_solve(&il, plv - proot, dpdV * dt, &dQ), 1e-10, "bronchial: pump law");
        printf("Root, shut valve, bronchial branch: Q_imp = %.3f mL/s = face %.3f + bronchial %.3f\n", Qi / ML,
               Q / ML, Qb / ML);
    }
    /* stopped pump, shut valve, diastole: regurgitation through the pump (p_lv well above the
     * suction threshold, so that the suction resistance is below 1e-30 of the loss) */
    {
        double plv = 30 * MMHG;
        ht_valve_lin vl = ht_valve_discretise(&av, 0, 0, rho, dt);
        ht_impella_lin il = ht_impella_discretise(&P, 0, plv, 0, dt);
        /* steady regurgitation: iterate stages at the fixed characteristic */
        double Qp = 0;
        for (int s = 0; s < 20000; ++s) {
            il = ht_impella_discretise(&P, 0, plv, Qp, dt);
            int rc = ht_root_solve_with_impella(K, sA0, p0, rho, W2, plv, 0, dt, &vl, &il, 0, 0, &A, &Q,
                                                &Qv, &Qi, NULL);
            CHECK(rc == HT_OK, "stopped pump solve");
            if (rc) break;
            Qp = Qi;
        }
        double proot = ht_pressure(A, sA0, K, p0);
        printf("Root, stopped pump, shut valve, p_lv 30 mmHg: Q = %.3f mL/s (%.3f L/min) at "
               "p_root %.2f mmHg; orifice law -sqrt(dp/B_back) = %.3f mL/s\n", Q / ML, Q / LPM,
               proot / MMHG, -sqrt((proot - plv) / P.B_back) / ML);
        CHECK(Q < 0 && Qi == Q && Qv == 0, "stopped pump regurgitates");
        CHECK_CLOSE(Q, -sqrt((proot - plv) / P.B_back), 1e-8, "quasi-steady leak");
        P.one_way = 1;
        il = ht_impella_discretise(&P, 0, plv, 0, dt);
        int rc = ht_root_solve_with_impella(K, sA0, p0, rho, W2, plv, dpdV, dt, &vl, &il, 0, 0, &A, &Q,
                                            &Qv, &Qi, NULL);
        ht_heart_root_solve(K, sA0, p0, rho, W2, plv, dpdV, dt, &vl, 0, 0, &Ah, &Qh, NULL);
        CHECK(rc == HT_OK && Q == 0 && A == Ah, "one_way stopped pump: the closed end");
        P.one_way = 0;
    }
    /* both open */
    {
        double plv = 100 * MMHG;
        ht_valve_lin vl = ht_valve_discretise(&av, 1, 100 * ML, rho, dt);
        ht_impella_lin il = ht_impella_discretise(&P, w9, plv, 60 * ML, dt);
        int rc = ht_root_solve_with_impella(K, sA0, p0, rho, W2, plv, dpdV, dt, &vl, &il, 0, 0, &A, &Q,
                                            &Qv, &Qi, NULL);
        CHECK(rc == HT_OK, "both open");
        double dp = plv - dpdV * dt * Q - ht_pressure(A, sA0, K, p0);
        CHECK(Qv + Qi == Q, "split adds up");
        CHECK(fabs(ht_valve_residual(&vl, dp, Qv)) <= 1e-9 * vl.w * plv, "valve law: %g",
              ht_valve_residual(&vl, dp, Qv));
        double dQ;
        CHECK_CLOSE(Qi, ht_impella_solve(&il, dp, 0, &dQ), 1e-9, "pump law");
        printf("Root, both open: Q = %.2f mL/s = valve %.2f + Impella %.2f\n", Q / ML, Qv / ML,
               Qi / ML);
        CHECK(ht_root_solve_with_impella(K, sA0, p0, rho, 0.1, plv, dpdV, dt, &vl, &il, 0, 0, &A, &Q,
                                         &Qv, &Qi, NULL) == HT_FAIL_BOUNDARY, "W2 >= 0 fails");
    }
}

/* ---------------------------------------------------------------- (e) ECMO */
/* Independent head balance from the raw coefficients (no call into ecmo.h). */
static double ecmo_balance_raw(const ht_ecmo *E, double Q, double pv, double ptip)
{
    double x = (E->col_p - pv) / E->col_width;
    double Rcol = E->col_alpha * E->col_width * log(1 + exp(x));
    double H = E->b0 * E->rpm * E->rpm + E->b1 * E->rpm * Q + E->b2 * Q * fabs(Q);
    double loss = (E->R_dr + Rcol + E->R_ox + E->R_ret) * Q +
                  (E->K_dr + E->K_ox + E->K_ret) * Q * fabs(Q);
    return H - loss - (ptip - pv);
}

static double bisect_raw(const ht_ecmo *E, double pv, double ptip)
{
    double lo = -20 * LPM, hi = 20 * LPM;
    for (int k = 0; k < 200; ++k) {
        double m = 0.5 * (lo + hi);
        if (ecmo_balance_raw(E, m, pv, ptip) > 0) lo = m;
        else hi = m;
    }
    return 0.5 * (lo + hi);
}

static double fd_check(const ht_ecmo *E, const ht_ecmo_stage *S, double p, double *ana)
{
    ht_ecmo_flows f, fp, fm;
    double h = 1e-3 * MMHG;
    ht_ecmo_tip_inflow(E, S, p, &f);
    ht_ecmo_tip_inflow(E, S, p + h, &fp);
    ht_ecmo_tip_inflow(E, S, p - h, &fm);
    *ana = f.dQret_dp;
    return (fp.Q_ret - fm.Q_ret) / (2 * h);
}

static void test_ecmo(void)
{
    ht_ecmo E;
    ht_ecmo_preset(&E);
    const double pv = 5 * MMHG, ptip = 70 * MMHG;
    ht_ecmo_flows f;
    ht_ecmo_stage S = ht_ecmo_steady_setup(&E, pv, 0, 0);
    CHECK(ht_ecmo_tip_inflow(&E, &S, ptip, &f) == HT_OK, "steady solve");
    double Qb = bisect_raw(&E, pv, ptip);
    printf("ECMO %g rpm, p_v %g, p_tip %g mmHg: Q = %.6f L/min (bisection %.6f); head %.1f mmHg, "
           "losses %.1f mmHg\n", E.rpm, pv / MMHG, ptip / MMHG, f.Q / LPM, Qb / LPM,
           ht_ecmo_head(&E, E.rpm, f.Q) / MMHG, ht_ecmo_loss(&E, f.Q) / MMHG);
    CHECK_CLOSE(f.Q, Qb, 1e-10, "operating point vs bisection");
    CHECK(f.Q_ret == f.Q && f.Q_dpc == 0, "no distal cannula");
    /* afterload sensitivity */
    ht_ecmo_flows f2;
    ht_ecmo_tip_inflow(&E, &S, ptip + 20 * MMHG, &f2);
    printf("  p_tip +20 mmHg: Q = %.3f L/min (%.3f L/min per 10 mmHg)\n", f2.Q / LPM,
           (f2.Q - f.Q) / LPM / 2);
    CHECK(f2.Q < f.Q, "flow falls with afterload");
    /* speeds for 3, 4, 5 L/min at these pressures */
    for (int k = 3; k <= 5; ++k) {
        ht_ecmo G = E;
        double lo = 0, hi = 6000;
        for (int it = 0; it < 100; ++it) {
            G.rpm = 0.5 * (lo + hi);
            ht_ecmo_tip_inflow(&G, &S, ptip, &f2);
            if (f2.Q < k * LPM) lo = G.rpm;
            else hi = G.rpm;
        }
        printf("  %d L/min at %.0f rpm (head %.0f mmHg)\n", k, G.rpm,
               ht_ecmo_head(&G, G.rpm, k * LPM) / MMHG);
    }
    /* from rest to the operating point; tail rate vs the linearised time constant */
    {
        const double dt = 1e-4;
        double Q = 0, e1 = 0, e2 = 0;
        double a = E.K_dr + E.K_ox + E.K_ret - E.b2;
        double Rl = E.R_dr + E.R_ox + E.R_ret + S.R_col - E.b1 * E.rpm;
        double tau = E.L / (2 * a * fabs(f.Q) + Rl);
        long n1 = lround(4 * tau / dt), n2 = lround(8 * tau / dt);
        for (long k = 1; k <= lround(3.0 / dt); ++k) {
            ht_ecmo_stage St = ht_ecmo_stage_setup(&E, pv, 0, 0, Q, k * dt, dt);
            ht_ecmo_flows g;
            ht_ecmo_tip_inflow(&E, &St, ptip, &g);
            Q = g.Q;
            if (k == n1) e1 = f.Q - Q;
            if (k == n2) e2 = f.Q - Q;
        }
        double rate = log(e1 / e2) / ((n2 - n1) * dt);
        printf("  from rest: tau = L / d(loss - H)/dQ = %.1f ms, tail rate %.4f /s vs %.4f /s "
               "(%.2f %%)\n", 1e3 * tau, rate, 1 / tau, 100 * (rate * tau - 1));
        CHECK_CLOSE(Q, f.Q, 1e-9, "reaches the operating point");
        CHECK_CLOSE(rate, 1 / tau, 0.01, "ECMO decay rate");
    }
    /* prescribed */
    {
        ht_ecmo P = E;
        ht_ecmo_set_prescribed(&P, 4.0);
        ht_ecmo_stage Sp = ht_ecmo_stage_setup(&P, pv, 1e6, 0, 0, 0.3, 1e-4);
        ht_ecmo_tip_inflow(&P, &Sp, ptip, &f2);
        CHECK(f2.Q == 4.0 * LPM && f2.Q_ret == f2.Q && f2.dQret_dp == 0, "prescribed constant");
        P.n_tab = 3;
        P.period = 1;
        P.t_tab[0] = 0; P.t_tab[1] = 0.5; P.t_tab[2] = 1;
        P.q_tab[0] = 1 * LPM; P.q_tab[1] = 3 * LPM; P.q_tab[2] = 2 * LPM;
        CHECK_CLOSE(ht_ecmo_prescribed_flow(&P, 0.25), 2 * LPM, 1e-15, "table t = 0.25");
        CHECK_CLOSE(ht_ecmo_prescribed_flow(&P, 1.75), 2.5 * LPM, 1e-15, "table t = 1.75");
        CHECK_CLOSE(ht_ecmo_prescribed_flow(&P, -0.25), 2.5 * LPM, 1e-15, "table t = -0.25");
        CHECK(ht_ecmo_prescribed_flow(&P, 0.5) == 3 * LPM, "table node");
        Sp = ht_ecmo_stage_setup(&P, pv, 0, 0, 0, 0.5, 1e-4);
        ht_ecmo_tip_inflow(&P, &Sp, ptip, &f2);
        CHECK(f2.Q == 3 * LPM, "prescribed table through the stage");
    }
    /* junction derivative and distal cannula, every mode */
    for (int mode = 0; mode < 2; ++mode) {
        for (int dpc = 0; dpc < 3; ++dpc) {
            ht_ecmo G = E;
            if (mode == 0) ht_ecmo_set_prescribed(&G, 4.0);
            G.dpc = dpc;
            ht_ecmo_stage St = ht_ecmo_stage_setup(&G, pv, 0.05 * MMHG / ML, 60 * MMHG, 3 * LPM,
                                                   0, 1e-3);
            int rc = ht_ecmo_tip_inflow(&G, &St, ptip, &f2);
            CHECK(rc == HT_OK, "mode %d dpc %d", mode, dpc);
            double ana, num = fd_check(&G, &St, ptip, &ana);
            printf("  mode %s, distal %s: Q %.4f, Q_ret %.4f, Q_dpc %.4f L/min, dQret/dp %.4e "
                   "(FD %.4e) m^3/(s Pa)\n", mode ? "pump" : "prescribed",
                   dpc == 0 ? "none" : dpc == 1 ? "fraction" : "resistance", f2.Q / LPM,
                   f2.Q_ret / LPM, f2.Q_dpc / LPM, ana, num);
            if (ana != 0 || num != 0) CHECK_CLOSE(ana, num, 1e-6, "dQ_ret/dp");
            CHECK(f2.Q_ret + f2.Q_dpc == f2.Q, "flows add up");
            if (dpc == 1) CHECK_CLOSE(f2.Q_dpc, G.dpc_frac * f2.Q, 1e-12, "fraction");
            if (dpc == 2) {
                /* both branches at one line pressure: p_line - p_tip and p_line - p_dist */
                double pl1 = ptip + G.R_ret * f2.Q_ret + G.K_ret * f2.Q_ret * fabs(f2.Q_ret);
                double pl2 = St.p_dist + G.R_dpc * f2.Q_dpc + G.K_dpc * f2.Q_dpc * fabs(f2.Q_dpc);
                CHECK_CLOSE(pl1, pl2, 1e-10, "one line pressure");
            }
        }
    }
    CHECK_CLOSE(ht_saturation_mix(0.3, 1.0, 0.7), 0.79, 1e-15, "saturation mix");
    CHECK(ht_saturation_mix(HT_ECMO_TRACER, E.S_oxy, E.S_native) == E.S_oxy, "pure ECMO blood");
}

/* ---------------------------------------------------------------- (f) watershed */
static void test_watershed(void)
{
    enum { N = 100 };
    real c[N], x[N];
    const double dx = 0.01, L = N * dx;
    for (int i = 0; i < N; ++i) x[i] = (i + 0.5) * dx;
    for (int i = 0; i < N; ++i) c[i] = i < 37 ? 0 : 1;
    CHECK_CLOSE(ht_watershed_front(c, x, N, L), 37 * dx, 1e-14, "step");
    /* tanh front */
    const double x0 = 0.3456, wd = 0.02;
    for (int i = 0; i < N; ++i) c[i] = 0.5 * (1 + tanh((x[i] - x0) / wd));
    int j = (int)floor(x0 / dx - 0.5);
    double expect = x[j] + (0.5 - c[j]) / (c[j + 1] - c[j]) * dx;
    double xf = ht_watershed_front(c, x, N, L);
    printf("Watershed tanh front: %.8f m (interpolated %.8f, true %.4f, error %.2e m)\n", xf,
           expect, x0, xf - x0);
    CHECK_CLOSE(xf, expect, 1e-14, "tanh front = linear interpolation");
    CHECK(fabs(xf - x0) < 0.05 * dx, "tanh front near x0");
    /* a cell at exactly 1/2 */
    for (int i = 0; i < N; ++i) c[i] = i < 50 ? 0.1 : i == 50 ? 0.5 : 0.9;
    CHECK(ht_watershed_front(c, x, N, L) == x[50], "exactly 1/2 at a centre");
    /* conventions */
    for (int i = 0; i < N; ++i) c[i] = 0.2;
    CHECK(ht_watershed_front(c, x, N, L) == L, "all native -> path length");
    for (int i = 0; i < N; ++i) c[i] = 0.8;
    CHECK(ht_watershed_front(c, x, N, L) == -1, "all ECMO -> -1");
    for (int i = 0; i < N; ++i) c[i] = i < 10 ? 0.7 : i < 20 ? 0.1 : 0.9;
    CHECK(ht_watershed_front(c, x, N, L) == -1, "ECMO at the root -> -1");
    for (int i = 0; i < N; ++i) c[i] = i < 30 ? 0 : i < 40 ? 1 : i < 50 ? 0 : 1;
    CHECK_CLOSE(ht_watershed_front(c, x, N, L), 30 * dx, 1e-14, "first crossing wins");
    /* non-uniform cells */
    real xn[4] = {0.01, 0.03, 0.08, 0.2}, cn[4] = {0, 0.2, 0.6, 1};
    CHECK_CLOSE(ht_watershed_front(cn, xn, 4, 0.25), 0.03 + 0.75 * 0.05, 1e-14, "non-uniform");
    /* delivered fraction on a synthetic beat */
    enum { M = 10000 };
    static real Q[M], cc[M];
    const double T = 0.8, dt = T / M;
    for (int k = 0; k < M; ++k) {
        double t = (k + 0.5) * dt;
        Q[k] = 1e-5 * sin(2 * HT_PI * t / T);
        cc[k] = t / T;
    }
    double fr = ht_delivered_fraction_series(Q, cc, M, dt);
    printf("Delivered fraction, Q = sin, c = t/T: %.10f (exact 0.25, error %.2e)\n", fr, fr - 0.25);
    CHECK(fabs(fr - 0.25) < 1e-6, "delivered fraction");
    for (int k = 0; k < M; ++k) cc[k] = 0.37;
    CHECK_CLOSE(ht_delivered_fraction_series(Q, cc, M, dt), 0.37, 1e-14, "constant c");
    for (int k = 0; k < M; ++k) Q[k] = -fabs(Q[k]);
    CHECK(ht_delivered_fraction_series(Q, cc, M, dt) == -1, "no forward flow -> -1");
}

/* The ECMO return as sources in the 1D cells (ht_ecmo_source_apply): the stage's pump flow
 * b dt Q enters the tip cell, or with a distal perfusion cannula (fraction f) (1 - f) of it
 * the tip and f the distal cell, as area dx and with ECMO fraction 1; nothing else moves. */
static void test_ecmo_sources(void)
{
    enum { NC = 6 };
    int cell_vessel[NC] = {0, 0, 0, 1, 1, 1};
    real dx[2] = {0.01, 0.004};
    ht_devices D;
    memset(&D, 0, sizeof D);
    D.ecmo = 1;
    ht_ecmo_preset(&D.ecmo_par);
    D.ecmo_cell = 1;
    D.dpc_cell = 4;
    ht_net n;
    memset(&n, 0, sizeof n);
    n.cell_vessel = cell_vessel;
    n.vessel_dx = dx;
    n.tracer = 1;
    n.dev = &D;
    real qs = 3.5 * LPM, dt = 1e-4, b = 0.5;
    ht_work w;
    memset(&w, 0, sizeof w);
    w.d_qecmo_s = &qs;
    for (int with = 0; with < 2; ++with) {
        D.ecmo_par.dpc = with ? HT_DPC_FRACTION : HT_DPC_NONE;
        D.ecmo_par.dpc_frac = 0.08;
        real A[NC], C[NC];
        for (int i = 0; i < NC; ++i) A[i] = C[i] = 1e-4;
        ht_state U = {A, NULL, C};
        ht_ecmo_source_apply(&n, &U, &w, 0, dt, b);
        real f = with ? 0.08 : 0, q = b * dt * qs;
        double vol = 0;
        for (int i = 0; i < NC; ++i) {
            double dA = A[i] - 1e-4;
            vol += dA * dx[cell_vessel[i]];
            CHECK(C[i] - 1e-4 == dA, "the source is ECMO blood (c = 1), cell %d", i);
            if (i != 1 && i != 4) CHECK(dA == 0, "cell %d untouched", i);
        }
        CHECK_CLOSE((A[1] - 1e-4) * dx[0], (1 - f) * q, 1e-12, "tip gets (1 - f) of the stage flow");
        CHECK_CLOSE((A[4] - 1e-4) * dx[1], f * q, 1e-10, "distal cell gets f of it");
        CHECK_CLOSE(vol, q, 1e-12, with ? "the whole stage flow enters the tree, with a DPC" : "the whole stage flow enters the tip");
    }
}

int main(void)
{
    test_ecmo_sources();
    test_impella_hq();
    test_impella_inertance();
    test_impella_suction();
    test_root();
    test_ecmo();
    test_watershed();
    return tu_finish("test_devices");
}
