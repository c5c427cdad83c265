/* Boileau et al. 2015 benchmark 1 (single pulse in a 10 m uniform tube, inviscid): the
 * pulse is small, so linear theory holds: it travels at c0 = sqrt(beta / (2 rho sqrt(A0)))
 * without change of shape, with pressure p = (rho c0 / A0) Q. Checked at 1, 3, 5, 7 m:
 * arrival time of the peak within 0.5% of 0.05 s + x / c0, peak pressure within 1% of
 * rho c0 Q_max / A0, and the width of the pulse (time above half the peak) within 1.5%, with 1 mm cells.
 * Run with the unlimited reconstruction (limiter `none`): every TVD limiter clips this
 * narrow pulse's peak (first order at extrema; the figures per limiter are in
 * docs/validation.md, printed by `test_single_pulse <limiter 0-3> <cells>`). */
#include "testutil.h"
#include "step.h"
#include "tubelaw.h"

int main(int argc, char **argv)
{
    int lim = argc > 1 ? atoi(argv[1]) : HT_LIMITER_NONE;
    ht_case c = tu_case(1, 2, 1, 1, 4);
    c.rho = 1050;
    c.mu = 0;
    c.limiter = (ht_limiter_kind)lim;
    tu_vessel(&c, 0, "tube", 0, 1, 10.0, 0.01, 0.01, 4e5, 1.5e-3, argc > 2 ? atoi(argv[2]) : 10000);
    c.inlets[0].vessel = 0;
    c.inlets[0].wave.kind = HT_WAVE_GAUSSIAN;
    c.inlets[0].wave.amplitude = 1e-6;
    c.inlets[0].wave.t0 = 0.05;
    c.inlets[0].wave.k = 1e4;
    c.inlets[0].wave.scale = 1;
    c.outlets[0].vessel = 0;
    c.outlets[0].kind = HT_OUTLET_REFLECTION;
    c.outlets[0].Rt = 0;
    double xs[4] = {1, 3, 5, 7};
    for (int k = 0; k < 4; ++k) {
        snprintf(c.probes[k].name, HT_NAME_MAX, "x%d", (int)xs[k]);
        c.probes[k].x = xs[k];
    }
    ht_network nw;
    ht_error err;
    if (ht_network_build(&c, &nw, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double A0 = HT_PI * 1e-4, K = nw.K[0];
    double c0 = ht_wave_speed(A0, K, c.rho);
    double p_peak = c.rho * c0 * 1e-6 / A0;
    /* analytic half-maximum width of exp(-k t^2): 2 sqrt(ln 2 / k) */
    double width = 2 * sqrt(log(2.0) / 1e4);
    ht_solver s;
    CHECK(ht_solver_init(&s, &nw) == 0, "init");
    CHECK(ht_solver_advance(&s, 0.05 + 7.0 / c0 + 0.1) == 0, "run failed");
    printf("c0 = %.4f m/s, analytic peak %.4f Pa, half-width %.4f ms\n", c0, p_peak, 1e3 * width);
    for (int k = 0; k < 4; ++k) {
        double best = -1, tb = 0;
        size_t rb = 0;
        for (size_t r = 0; r < s.rows[0].n; ++r)
            if (s.rows[0].p[r * 4 + k] > best) {
                best = s.rows[0].p[r * 4 + k];
                tb = s.rows[0].t[r];
                rb = r;
            }
        /* half-maximum crossings by linear interpolation */
        size_t r0 = rb, r1 = rb;
        while (r0 > 0 && s.rows[0].p[r0 * 4 + k] > 0.5 * best) --r0;
        while (r1 + 1 < s.rows[0].n && s.rows[0].p[r1 * 4 + k] > 0.5 * best) ++r1;
        double pa = s.rows[0].p[r0 * 4 + k], pb = s.rows[0].p[(r0 + 1) * 4 + k];
        double ta = s.rows[0].t[r0] + (0.5 * best - pa) / (pb - pa) * (s.rows[0].t[r0 + 1] - s.rows[0].t[r0]);
        pa = s.rows[0].p[(r1 - 1) * 4 + k];
        pb = s.rows[0].p[r1 * 4 + k];
        double tz = s.rows[0].t[r1 - 1] + (0.5 * best - pa) / (pb - pa) * (s.rows[0].t[r1] - s.rows[0].t[r1 - 1]);
        double t_exp = 0.05 + xs[k] / c0;
        printf("x = %g m: peak %.4f Pa (%.2f%%), at %.5f s (expected %.5f, %.3f%%), half-width %.3f ms (%.2f%%)\n",
               xs[k], best, 100 * (best / p_peak - 1), tb, t_exp, 100 * (tb / t_exp - 1),
               1e3 * (tz - ta), 100 * ((tz - ta) / width - 1));
        CHECK(fabs(tb - t_exp) <= 0.005 * t_exp, "arrival at x = %g", xs[k]);
        CHECK(fabs(best - p_peak) <= 0.01 * p_peak, "amplitude at x = %g", xs[k]);
        CHECK(fabs((tz - ta) - width) <= 0.015 * width, "width at x = %g", xs[k]);
    }
    ht_solver_free(&s);
    ht_network_free(&nw);
    tu_case_free(&c);
    return tu_finish("test_single_pulse");
}
