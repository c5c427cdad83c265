/* Coronary outlet (kernels/coronary.h: Kim et al. 2010, Ann Biomed Eng 38:3195; after
 * Mantero et al. 1992): Ra - Ca - Ram - Cim(P_im) - Rv - p_out.
 *
 * (1) Steady state: constant inflow, constant P_im: the face pressure is
 *     p_out + (Ra + Ram + Rv) Q, the Ca pressure p_out + (Ram + Rv) Q, the Cim-node pressure
 *     p_out + Rv Q (a constant P_im changes nothing in steady state: checked with 0 and 40 mmHg).
 * (2) Physiology: a coronary-like vessel (r 2 mm, L 5 cm) fed by a prescribed aortic pressure
 *     (~120/80 mmHg, systole the first 0.3 s of a 0.8 s beat), P_im = the prescribed LV
 *     pressure (~120 mmHg in systole, ~8 in diastole). Diastole is defined as the time where
 *     P_LV < 20 mmHg. Expected: left-coronary flow is mostly diastolic -- about 75-80% of the
 *     volume per beat in the left coronary, with low or retrograde systolic flow (Kim et al.
 *     2010, section "coronary flow"; Davies et al. 2006 Circulation 113:1768, wave intensity in
 *     the left main stem; any physiology text, e.g. Berne & Levy, "coronary circulation").
 *     Checked: more than 60% of the net inflow volume of the last beat enters in diastole, and
 *     the mean systolic inflow is below the mean diastolic one. */
#include "testutil.h"
#include "tubelaw.h"
#include <math.h>

#define MMHG 133.322387415

static void build_run(ht_case *c, ht_network *nw, ht_solver *s)
{
    ht_error err;
    int rc = ht_network_build(c, nw, &err);
    CHECK(rc == 0, "%s", err.msg);
    CHECK(ht_solver_init(s, nw) == 0, "init");
}

static void steady(double pim_const)
{
    ht_case c = tu_case(1, 2, 1, 1, 0);
    tu_vessel(&c, 0, "v", 0, 1, 0.1, 0.005, 0.005, 5e5, 5e-4, 10);
    c.inlets[0].vessel = 0;
    c.inlets[0].wave.kind = HT_WAVE_CONSTANT;
    c.inlets[0].wave.value = 5e-6;
    c.inlets[0].wave.scale = 1;
    ht_outlet_spec *o = &c.outlets[0];
    o->vessel = 0;
    o->kind = HT_OUTLET_CORONARY;
    o->R1 = 2e8;     /* Ra */
    o->Ca = 1e-10;
    o->Ram = 5e8;
    o->Cim = 2e-10;
    o->Rv = 3e8;
    o->p_out = 500;
    o->pim.kind = HT_WAVE_CONSTANT;
    o->pim.value = pim_const;
    o->pim.scale = 1;
    c.p_init = 500;
    ht_network nw;
    ht_solver s;
    build_run(&c, &nw, &s);
    /* slowest time constant: ~ R_total (Ca + Cim + vessel compliance 2.4e-10) ~ 0.6 s; 20 s
     * is more than 30 of them */
    int code = ht_solver_advance(&s, 20.0);
    CHECK(code == 0, "run failed %d", code);
    int last = nw.net.n_cells - 1;
    double pf = ht_pressure(s.w.fA_p[last], nw.sqrtA0[last], nw.K[last], 0);
    double q = s.w.FA[nw.net.n_faces - 1];
    double Q = 5e-6;
    printf("steady (P_im %g Pa): Q_out %.12g, p_face - p_out %.12g (expected %.12g), "
           "p_Ca %.12g, p_Cim %.12g\n", pim_const, q, pf - 500, 1e9 * Q, s.w.pc[0], s.w.pcim[0]);
    CHECK_CLOSE(q, Q, 1e-9, "steady outflow");
    CHECK_CLOSE(pf - 500, (2e8 + 5e8 + 3e8) * Q, 1e-6, "p - p_out = (Ra + Ram + Rv) Q");
    CHECK_CLOSE(s.w.pc[0] - 500, (5e8 + 3e8) * Q, 1e-6, "Ca pressure = p_out + (Ram + Rv) Q");
    CHECK_CLOSE(s.w.pcim[0] - 500, 3e8 * Q, 1e-6, "Cim pressure = p_out + Rv Q");
    ht_solver_free(&s);
    ht_network_free(&nw);
    tu_case_free(&c);
}

/* aortic pressure, mmHg, one 0.8 s beat: upstroke after LV isovolumic contraction, peak
 * ~120, dicrotic notch at the end of ejection (0.30 s), diastolic decay to 80 */
static const double ao_t[] = {0.00, 0.06, 0.10, 0.15, 0.22, 0.29, 0.31, 0.34, 0.45, 0.60, 0.70};
static const double ao_v[] = {80.0, 80.5, 108., 120., 116., 101., 97.0, 99.0, 93.0, 86.5, 83.0};
/* LV pressure, mmHg: isovolumic rise, ejection ~120, relaxation by 0.36 s, filling ~5-8 */
static const double lv_t[] = {0.00, 0.03, 0.06, 0.10, 0.15, 0.22, 0.28, 0.32, 0.36, 0.45, 0.70};
static const double lv_v[] = {8.00, 30.0, 82.0, 110., 121., 117., 95.0, 40.0, 6.00, 5.00, 7.00};

/* Returns the diastolic fraction of the last beat's inflow volume; pim_scale 0 is the control
 * (no intramyocardial pressure). */
static double physiology(double pim_scale)
{
    const double T = 0.8;
    ht_case c = tu_case(1, 2, 1, 1, 0);
    c.mu = 4e-3;
    c.rho = 1060;
    c.limiter = HT_LIMITER_MC;
    /* coronary-like: r 2 mm, L 5 cm, E 700 kPa, h 0.3 mm (c0 ~ 8 m/s at 0 Pa) */
    tu_vessel(&c, 0, "lad", 0, 1, 0.05, 0.002, 0.002, 7e5, 3e-4, 50);
    c.inlets[0].vessel = 0;
    c.inlets[0].kind = HT_INLET_PRESSURE;
    c.inlets[0].wave.kind = HT_WAVE_TABLE;
    c.inlets[0].wave.t = ao_t;
    c.inlets[0].wave.v = ao_v;
    c.inlets[0].wave.n = (int)(sizeof ao_t / sizeof ao_t[0]);
    c.inlets[0].wave.period = T;
    c.inlets[0].wave.scale = MMHG;
    /* a left-coronary bed: ~1 mL/s at ~95 mmHg mean (R_total 90 mmHg s/mL), split
     * Ra : Ram : Rv = 0.3 : 0.5 : 0.2; Ca 1e-3 mL/mmHg, Cim 2e-2 mL/mmHg (illustrative values of
     * the size used for a major left branch; the test is about the P_im mechanism) */
    const double Rt = 90 * MMHG * 1e6, mL_mmHg = 1e-6 / MMHG;
    ht_outlet_spec *o = &c.outlets[0];
    o->vessel = 0;
    o->kind = HT_OUTLET_CORONARY;
    o->R1 = 0.3 * Rt;
    o->Ram = 0.5 * Rt;
    o->Rv = 0.2 * Rt;
    o->Ca = 1e-3 * mL_mmHg;
    o->Cim = 2e-2 * mL_mmHg;
    o->p_out = 5 * MMHG;
    o->pim.kind = HT_WAVE_TABLE;
    o->pim.t = lv_t;
    o->pim.v = lv_v;
    o->pim.n = (int)(sizeof lv_t / sizeof lv_t[0]);
    o->pim.period = T;
    o->pim.scale = pim_scale * MMHG; /* 1: P_im = P_LV (Kim et al. 2010, left coronary) */
    c.p_init = 80 * MMHG;
    c.period = T;
    ht_network nw;
    ht_solver s;
    build_run(&c, &nw, &s);

    const int beats = 6, nsub = 800; /* 1 ms bins */
    double vd = 0, vs = 0, td = 0, ts = 0, vbeat[6] = {0}, qmin = 1e30;
    double v_prev = 0, frac = 0;
    for (int b = 0; b < beats; ++b) {
        for (int j = 0; j < nsub; ++j) {
            double t1 = b * T + (j + 1) * T / nsub, tm = t1 - 0.5 * T / nsub;
            int code = ht_solver_advance(&s, t1);
            CHECK(code == 0, "run failed: code %d cell %d t %g", code, s.clk[0].fail_index, s.clk[0].fail_t);
            if (code) goto done;
            double dv = s.w.vol_in[0] - v_prev;
            v_prev = s.w.vol_in[0];
            vbeat[b] += dv;
            if (b == beats - 1) {
                ht_waveform lv = o->pim; /* P_LV itself, whatever the P_im scale */
                lv.scale = 1;
                double plv = ht_wave_eval(&lv, tm);
                double q = dv / (T / nsub);
                if (q < qmin) qmin = q;
                if (plv < 20) { vd += dv; td += T / nsub; }
                else { vs += dv; ts += T / nsub; }
            }
        }
    }
    {
        double vtot = vd + vs;
        frac = vd / vtot;
        double qd = vd / td, qs = vs / ts;
        printf("physiology: beat volumes (mL):");
        for (int b = 0; b < beats; ++b) printf(" %.4f", 1e6 * vbeat[b]);
        printf("\nphysiology (P_im = %g P_LV): last beat %.4f mL (mean %.3f mL/s); diastole (P_LV < 20 mmHg) %.3f s of "
               "%.1f s: %.4f mL = %.1f%% of the beat; systole %.4f mL; mean flow diastole %.3f mL/s, "
               "systole %.3f mL/s; min flow %.3f mL/s\n",
               pim_scale, 1e6 * vtot, 1e6 * vtot / T, td, T, 1e6 * vd, 100 * frac, 1e6 * vs, 1e6 * qd, 1e6 * qs,
               1e6 * qmin);
        CHECK(vtot > 0, "net forward coronary flow per beat: %g", vtot);
        if (pim_scale > 0) {
            CHECK(frac > 0.6, "diastolic fraction of coronary volume %.3f <= 0.6", frac);
            CHECK(qs < 0.75 * qd, "systolic mean flow %g not clearly below diastolic %g", qs, qd);
        }
        CHECK(fabs(vbeat[beats - 1] - vbeat[beats - 2]) < 0.02 * fabs(vbeat[beats - 1]),
              "periodic: last two beats %g, %g", vbeat[beats - 2], vbeat[beats - 1]);
    }
done:
    ht_solver_free(&s);
    ht_network_free(&nw);
    tu_case_free(&c);
    return frac;
}

int main(void)
{
    steady(0);
    steady(40 * MMHG);
    double f1 = physiology(1.0), f0 = physiology(0.0);
    /* the intramyocardial pressure is what makes the flow diastolic: without it the bed is a
     * plain RCRCR and the diastolic share is about the diastolic share of time (~0.59) */
    CHECK(f1 > f0 + 0.1, "P_im raises the diastolic fraction: %.3f with, %.3f without", f1, f0);
    return tu_finish("test_coronary");
}
