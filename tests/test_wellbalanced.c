/* A fluid at rest in a strongly tapered vessel with varying stiffness, joined to a second
 * tapered vessel, must stay at rest to round-off (docs/architecture.md): no inflow, the outlet
 * held at the resting pressure. A scheme that is not well-balanced drives spurious flows
 * of order (dx)^p times the taper here. */
#include "testutil.h"
#include "step.h"

int main(void)
{
    ht_case c = tu_case(2, 3, 1, 1, 0);
    c.rho = 1060;
    c.mu = 4e-3;
    /* taper 1.5 cm -> 0.6 cm over 20 cm, with a jump of E between the two vessels */
    tu_vessel(&c, 0, "a", 0, 1, 0.2, 0.015, 0.009, 4e5, 0, 40);
    tu_vessel(&c, 1, "b", 1, 2, 0.15, 0.008, 0.004, 9e5, 0, 30);
    c.vessels[0].p_ref = c.vessels[1].p_ref = 1.0e4;
    c.p_init = 1.2e4;
    c.inlets[0].vessel = 0;
    c.inlets[0].wave.kind = HT_WAVE_CONSTANT;
    c.inlets[0].wave.scale = 1;
    c.outlets[0].vessel = 1;
    c.outlets[0].kind = HT_OUTLET_RESISTANCE;
    c.outlets[0].R1 = 1e8;
    c.outlets[0].p_out = c.p_init;
    ht_network nw;
    ht_error err;
    if (ht_network_build(&c, &nw, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    ht_solver s;
    CHECK(ht_solver_init(&s, &nw) == 0, "init");
    CHECK(ht_solver_advance(&s, 1.0) == 0, "run failed");
    double pmax = 0, umax = 0;
    for (int i = 0; i < nw.net.n_cells; ++i) {
        double p = ht_cell_pressure(&nw.net, &s.U, i);
        pmax = fmax(pmax, fabs(p - c.p_init) / c.p_init);
        double cw = ht_wave_speed(s.U.A[i], nw.K[i], c.rho);
        umax = fmax(umax, fabs(s.U.Q[i] / s.U.A[i]) / cw);
    }
    printf("after %ld steps: max |p - p_rest| / p_rest = %.3e, max |u| / c = %.3e\n", s.clk[0].step, pmax, umax);
    CHECK(pmax < 1e-12, "pressure drifted by %.3e", pmax);
    CHECK(umax < 1e-12, "velocity grew to %.3e of the wave speed", umax);
    CHECK(s.clk[0].step > 1000, "too few steps (%ld) to be a test", s.clk[0].step);
    ht_solver_free(&s);
    ht_network_free(&nw);
    tu_case_free(&c);
    return tu_finish("test_wellbalanced");
}
