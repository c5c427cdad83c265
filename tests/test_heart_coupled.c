/* The 0D heart coupled to the 1D tree (kernels/heart_stage.h), on the CPU backend through
 * ht_network_build + ht_solver, on a small tapered bifurcation (the shape of
 * tests/data/cli/tiny.yaml, built in C, coarse cells: 1 cm) with the healthy preset, closed
 * loop (both outlets drain into the systemic veins).
 *
 * (a) Volume: total blood volume (1D + outlet compliances + 0D compartments,
 *     ht_solver_total_volume) constant to 1e-9 relative over 50 cycles, checked after every
 *     output interval (every flow moves exactly what one side loses to the other: heart_root.h,
 *     boundary.h; only round-off remains). Also the 1D account: (stored end - start) -
 *     (in - out) to 1e-12 of the inflow.
 * (b) Valves: the aortic valve's backward volume per beat (from the sampled rows) stays below
 *     10 % of the stroke volume (the closing backflow of the Mynard valve: test_heart measured
 *     ~3 mL at SV 70 mL with a windkessel), and the shut valve passes exactly zero flow in
 *     mid-diastole (0.7 T .. 0.95 T).
 * (c) Periodic state: EDV and ESV of the last two beats differ by < 1e-3 (relative).
 * (d) Ensemble: two members with different LV Ees stacked by ht_network_stack and run by one
 *     ht_solver (one thread each) equal their single runs bitwise (state, heart state, heart
 *     rows, step counts) over 3 cycles.
 * (e) Diode valves: conservation as (a) and no backward aortic flow at all (5 cycles). */
#include "testutil.h"
#include "heart_presets.h"
#include "heart_stage.h"
#include <math.h>

#define MMHG HT_MMHG
#define ML HT_ML

static ht_case heart_case(int preset, double Ees, int diode, int coronary)
{
    ht_case c = tu_small_tree(80 * MMHG);
    tu_heart(&c, preset, Ees, diode ? HT_VALVE_DIODE : -1);
    c.heart.diode_R = 0.003 * HT_MMHG_S_PER_ML;
    /* total systemic resistance ~1 mmHg s/mL, compliance ~1.5 mL/mmHg, split in two */
    c.outlets[0].vessel = 1;
    c.outlets[0].kind = HT_OUTLET_WINDKESSEL;
    c.outlets[0].R1 = 0.12 * HT_MMHG_S_PER_ML;
    c.outlets[0].C = 0.7 * HT_ML_PER_MMHG;
    c.outlets[0].R2 = 1.9 * HT_MMHG_S_PER_ML;
    c.outlets[1].vessel = 2;
    c.outlets[1].kind = HT_OUTLET_WINDKESSEL;
    c.outlets[1].R1 = 0.12 * HT_MMHG_S_PER_ML;
    c.outlets[1].C = 0.7 * HT_ML_PER_MMHG;
    c.outlets[1].R2 = 1.9 * HT_MMHG_S_PER_ML;
    if (coronary) {
        /* the right branch as a coronary bed, P_im = 0.75 x the heart's LV pressure */
        c.outlets[1].kind = HT_OUTLET_CORONARY;
        c.outlets[1].R1 = 0.4 * HT_MMHG_S_PER_ML;
        c.outlets[1].Ca = 0.05 * HT_ML_PER_MMHG;
        c.outlets[1].Ram = 1.0 * HT_MMHG_S_PER_ML;
        c.outlets[1].Cim = 0.3 * HT_ML_PER_MMHG;
        c.outlets[1].Rv = 0.6 * HT_MMHG_S_PER_ML;
        c.outlets[1].C = c.outlets[1].R2 = 0;
        c.outlets[1].pim.kind = HT_WAVE_CONSTANT;
        c.outlets[1].pim.scale = 0.75;
    }
    snprintf(c.probes[0].name, sizeof c.probes[0].name, "root");
    c.probes[0].vessel = 0;
    c.probes[0].x = 0;
    return c;
}

typedef struct {
    double drift, imbalance, vin;
    double edv[64], esv[64], back[64];
    int beats;
    double qmax_diastole, qmin;
    int fail;
} coupled_out;

/* Runs `cycles` cycles, output interval T / 40; beat metrics from the heart rows (EDV at the
 * beat start, ESV the volume minimum, backward aortic volume). */
static void run_coupled(const ht_network *nw, int cycles, coupled_out *o)
{
    memset(o, 0, sizeof *o);
    ht_solver s;
    CHECK(ht_solver_init(&s, nw) == 0, "init");
    const ht_net *n = &nw->net;
    double T = nw->heart_par[0].T, tot0 = ht_solver_total_volume(&s, 0), v0 = ht_solver_volume(&s, 0);
    const int per = 40;
    double vmin = 1e30, back = 0, tprev = 0;
    o->edv[0] = s.w.hX[0].V[HT_HC_LV];
    for (int k = 1; k <= cycles * per; ++k) {
        double t = k * (T / per);
        if (k % per == 0) t = (k / per) * T;
        if (ht_solver_advance(&s, t)) {
            o->fail = 1;
            fprintf(stderr, "coupled run failed: code %d at cell %d, t %g\n", s.clk[0].fail, s.clk[0].fail_index,
                    s.clk[0].fail_t);
            break;
        }
        const ht_probe_rows *r = &s.rows[0];
        for (size_t j = 0; j < r->n; ++j) {
            const double *h = &r->h[j * HT_HEART_NSAMP];
            double tj = r->t[j], dtj = tj - tprev;
            if (dtj <= 0) continue; /* the t = 0 sample */
            tprev = tj;
            if (h[HT_HS_LV_V] < vmin) vmin = h[HT_HS_LV_V];
            if (h[HT_HS_AO_Q] < 0) back -= h[HT_HS_AO_Q] * dtj;
            if (h[HT_HS_AO_Q] < o->qmin) o->qmin = h[HT_HS_AO_Q];
            double tl = fmod(tj, T);
            if (tl > 0.7 * T && tl < 0.95 * T && fabs(h[HT_HS_AO_Q]) > o->qmax_diastole)
                o->qmax_diastole = fabs(h[HT_HS_AO_Q]);
        }
        ht_solver_probe_clear(&s);
        double d = fabs(ht_solver_total_volume(&s, 0) - tot0) / tot0;
        if (d > o->drift) o->drift = d;
        if (k % per == 0 && o->beats < 63) {
            o->esv[o->beats] = vmin;
            o->back[o->beats] = back;
            o->beats++;
            o->edv[o->beats] = s.w.hX[0].V[HT_HC_LV];
            vmin = 1e30;
            back = 0;
        }
    }
    double vin = 0, vout = 0;
    for (int k = 0; k < n->n_inlets; ++k) vin += s.w.vol_in[k];
    for (int k = 0; k < n->n_outlets; ++k) vout += s.w.vol_out[k];
    o->vin = vin;
    o->imbalance = (ht_solver_volume(&s, 0) - v0) - (vin - vout);
    ht_solver_free(&s);
}

/* variant 0: Mynard valves, 50 cycles; 1: diode valves, 5 cycles; 2: Mynard with a coronary
 * outlet (P_im from the LV), 10 cycles */
static void test_closed_loop(int variant)
{
    int diode = variant == 1;
    ht_case c = heart_case(HT_HEART_HEALTHY, 0, diode, variant == 2);
    ht_network nw;
    ht_error err;
    int rc = ht_network_build(&c, &nw, &err);
    CHECK(rc == 0, "build: %s", err.msg);
    if (rc) {
        tu_case_free(&c);
        return;
    }
    CHECK(nw.net.heart == 1 && nw.net.inlets[0].kind == HT_BC_HEART, "network has no heart");
    int cycles = variant == 0 ? 50 : variant == 1 ? 5 : 10;
    coupled_out o;
    run_coupled(&nw, cycles, &o);
    const char *name = variant == 0 ? "Mynard valves" : variant == 1 ? "diode valves" : "coronary outlet";
    CHECK(!o.fail, "%s: run failed", name);
    int b = o.beats - 1;
    double sv = o.edv[b] - o.esv[b];
    printf("%s, %d cycles: total volume drift %.3e, 1D account %.3e of the inflow; last beat EDV %.2f mL, ESV "
           "%.2f mL, SV %.2f mL, aortic backflow %.4f mL (%.2f %% of SV), max |Q_ao| in mid-diastole %.3e m^3/s\n",
           name, cycles, o.drift, fabs(o.imbalance) / o.vin, o.edv[b] / ML, o.esv[b] / ML, sv / ML, o.back[b] / ML,
           100 * o.back[b] / sv, o.qmax_diastole);
    CHECK(o.drift < 1e-9, "%s: total volume drift %.3e", name, o.drift);
    CHECK(fabs(o.imbalance) <= 1e-12 * o.vin, "%s: 1D account %.3e", name, fabs(o.imbalance) / o.vin);
    CHECK(sv > 30 * ML, "%s: the LV ejects too little: SV %.2f mL", name, sv / ML);
    for (int k = 1; k < o.beats; ++k)
        CHECK(o.back[k] < 0.10 * (o.edv[k] - o.esv[k]), "%s: beat %d: aortic backflow %.3f mL", name, k,
              o.back[k] / ML);
    /* Mynard: exactly 0 (ht_heart_stage_end zeroes a shut valve's flow state). Diode: the
     * face flux is exactly 0, but the sampled flow state is the stage-1 average, which halves
     * the last ejection flow every step (~1e-60 by mid-diastole) */
    CHECK(diode ? o.qmax_diastole < 1e-20 : o.qmax_diastole == 0, "%s: the shut aortic valve passes %.3e m^3/s",
          name, o.qmax_diastole);
    if (diode) {
        CHECK(o.qmin >= 0, "diode: backward aortic flow %g", o.qmin);
    } else if (variant == 0) {
        double dedv = fabs(o.edv[b] - o.edv[b - 1]) / o.edv[b], desv = fabs(o.esv[b] - o.esv[b - 1]) / o.esv[b];
        int first = -1;
        for (int k = 1; k < o.beats; ++k)
            if (fabs(o.edv[k] - o.edv[k - 1]) < 1e-3 * o.edv[k] && fabs(o.esv[k] - o.esv[k - 1]) < 1e-3 * o.esv[k]) {
                if (first < 0) first = k;
            } else {
                first = -1;
            }
        printf("%s: cycle-to-cycle change of the last beat: EDV %.2e, ESV %.2e; periodic (< 1e-3) from beat %d\n",
               name, dedv, desv, first + 1);
        CHECK(dedv < 1e-3 && desv < 1e-3, "not periodic: EDV change %.2e, ESV change %.2e", dedv, desv);
    }
    ht_network_free(&nw);
    tu_case_free(&c);
}

/* (d) two members in one solver, bitwise their single runs */
static void test_ensemble(void)
{
    const double ees[2] = {3.0 * HT_MMHG_PER_ML, 2.0 * HT_MMHG_PER_ML};
    ht_case c[2];
    ht_network nw[2], stack;
    ht_error err;
    for (int m = 0; m < 2; ++m) {
        c[m] = heart_case(HT_HEART_HEALTHY, ees[m], 0, 0);
        CHECK(ht_network_build(&c[m], &nw[m], &err) == 0, "build %d: %s", m, err.msg);
    }
    const ht_network *mem[2] = {&nw[0], &nw[1]};
    CHECK(ht_network_stack(mem, 2, &stack, &err) == 0, "stack: %s", err.msg);
    CHECK(stack.net.heart == 1 && stack.net.heart_par[1].lv.Ees == ees[1], "stacked heart parameters");
    ht_solver ss, s1[2];
    CHECK(ht_solver_init(&ss, &stack) == 0, "init stack");
    for (int m = 0; m < 2; ++m) CHECK(ht_solver_init(&s1[m], &nw[m]) == 0, "init %d", m);
    double T = nw[0].heart_par[0].T;
    int mc = stack.net.m_cells, same = 1;
    long rows_cmp = 0;
    for (int k = 1; k <= 3 * 20; ++k) {
        double t = k * (T / 20);
        CHECK(ht_solver_advance(&ss, t) == 0, "stack advance");
        for (int m = 0; m < 2; ++m) {
            CHECK(ht_solver_advance(&s1[m], t) == 0, "single advance %d", m);
            same &= s1[m].clk[0].step == ss.clk[m].step && s1[m].clk[0].t == ss.clk[m].t;
            same &= !memcmp(&s1[m].w.hX[0], &ss.w.hX[m], sizeof(ht_heart_state));
            for (int i = 0; i < mc; ++i)
                same &= s1[m].U.A[i] == ss.U.A[m * mc + i] && s1[m].U.Q[i] == ss.U.Q[m * mc + i] &&
                        s1[m].U.C[i] == ss.U.C[m * mc + i];
            same &= s1[m].rows[0].n == ss.rows[m].n;
            if (s1[m].rows[0].n == ss.rows[m].n) {
                same &= !memcmp(s1[m].rows[0].h, ss.rows[m].h, s1[m].rows[0].n * HT_HEART_NSAMP * sizeof(double));
                rows_cmp += (long)s1[m].rows[0].n;
            }
            ht_solver_probe_clear(&s1[m]);
        }
        ht_solver_probe_clear(&ss);
    }
    printf("ensemble of 2 (LV Ees 3.0 and 2.0 mmHg/mL), 3 cycles: %s its single runs (%ld heart rows compared); "
           "EDV %.2f / %.2f mL\n",
           same ? "bitwise equal to" : "DIFFERENT from", rows_cmp, ss.w.hX[0].V[HT_HC_LV] / ML,
           ss.w.hX[1].V[HT_HC_LV] / ML);
    CHECK(same, "ensemble members differ from their single runs");
    CHECK(ss.w.hX[0].V[HT_HC_LV] != ss.w.hX[1].V[HT_HC_LV], "the members did not differ");
    ht_solver_free(&ss);
    for (int m = 0; m < 2; ++m) ht_solver_free(&s1[m]);
    ht_network_free(&stack);
    for (int m = 0; m < 2; ++m) {
        ht_network_free(&nw[m]);
        tu_case_free(&c[m]);
    }
}

/* a volume_change that empties the systemic veins is refused, naming the key */
static void test_bad_volume(void)
{
    ht_case c = heart_case(HT_HEART_HEALTHY, 0, 0, 0);
    c.heart.volume_change = -5e-3;
    ht_network nw;
    ht_error err;
    int rc = ht_network_build(&c, &nw, &err);
    CHECK(rc == 2 && strstr(err.msg, "key 'heart.volume_change'"), "volume_change -5 L: rc %d, %s", rc, err.msg);
    if (rc == 0) ht_network_free(&nw);
    c.heart.volume_change = 0;
    c.heart.total_volume = 0.5e-3;
    rc = ht_network_build(&c, &nw, &err);
    CHECK(rc == 2 && strstr(err.msg, "key 'heart.total_volume'"), "total_volume 0.5 L: rc %d, %s", rc, err.msg);
    if (rc == 0) ht_network_free(&nw);
    /* total_volume: the loop starts with exactly that volume */
    c.heart.total_volume = 5e-3;
    rc = ht_network_build(&c, &nw, &err);
    CHECK(rc == 0, "total_volume 5 L: %s", err.msg);
    if (rc == 0) {
        ht_solver s;
        CHECK(ht_solver_init(&s, &nw) == 0, "init");
        CHECK_CLOSE(ht_solver_total_volume(&s, 0), 5e-3, 1e-14, "total_volume");
        ht_solver_free(&s);
        ht_network_free(&nw);
    }
    tu_case_free(&c);
}

int main(void)
{
    test_closed_loop(0);
    test_closed_loop(1);
    test_closed_loop(2);
    test_ensemble();
    test_bad_volume();
    return tu_finish("test_heart_coupled");
}
