/* Unit tests of the numerical core (the kernels/ headers) against independent derivations:
 * finite differences of the tube law, the flux Jacobian's eigenvalues, limiter
 * definitions, conservation and total-pressure continuity at junctions, and a windkessel
 * in steady flow. */
#include "testutil.h"
#include "tubelaw.h"
#include "limiter.h"
#include "flux.h"
#include "junction.h"
#include "boundary.h"

static void test_tubelaw(void)
{
    double r0 = 0.01, E = 4e5, h = 1.5e-3, rho = 1050, p0 = 1000;
    double A0 = HT_PI * r0 * r0, K = ht_stiffness(E, h, A0);
    /* beta = 4/3 sqrt(pi) E h (Boileau et al. 2015 eq. 3) */
    CHECK_CLOSE(K * A0, 4.0 / 3.0 * sqrt(HT_PI) * E * h, 1e-14, "beta");
    /* benchmark 1: c0 = sqrt(beta / (2 rho A0^(1/2))) = 6.17 m/s */
    CHECK_CLOSE(ht_wave_speed(A0, K, rho), 6.17, 2e-3, "single-pulse wave speed");
    double A = 1.3 * A0;
    double p = ht_pressure(A, sqrt(A0), K, p0);
    double s = ht_sqrtA_from_p(p, sqrt(A0), K, p0);
    CHECK_CLOSE(s * s, A, 1e-14, "inverse tube law");
    double eps = 1e-6 * A;
    double dpdA = (ht_pressure(A + eps, sqrt(A0), K, p0) - ht_pressure(A - eps, sqrt(A0), K, p0)) / (2 * eps);
    double c = ht_wave_speed(A, K, rho);
    CHECK_CLOSE(c * c, A / rho * dpdA, 1e-8, "c^2 = A/rho dp/dA");
    double dPi = (ht_pressure_flux(A + eps, K, rho) - ht_pressure_flux(A - eps, K, rho)) / (2 * eps);
    CHECK_CLOSE(dPi, A / rho * dpdA, 1e-8, "dPi/dA = A/rho dp/dA");
    double dW = (4 * ht_wave_speed(A + eps, K, rho) - 4 * ht_wave_speed(A - eps, K, rho)) / (2 * eps);
    CHECK_CLOSE(dW, c / A, 1e-8, "d(4c)/dA = c/A (Riemann invariant)");
    CHECK_CLOSE(ht_area_from_c(c, K, rho), A, 1e-13, "A from c");
    /* eigenvalues of the flux Jacobian, by finite differences, alpha = 1.1 */
    double alpha = 1.1, Q = 0.3 * A * c;
    double J[2][2];
    double fa1, fq1, fa2, fq2;
    ht_phys_flux(A + eps, Q, K, rho, alpha, &fa1, &fq1);
    ht_phys_flux(A - eps, Q, K, rho, alpha, &fa2, &fq2);
    J[0][0] = (fa1 - fa2) / (2 * eps);
    J[1][0] = (fq1 - fq2) / (2 * eps);
    double epq = 1e-6 * fabs(Q);
    ht_phys_flux(A, Q + epq, K, rho, alpha, &fa1, &fq1);
    ht_phys_flux(A, Q - epq, K, rho, alpha, &fa2, &fq2);
    J[0][1] = (fa1 - fa2) / (2 * epq);
    J[1][1] = (fq1 - fq2) / (2 * epq);
    double tr = J[0][0] + J[1][1], det = J[0][0] * J[1][1] - J[0][1] * J[1][0];
    double l1 = 0.5 * (tr - sqrt(tr * tr - 4 * det)), l2 = 0.5 * (tr + sqrt(tr * tr - 4 * det));
    double lm, lp;
    ht_eigen(A, Q, K, rho, alpha, &lm, &lp);
    CHECK_CLOSE(lm, l1, 1e-6, "lambda-");
    CHECK_CLOSE(lp, l2, 1e-6, "lambda+");
    /* openBF's empirical thickness at r = 1 cm: 0.01 (0.2802 e^-5.053 + 0.1324 e^-0.1114) */
    CHECK_CLOSE(ht_empirical_thickness(0.01), 0.01 * (0.2802 * exp(-5.053) + 0.1324 * exp(-0.1114)), 1e-14, "h(r)");
}

static void test_limiters(void)
{
    CHECK(ht_limit(HT_LIM_MINMOD, 1, 3) == 1, "minmod(1,3)");
    CHECK(ht_limit(HT_LIM_MINMOD, -2, -1) == -1, "minmod(-2,-1)");
    CHECK(ht_limit(HT_LIM_MINMOD, 1, -1) == 0, "minmod at extremum");
    CHECK(ht_limit(HT_LIM_MC, 1, 3) == 2, "MC(1,3) = min(2, 6, 2)");
    CHECK(ht_limit(HT_LIM_MC, 1, 1.2) == 1.1, "MC central");
    CHECK(ht_limit(HT_LIM_SUPERBEE, 1, 3) == 2, "superbee(1,3) = max(min(2,3), min(1,6))");
    CHECK(ht_limit(HT_LIM_SUPERBEE, 1, 1.5) == 1.5, "superbee(1,1.5)");
    CHECK(ht_limit(HT_LIM_SUPERBEE, 1, -1) == 0, "superbee at extremum");
    /* TVD region: 0 <= phi(r) <= min(2r, 2) with r = dm/dp */
    for (int k = 1; k < 40; ++k) {
        double r = 0.1 * k;
        for (int lim = 0; lim < 3; ++lim) {
            double phi = ht_limit(lim, r, 1);
            CHECK(phi >= 0 && phi <= fmin(2 * r, 2) + 1e-15, "limiter %d outside TVD region at r = %g", lim, r);
        }
    }
}

static void test_flux(void)
{
    double rho = 1060, alpha = 1, A0 = 3e-4, K = ht_stiffness(4e5, 1.2e-3, A0);
    ht_uq U = {3.3e-4, 1e-4};
    double fa, fq, ga, gq;
    ht_hll(U, U, K, rho, alpha, &fa, &fq);
    ht_phys_flux(U.A, U.Q, K, rho, alpha, &ga, &gq);
    CHECK_CLOSE(fa, ga, 1e-15, "HLL consistency (mass)");
    CHECK_CLOSE(fq, gq, 1e-15, "HLL consistency (momentum)");
    /* Hydrostatic reconstruction at rest across a jump of K and A0: equal pressures on both
     * sides must give momentum fluxes that balance each cell exactly. */
    double s0L = sqrt(3e-4), s0R = sqrt(2e-4), KL = 2e7, KR = 5e7, p0 = 1e4, p = 1.2e4;
    double aL = ht_sqrtA_from_p(p, s0L, KL, p0), aR = ht_sqrtA_from_p(p, s0R, KR, p0);
    ht_uq L = {aL * aL, 0}, R = {aR * aR, 0};
    ht_face_in fl = {L.A, aL, L.Q, s0L, KL, 1 / KL}, fr = {R.A, aR, R.Q, s0R, KR, 1 / KR};
    ht_face_flux F = ht_flux_hr(fl, fr, p0, ht_blood_of(rho, alpha));
    CHECK(fabs(F.fa) <= 1e-14 * L.A * ht_wave_speed(L.A, KL, rho), "no mass flux at rest, got %g", F.fa);
    CHECK_CLOSE(F.fq_left, ht_pressure_flux(L.A, KL, rho), 1e-14, "left cell sees its own Pi");
    CHECK_CLOSE(F.fq_right, ht_pressure_flux(R.A, KR, rho), 1e-14, "right cell sees its own Pi");
    CHECK(ht_tracer_flux(2.0, 0.3, 0.9) == 0.6 && ht_tracer_flux(-2.0, 0.3, 0.9) == -1.8, "upwind tracer");
}

/* The junction's Newton step (the arrow-shaped system solved in closed form) against
 * Gaussian elimination with partial pivoting of the full matrix, for 2 to HT_JUNCTION_MAX
 * ends with coefficients of the signs a subsonic junction has (a_k < 0 < d_k) and of
 * mixed signs too; and a zero pivot reported, not divided by. */
static void test_junction_step(void)
{
    unsigned seed = 12345;
    for (int trial = 0; trial < 200; ++trial) {
        int m = 2 + trial % (HT_JUNCTION_MAX - 1);
        double a[HT_JUNCTION_MAX], d[HT_JUNCTION_MAX], f[HT_JUNCTION_MAX], x[HT_JUNCTION_MAX];
        double J[HT_JUNCTION_MAX][HT_JUNCTION_MAX] = {{0}};
        for (int k = 0; k < m; ++k) {
            seed = seed * 1103515245u + 12345u;
            double r1 = (seed >> 8) / 16777216.0;
            seed = seed * 1103515245u + 12345u;
            double r2 = (seed >> 8) / 16777216.0;
            seed = seed * 1103515245u + 12345u;
            double r3 = (seed >> 8) / 16777216.0;
            int mixed = trial % 3 == 0;
            a[k] = mixed ? r1 - 0.5 : -(0.1 + r1);
            d[k] = mixed ? r2 - 0.3 : 0.1 + r2;
            f[k] = r3 - 0.5;
        }
        for (int k = 0; k < m; ++k) J[0][k] = a[k];
        for (int k = 1; k < m; ++k) {
            J[k][0] = -d[0];
            J[k][k] = d[k];
        }
        /* reference: elimination with partial pivoting */
        for (int k = 0; k < m; ++k) x[k] = f[k];
        for (int col = 0; col < m; ++col) {
            int piv = col;
            for (int r = col + 1; r < m; ++r)
                if (fabs(J[r][col]) > fabs(J[piv][col])) piv = r;
            for (int c = 0; c < m; ++c) {
                double t = J[col][c];
                J[col][c] = J[piv][c];
                J[piv][c] = t;
            }
            double t = x[col];
            x[col] = x[piv];
            x[piv] = t;
            for (int r = col + 1; r < m; ++r) {
                double g = J[r][col] / J[col][col];
                for (int c = col; c < m; ++c) J[r][c] -= g * J[col][c];
                x[r] -= g * x[col];
            }
        }
        for (int r = m - 1; r >= 0; --r) {
            double acc = x[r];
            for (int c = r + 1; c < m; ++c) acc -= J[r][c] * x[c];
            x[r] = acc / J[r][r];
        }
        CHECK(ht_junction_newton_step(m, a, d, f) == 0, "trial %d: step refused", trial);
        double scale = 0;
        for (int k = 0; k < m; ++k) scale = fmax(scale, fabs(x[k]));
        for (int k = 0; k < m; ++k)
            CHECK(fabs(f[k] - x[k]) <= 1e-9 * scale, "trial %d (m = %d): x[%d] %.17g vs %.17g", trial, m, k,
                  f[k], x[k]);
    }
    /* outside the subsonic range: d_1 = 0 (an end at exactly sonic speed) is refused, not
     * divided by, and f is left as it was */
    double a[2] = {-1, -1}, d[2] = {1, 0}, f[2] = {1, 1};
    CHECK(ht_junction_newton_step(2, a, d, f) == 1 && f[0] == 1 && f[1] == 1, "zero d_1 refused");
    double dn[2] = {1, NAN};
    CHECK(ht_junction_newton_step(2, a, dn, f) == 1 && f[0] == 1 && f[1] == 1, "NaN d_1 refused");
}

static void test_junction(void)
{
    double rho = 1060;
    /* Three vessels with different stiffness and size, parent carrying flow in. */
    int s[3] = {+1, -1, -1};
    double r[3] = {0.0086, 0.006, 0.005}, Ks[3], s0[3], p0[3] = {1e4, 1e4, 1e4};
    double A[3], Q[3];
    for (int k = 0; k < 3; ++k) {
        double A0 = HT_PI * r[k] * r[k];
        Ks[k] = ht_stiffness(5e5 + 1e5 * k, 1e-3, A0);
        s0[k] = sqrt(A0);
        A[k] = 1.1 * A0;
        Q[k] = k == 0 ? 2e-5 : 0.4e-5;
    }
    double W[3];
    for (int k = 0; k < 3; ++k) W[k] = Q[k] / A[k] + 4 * s[k] * ht_wave_speed(A[k], Ks[k], rho);
    int it = ht_junction_solve(3, s, s0, Ks, p0, A, Q, rho, 1e-13, 50);
    CHECK(it > 0 && it < 10, "Newton iterations %d", it);
    double mass = 0, qsum = 0;
    for (int k = 0; k < 3; ++k) {
        mass += s[k] * Q[k];
        qsum += fabs(Q[k]);
    }
    CHECK(fabs(mass) <= 1e-13 * qsum, "mass at junction: %g of %g", mass, qsum);
    double H0 = ht_pressure(A[0], s0[0], Ks[0], p0[0]) + 0.5 * rho * ht_sq(Q[0] / A[0]);
    for (int k = 1; k < 3; ++k) {
        double Hk = ht_pressure(A[k], s0[k], Ks[k], p0[k]) + 0.5 * rho * ht_sq(Q[k] / A[k]);
        CHECK_CLOSE(Hk, H0, 1e-12, "total pressure continuity");
        /* the outgoing characteristic is kept */
        CHECK_CLOSE(Q[k] / A[k] + 4 * s[k] * ht_wave_speed(A[k], Ks[k], rho), W[k], 1e-12, "characteristic");
    }
    /* Two identical vessels: the junction is invisible, state equal on both sides */
    int s2[2] = {+1, -1};
    double s02[2] = {s0[0], s0[0]}, K2[2] = {Ks[0], Ks[0]}, A2[2] = {1.1 * s0[0] * s0[0], 1.1 * s0[0] * s0[0]};
    double Q2[2] = {1e-5, 1e-5};
    CHECK(ht_junction_solve(2, s2, s02, K2, p0, A2, Q2, rho, 1e-13, 50) > 0, "conjunction");
    CHECK_CLOSE(A2[0], A2[1], 1e-13, "conjunction area");
    CHECK_CLOSE(Q2[0], 1e-5, 1e-12, "conjunction flow");
}

/* Steady flow into a resistance: the outlet solve must give p - p_out = R Q, and a
 * windkessel in steady state must give p - p_out = (R1 + R2) Q. */
static void test_outlet(void)
{
    ht_case c = tu_case(1, 2, 1, 1, 0);
    tu_vessel(&c, 0, "v", 0, 1, 0.1, 0.005, 0.005, 5e5, 5e-4, 10);
    c.inlets[0].vessel = 0;
    c.inlets[0].wave.kind = HT_WAVE_CONSTANT;
    c.inlets[0].wave.value = 5e-6;
    c.inlets[0].wave.scale = 1;
    c.outlets[0].vessel = 0;
    c.outlets[0].kind = HT_OUTLET_WINDKESSEL;
    c.outlets[0].R1 = 2e8;
    c.outlets[0].R2 = 1e9;
    c.outlets[0].C = 1e-10;
    c.outlets[0].p_out = 500;
    c.p_init = 500;
    ht_network nw;
    ht_error err;
    CHECK(ht_network_build(&c, &nw, &err) == 0, "%s", err.msg);
    ht_solver s;
    CHECK(ht_solver_init(&s, &nw) == 0, "init");
    /* slowest time constant: (R1 + R2) (C + vessel compliance 2.4e-10) ~ 0.4 s; 15 s is
     * more than 35 of them */
    int code = ht_solver_advance(&s, 15.0);
    CHECK(code == 0, "run failed %d", code);
    int last = nw.net.n_cells - 1;
    double pf = ht_pressure(s.w.fA_p[last], nw.sqrtA0[last], nw.K[last], 0);
    double q = s.w.FA[nw.net.n_faces - 1];
    CHECK_CLOSE(q, 5e-6, 1e-9, "steady outflow");
    CHECK_CLOSE(pf - 500, 1.2e9 * 5e-6, 1e-6, "p - p_out = (R1 + R2) Q");
    CHECK_CLOSE(s.w.pc[0] - 500, 1e9 * 5e-6, 1e-6, "compliance pressure = R2 Q");
    ht_solver_free(&s);
    ht_network_free(&nw);
    tu_case_free(&c);
}

/* A pressure inlet into a vessel ending in a resistance: in steady state the flow is
 * (p_in - p_out) / R (inviscid uniform vessel: no pressure drop along it). The vessel starts
 * at the inlet pressure and drains through the outlet; a step of the inlet pressure from
 * rest would instead be a discontinuity that the CFL check rightly stops at CFL 0.9. */
static void test_pressure_inlet(void)
{
    ht_case c = tu_case(1, 2, 1, 1, 0);
    tu_vessel(&c, 0, "v", 0, 1, 0.1, 0.005, 0.005, 5e5, 5e-4, 20);
    c.inlets[0].vessel = 0;
    c.inlets[0].kind = HT_INLET_PRESSURE;
    c.inlets[0].wave.kind = HT_WAVE_CONSTANT;
    c.inlets[0].wave.value = 1.2e4;
    c.inlets[0].wave.scale = 1;
    c.outlets[0].vessel = 0;
    c.outlets[0].kind = HT_OUTLET_RESISTANCE;
    c.outlets[0].R1 = 1e9;
    c.outlets[0].p_out = 2e3;
    c.p_init = 1.2e4;
    ht_network nw;
    ht_error err;
    CHECK(ht_network_build(&c, &nw, &err) == 0, "%s", err.msg);
    ht_solver s;
    CHECK(ht_solver_init(&s, &nw) == 0, "init");
    /* reflections between the inlet (pressure held: reflects fully) and the resistance decay
     * by ~0.8 per 0.1 s; 12 s leaves ~1e-11 */
    int code = ht_solver_advance(&s, 12.0);
    CHECK(code == 0, "run failed: code %d cell %d t %g", code, s.clk[0].fail_index, s.clk[0].fail_t);
    double q_in = s.w.FA[0], q_out = s.w.FA[nw.net.n_faces - 1];
    CHECK_CLOSE(q_in, q_out, 1e-9, "steady: inflow = outflow");
    CHECK_CLOSE(q_out, (1.2e4 - 2e3) / 1e9, 1e-6, "Q = (p_in - p_out) / R");
    ht_solver_free(&s);
    ht_network_free(&nw);
    tu_case_free(&c);
}

int main(void)
{
    test_tubelaw();
    test_limiters();
    test_flux();
    test_junction_step();
    test_junction();
    test_outlet();
    test_pressure_inlet();
    return tu_finish("test_kernels");
}
