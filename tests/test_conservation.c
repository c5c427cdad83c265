/* Conservation of mass and boundedness of the tracer over a pulsatile run through a
 * tapered bifurcation and a 4-way junction with windkessel, resistance and reflection
 * outlets. The volume that entered minus what left must equal the change of stored volume
 * to round-off; the ECMO fraction (1 at the inlet, 0 initially) must stay inside [0, 1]
 * while its front passes both junctions. */
#include "testutil.h"
#include "step.h"

int main(void)
{
    /* nodes: 0 inlet, 1 bifurcation, 2 4-way junction, 3..6 outlets */
    ht_case c = tu_case(6, 7, 1, 4, 0);
    c.rho = 1060;
    c.mu = 4e-3;
    tu_vessel(&c, 0, "aorta", 0, 1, 0.2, 0.012, 0.009, 4e5, 0, 60);
    tu_vessel(&c, 1, "left", 1, 3, 0.15, 0.006, 0.005, 6e5, 0, 45);
    tu_vessel(&c, 2, "right", 1, 2, 0.1, 0.007, 0.006, 6e5, 0, 30);
    tu_vessel(&c, 3, "r1", 2, 4, 0.1, 0.004, 0.004, 8e5, 0, 30);
    tu_vessel(&c, 4, "r2", 2, 5, 0.12, 0.003, 0.003, 8e5, 0, 30);
    tu_vessel(&c, 5, "r3", 2, 6, 0.08, 0.0035, 0.003, 8e5, 0, 30);
    for (int v = 0; v < 6; ++v) c.vessels[v].p_ref = 1e4;
    c.p_init = 1e4;
    double amp[2] = {6e-5, 3e-5}, ph[2] = {0, -1.2};
    tu_fourier_inlet(&c, 0, 2, amp, ph);
    int ov[4] = {1, 3, 4, 5};
    for (int k = 0; k < 4; ++k) {
        c.outlets[k].vessel = ov[k];
        c.outlets[k].kind = HT_OUTLET_WINDKESSEL;
        c.outlets[k].R1 = 1e8;
        c.outlets[k].C = 5e-10;
        c.outlets[k].R2 = 1e9;
        c.outlets[k].p_out = 1e3;
    }
    c.outlets[2].kind = HT_OUTLET_RESISTANCE;
    c.outlets[2].C = c.outlets[2].R2 = 0;
    c.outlets[2].R1 = 3e9;
    c.outlets[3].kind = HT_OUTLET_REFLECTION;
    c.outlets[3].Rt = 0.3;
    ht_network nw;
    ht_error err;
    if (ht_network_build(&c, &nw, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    CHECK(nw.net.n_junctions == 2, "junctions %d", nw.net.n_junctions);
    ht_solver s;
    CHECK(ht_solver_init(&s, &nw) == 0, "init");
    double V0 = ht_solver_volume(&s, 0);
    double cmin = 1, cmax = 0;
    for (int k = 1; k <= 40; ++k) {
        CHECK(ht_solver_advance(&s, 0.05 * k) == 0, "run failed at step %ld", s.clk[0].step);
        for (int i = 0; i < nw.net.n_cells; ++i) {
            double ci = s.U.C[i] / s.U.A[i];
            cmin = fmin(cmin, ci);
            cmax = fmax(cmax, ci);
        }
    }
    double V1 = ht_solver_volume(&s, 0);
    double vin = s.w.vol_in[0], vout = 0;
    for (int k = 0; k < 4; ++k) vout += s.w.vol_out[k];
    double imbalance = (V1 - V0) - (vin - vout);
    printf("stored %.9e -> %.9e m^3, in %.9e, out %.9e, imbalance %.3e (%.2e of inflow)\n", V0, V1,
           vin, vout, imbalance, fabs(imbalance) / vin);
    printf("ECMO fraction range over the run: [%.3e, 1 + %.3e]\n", cmin, cmax - 1);
    CHECK(fabs(imbalance) <= 1e-12 * vin, "mass not conserved: %.3e of the inflow", fabs(imbalance) / vin);
    CHECK(cmin >= -1e-12 && cmax <= 1 + 1e-12, "tracer outside [0, 1]: [%g, %g]", cmin, cmax);
    CHECK(cmax > 0.99, "the tracer front never arrived (max %g)", cmax);
    ht_solver_free(&s);
    ht_network_free(&nw);
    tu_case_free(&c);
    return tu_finish("test_conservation");
}
