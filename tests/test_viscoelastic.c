/* Viscoelastic (Kelvin-Voigt) wall, kernels/viscoelastic.h:
 *
 * 1. The Thomas solve of one vessel returns the exact solution of its tridiagonal system:
 *    a small vessel with non-uniform A, A0 and Gamma; the matrix is built here from the
 *    formula of viscoelastic.h (independently of ht_visco_row), the right-hand side from a
 *    chosen solution, and the solve must give that solution back to round-off.
 *
 * 2. Damping of a standing wave against linear theory. A uniform inviscid vessel closed at
 *    both ends (inflow 0; reflection outlet with Rt = 1, which gives u = 0: W2 = -4c0 -
 *    (W1 - 4c0) means u = (W1 + W2)/2 = 0) starts from A = A0 (1 + eps cos(pi x / L)), Q = 0,
 *    i.e. its fundamental mode k = pi / L. Linearised about A0 (a = A - A0):
 *      a_t + q_x = 0,  q_t + (A0/rho) p_x = 0,  p = K (sqrt(A) - sqrt(A0)) + Gamma/(A0 sqrt(A)) a_t
 *    give a_tt = c0^2 a_xx + nu0 a_xxt with c0^2 = K sqrt(A0) / (2 rho), nu0 = Gamma / (rho sqrt(A0)),
 *    so a ~ exp(s t) cos(k x) with s^2 + nu0 k^2 s + c0^2 k^2 = 0: the amplitude decays as
 *    exp(-nu0 k^2 t / 2) whatever the (weak) damping does to the frequency. The amplitude is
 *    the projection of a onto cos(k x), sampled every step; the decay rate is the
 *    least-squares slope of log |extremum| over the extrema of several periods (each
 *    extremum refined by a parabola through three samples). Checked: the measured rate is
 *    within 2% of theory, and the same run with Gamma = 0 (numerical damping alone; limiter
 *    `none`, second order without clipping at the extrema) decays at under 2% of it. */
#include "testutil.h"
#include "viscoelastic.h"
#include "cpu/step_cpu.h"
#include <math.h>

static void test_thomas(void)
{
    enum { M = 7 };
    int cell_vessel[M + 2], first[2] = {0, 2}, nvc[2] = {2, M};
    real dxs[2] = {0.01, 0.004}, s0[M + 2], Gam[M + 2], A[M + 2], Q[M + 2], cp[M + 2];
    for (int i = 0; i < M + 2; ++i) {
        cell_vessel[i] = i < 2 ? 0 : 1;
        s0[i] = 0.01 * (1 + 0.05 * i);
        Gam[i] = 0.3 + 0.1 * sin(1.0 + i);
        A[i] = s0[i] * s0[i] * (1.1 + 0.07 * cos(2.0 * i));
    }
    ht_net n;
    memset(&n, 0, sizeof n);
    n.n_cells = M + 2;
    n.n_vessels = 2;
    n.rho = 1050;
    n.cell_vessel = cell_vessel;
    n.vessel_first = first;
    n.vessel_n = nvc;
    n.vessel_dx = dxs;
    n.sqrtA0 = s0;
    n.Gamma = Gam;
    real dt = 2e-3;
    /* independent matrix of vessel 1 (cells 2..M+1): r_j (g_{j-1/2} (Q_j - Q_{j-1}) -
     * g_{j+1/2} (Q_{j+1} - Q_j)) + Q_j, with zero face coefficients at both ends */
    double g[M], lo[M], di[M], up[M], x[M], rhs[M];
    for (int j = 0; j < M; ++j) {
        int i = 2 + j;
        g[j] = Gam[i] / (s0[i] * s0[i] * sqrt(A[i]));
    }
    for (int j = 0; j < M; ++j) {
        int i = 2 + j;
        double r = dt * A[i] / (n.rho * dxs[1] * dxs[1]);
        double gl = j > 0 ? 0.5 * (g[j - 1] + g[j]) : 0;
        double gr = j < M - 1 ? 0.5 * (g[j] + g[j + 1]) : 0;
        lo[j] = -r * gl;
        up[j] = -r * gr;
        di[j] = 1 + r * (gl + gr);
        x[j] = 1e-5 * (1 + 0.3 * j - 0.05 * j * j);
        /* the matrix must not be close to the identity, or the check would be weak */
        CHECK(r * (gl + gr) > 0.5 || j == 0 || j == M - 1, "weak coupling at row %d: %g", j, r * (gl + gr));
    }
    for (int j = 0; j < M; ++j) {
        rhs[j] = di[j] * x[j];
        if (j > 0) rhs[j] += lo[j] * x[j - 1];
        if (j < M - 1) rhs[j] += up[j] * x[j + 1];
    }
    Q[0] = 3e-6;
    Q[1] = -2e-6;
    for (int j = 0; j < M; ++j) Q[2 + j] = rhs[j];
    ht_state U = {A, Q, NULL};
    ht_visco_vessel(&n, &U, cp, 1, dt);
    for (int j = 0; j < M; ++j) CHECK_CLOSE(Q[2 + j], x[j], 1e-13, "Thomas solution");
    /* the other vessel is untouched, and its rows agree with the formula */
    CHECK(Q[0] == 3e-6 && Q[1] == -2e-6, "vessel 0 changed by the solve of vessel 1");
    for (int j = 0; j < M; ++j) {
        real a, b, c;
        ht_visco_row(&n, A, 1, j, dt, &a, &b, &c);
        CHECK_CLOSE(a, lo[j], 1e-14, "row lower");
        CHECK_CLOSE(b, di[j], 1e-14, "row diagonal");
        CHECK_CLOSE(c, up[j], 1e-14, "row upper");
    }
    /* Gamma = (2/3) sqrt(pi) phi h */
    CHECK_CLOSE(ht_visco_gamma(5e3, 1e-3), 2.0 / 3.0 * sqrt(HT_PI) * 5e3 * 1e-3, 1e-15, "Gamma");
}

/* Run the closed vessel with wall viscosity phi; return the measured decay rate (1/s) of
 * the fundamental mode, and the theoretical one in *theory. */
static double damping_run(double phi, int cells, double periods, double *theory, double *period_out)
{
    const double L = 1.0, r0 = 0.01, E = 4e5, h = 1e-3, eps = 1e-4;
    ht_case c = tu_case(1, 2, 1, 1, 0);
    c.rho = 1050;
    c.mu = 0;
    c.tracer = 0;
    c.limiter = HT_LIMITER_NONE;
    c.cfl = 0.5;
    tu_vessel(&c, 0, "tube", 0, 1, L, r0, r0, E, h, cells);
    c.vessels[0].phi = phi;
    c.inlets[0].vessel = 0;
    c.inlets[0].kind = HT_INLET_FLOW;
    c.inlets[0].wave.kind = HT_WAVE_CONSTANT;
    c.inlets[0].wave.value = 0;
    c.inlets[0].wave.scale = 1;
    c.outlets[0].vessel = 0;
    c.outlets[0].kind = HT_OUTLET_REFLECTION;
    c.outlets[0].Rt = 1;
    ht_network nw;
    ht_error err;
    double rate = NAN;
    if (ht_network_build(&c, &nw, &err)) {
        CHECK(0, "%s", err.msg);
        tu_case_free(&c);
        return rate;
    }
    const ht_net *n = &nw.net;
    CHECK((phi > 0) == (n->Gamma != NULL), "Gamma array present iff the wall is viscous");
    double A0 = nw.sqrtA0[0] * nw.sqrtA0[0];
    double c0 = sqrt(nw.K[0] * nw.sqrtA0[0] / (2 * c.rho));
    double k = HT_PI / L;
    double Gamma = ht_visco_gamma(phi, h);
    double nu0 = Gamma / (c.rho * sqrt(A0));
    *theory = 0.5 * nu0 * k * k;
    double omega = sqrt(c0 * c0 * k * k - ht_sq(0.5 * nu0 * k * k));
    double T = 2 * HT_PI / omega;
    *period_out = T;

    ht_solver s;
    if (ht_solver_init(&s, &nw)) {
        CHECK(0, "init");
        ht_network_free(&nw);
        tu_case_free(&c);
        return rate;
    }
    for (int i = 0; i < n->n_cells; ++i) {
        s.U.A[i] = A0 * (1 + eps * cos(k * nw.x[i]));
        s.U.Q[i] = 0;
    }
    /* step by step (ht_cpu_step, which takes its own CFL step: what ht_solver_advance
     * does), projecting after each step */
    size_t cap = 1 << 20, ns = 0;
    double *ts = malloc(cap * sizeof *ts), *as = malloc(cap * sizeof *as);
    double *pt = malloc(4096 * sizeof *pt), *pv = malloc(4096 * sizeof *pv);
    int np = 0;
    double t_end = periods * T;
    s.clk[0].t = 0;
    s.clk[0].t_stop = t_end;
    double dx = L / n->n_cells;
    while (s.clk[0].t < t_end && ns < cap) {
        double proj = 0;
        for (int i = 0; i < n->n_cells; ++i) proj += (s.U.A[i] - A0) * cos(k * nw.x[i]);
        ts[ns] = s.clk[0].t;
        as[ns] = proj * dx * 2 / L / A0; /* relative amplitude, eps at t = 0 */
        ++ns;
        if (ht_cpu_step(n, &s.U, &s.w, &s.clk[0], 0)) {
            CHECK(0, "step failed: code %d at cell %d", s.clk[0].fail, s.clk[0].fail_index);
            break;
        }
    }
    /* extrema of the sampled amplitude (both signs), refined by a parabola */
    for (size_t j = 1; j + 1 < ns && np < 4096; ++j) {
        double y0 = as[j - 1], y1 = as[j], y2 = as[j + 1];
        int is_max = y1 > y0 && y1 >= y2, is_min = y1 < y0 && y1 <= y2;
        if (!is_max && !is_min) continue;
        /* equal spacing is not guaranteed (dt follows the state), but is constant to
         * round-off here: the state is a tiny perturbation of rest */
        double h2 = ts[j + 1] - ts[j], h1 = ts[j] - ts[j - 1];
        double d1 = (y1 - y0) / h1, d2 = (y2 - y1) / h2;
        double curv = (d2 - d1) / (0.5 * (h1 + h2));
        double slope = 0.5 * (d1 + d2);
        double tau = curv != 0 ? -slope / curv : 0;
        double ypk = y1 + slope * tau + 0.5 * curv * tau * tau;
        if (ts[j] < 0.25 * T) continue; /* skip the start (t = 0 is itself an extremum) */
        pt[np] = ts[j] + tau;
        pv[np] = log(fabs(ypk));
        ++np;
    }
    CHECK(np >= 6, "only %d extrema found", np);
    if (np >= 2) {
        double st = 0, sv = 0, stt = 0, stv = 0;
        for (int j = 0; j < np; ++j) {
            st += pt[j];
            sv += pv[j];
            stt += pt[j] * pt[j];
            stv += pt[j] * pv[j];
        }
        double slope = (np * stv - st * sv) / (np * stt - st * st);
        rate = -slope;
        /* the extrema are half a period apart */
        double half = (pt[np - 1] - pt[0]) / (np - 1);
        printf("  phi = %g Pa s, %d cells: %d extrema, half period %.6f s (theory %.6f s), "
               "decay rate %.6g 1/s (linear theory %.6g 1/s), decay per period %.3f%%\n",
               phi, cells, np, half, 0.5 * T, rate, *theory, 100 * (1 - exp(-rate * T)));
    }
    free(ts);
    free(as);
    free(pt);
    free(pv);
    ht_solver_free(&s);
    ht_network_free(&nw);
    tu_case_free(&c);
    return rate;
}

static void test_damping(void)
{
    /* E = 400 kPa, h = 1 mm, r = 1 cm: c0 ~ 5 m/s, T ~ 0.4 s for L = 1 m; phi = 250 Pa s
     * gives nu0 ~ 0.016 m^2/s and ~3% amplitude loss per period */
    const double phi = 250;
    const int cells = 400;
    const double periods = 6;
    double th_v, th_e, T;
    double rv = damping_run(phi, cells, periods, &th_v, &T);
    double re = damping_run(0, cells, periods, &th_e, &T);
    CHECK(isfinite(rv) && isfinite(re), "no rate measured");
    CHECK_CLOSE(rv, th_v, 0.02, "viscoelastic decay rate vs linear theory");
    CHECK(fabs(re) < 0.02 * th_v, "numerical damping %.3g 1/s not small against the viscous %.3g 1/s",
          re, th_v);
    printf("  viscous decay rate %.6g 1/s vs theory %.6g 1/s (rel. diff %.2e); numerical damping "
           "alone %.3g 1/s (%.2f%% of the viscous)\n",
           rv, th_v, fabs(rv - th_v) / th_v, re, 100 * fabs(re) / th_v);
}

int main(void)
{
    test_thomas();
    test_damping();
    return tu_finish("test_viscoelastic");
}
