/* The devices coupled to the closed loop (kernels/devices.h, heart_stage.h; docs/devices.md
 * section 4), CPU backend, on the small bifurcation of test_heart_coupled.c with the
 * cardiogenic-shock preset: a femoral-style VA-ECMO returning into the right branch (a
 * prescribed 1 L/min, drained from the systemic veins) and an Impella CP at P-8.
 *
 * (a) Volume: total blood volume (1D + outlet compliances + 0D) constant to 1e-9 relative
 *     over 20 beats; the 1D account (stored change = root inflow + ECMO return - outflow) to
 *     1e-12 of the inflow; the ECMO volume returned equals 1 L/min x time.
 * (b) ECMO fraction: c in [0, 1] (to 1e-12) in every cell at every output time; c = 0 at the
 *     root; over the last beat the flow-weighted c leaving the tip cell downstream equals the
 *     ECMO share of that outflow (volume returned / volume passed downstream) to 5 %; with
 *     4 L/min into a branch carrying less, c reaches > 0.95 just downstream of the tip.
 * (c) With the aortic valve shut (its stage flow exactly 0), the root face flow equals the
 *     Impella flow exactly.
 * (d) Ensemble: two members with ECMO 1 and 3 L/min stacked equal their single runs bitwise.
 * (e) Pump mode (ecmo.h preset circuit at 3000 rpm): conservation and a flow of 2-6 L/min. */
#include "testutil.h"
#include "heart_presets.h"
#include "heart_stage.h"
#include "cpu/step_cpu.h"
#include <math.h>

#define ML HT_ML

static ht_case dev_case(double ecmo_lpm, int impella_level)
{
    ht_case c = tu_small_tree(70 * HT_MMHG);
    c.tracer = 1;
    tu_heart(&c, HT_HEART_SHOCK, 0, -1);
    for (int k = 0; k < 2; ++k) {
        c.outlets[k].vessel = 1 + k;
        c.outlets[k].kind = HT_OUTLET_WINDKESSEL;
        c.outlets[k].R1 = 0.15 * HT_MMHG_S_PER_ML;
        c.outlets[k].C = 0.7 * HT_ML_PER_MMHG;
        c.outlets[k].R2 = 2.45 * HT_MMHG_S_PER_ML;
    }
    snprintf(c.probes[0].name, sizeof c.probes[0].name, "root");
    c.probes[0].vessel = 0;
    c.probes[0].x = 0;
    if (ecmo_lpm >= 0) {
        c.devices.ecmo = 1;
        c.devices.ecmo_flow = ecmo_lpm * HT_LPM;
        c.devices.ecmo_vessel = 2;
        c.devices.ecmo_x = 0.035; /* cell 3 of 8 */
        c.devices.S_oxy = 1;
        c.devices.S_native = 0.7;
    }
    if (impella_level > 0) {
        c.devices.impella = 1;
        c.devices.impella_model = HT_IMPELLA_CP;
        c.devices.impella_level = impella_level;
    }
    return c;
}

static void test_conservation(void)
{
    ht_case c = dev_case(1.0, 8);
    ht_network nw;
    ht_error err;
    int rc = ht_network_build(&c, &nw, &err);
    CHECK(rc == 0 && nw.net.dev && nw.net.dev[0].ecmo && nw.net.dev[0].impella, "build: %s", err.msg);
    if (rc) {
        tu_case_free(&c);
        return;
    }
    ht_solver s;
    CHECK(ht_solver_init(&s, &nw) == 0, "init");
    const ht_net *n = &nw.net;
    int tip = n->dev[0].ecmo_cell, down = tip + 1, mc = n->m_cells;
    double T = nw.heart_par[0].T, tot0 = ht_solver_total_volume(&s, 0), v0 = ht_solver_volume(&s, 0);
    const int per = 40, beats = 20;
    double drift = 0, cmin = 1, cmax = 0, croot = 0, ve = 0, vd = 0, ve_last = 0;
    long shut = 0, shut_bad = 0, prep_bad = 0, next_bad = 0, prep_steps = 0;
    ht_solver sx;
    CHECK(ht_solver_init(&sx, &nw) == 0, "init scratch");
    double dx = n->vessel_dx[n->cell_vessel[tip]];
    for (int k = 1; k <= beats * per; ++k) {
        double t = k == beats * per ? beats * T : k * (T / per);
        /* step by step over the last beat, for (b)'s flux integrals */
        if (k > (beats - 1) * per) {
            while (s.clk[0].t < t) {
                double t0 = s.clk[0].t, vr0 = s.w.d_vol_ecmo[0];
                ht_clock *clk = &s.clk[0];
                clk->t_stop = t;
                CHECK(ht_cpu_step(n, &s.U, &s.w, clk, 0) == 0, "step");
                /* stage 1 read prep values made before the ECMO source changed the tip
                 * cell, then refreshed (step.h, heart_stage.h): its face values must be
                 * exactly those of a reconstruction of the stage-1 input U1 from fresh
                 * prep values (scratch work arrays of a second solver) */
                for (int i = 0; i < mc; ++i) ht_prep_cell(n, &s.w.U1, &sx.w, i);
                for (int i = 0; i < mc; ++i) {
                    ht_reconstruct_cell(n, &s.w.U1, &sx.w, i);
                    prep_bad += s.w.fA_m[i] != sx.w.fA_m[i] || s.w.fA_p[i] != sx.w.fA_p[i] ||
                                s.w.fQ_m[i] != sx.w.fQ_m[i] || s.w.fQ_p[i] != sx.w.fQ_p[i] ||
                                s.w.fc_m[i] != sx.w.fc_m[i] || s.w.fc_p[i] != sx.w.fc_p[i];
                }
                /* and the step left the next one's first pass (kernels/cpu/step_cpu.c),
                 * the stage-1 source's cells redone: exactly that of the new state U */
                CHECK(clk->first_pass_done, "first pass left for the next step");
                for (int i = 0; i < mc; ++i)
                    next_bad += s.w.cp[i] != ht_cell_pressure(n, &s.U, i) ||
                                s.w.cc[i] != s.U.C[i] / s.U.A[i] ||
                                s.w.rate[i] != ht_cell_rate(n, &s.U, i);
                ++prep_steps;
                if (clk->t >= t) clk->t = t;
                double dt = clk->t - t0;
                /* the flux through the tip cell's right face (FA = mass flux, FC = A c u) of stage 1
                 * is half the step's; approximate with the cell values after the step */
                double Q = s.U.Q[down];
                double cd = s.U.C[down] / s.U.A[down];
                if (Q > 0) {
                    vd += Q * dt;
                    ve += Q * cd * dt;
                }
                ve_last += s.w.d_vol_ecmo[0] - vr0;
                if (s.w.d_qvalve_s[0] == 0) {
                    ++shut;
                    shut_bad += s.w.h_qao[0] + s.w.h_qbr[0] != s.w.d_qimp_s[0];
                }
            }
        } else if (ht_solver_advance(&s, t)) {
            CHECK(0, "advance failed: code %d at cell %d t %g", s.clk[0].fail, s.clk[0].fail_index, s.clk[0].fail_t);
            break;
        }
        ht_solver_probe_clear(&s);
        double d = fabs(ht_solver_total_volume(&s, 0) - tot0) / tot0;
        if (d > drift) drift = d;
        for (int i = 0; i < mc; ++i) {
            double ci = s.U.C[i] / s.U.A[i];
            if (ci < cmin) cmin = ci;
            if (ci > cmax) cmax = ci;
        }
        double c0 = s.U.C[0] / s.U.A[0];
        if (c0 > croot) croot = c0;
        if (s.w.d_qvalve_s[0] == 0) {
            ++shut;
            shut_bad += s.w.h_qao[0] + s.w.h_qbr[0] != s.w.d_qimp_s[0];
        }
    }
    double vin = s.w.vol_in[0], vout = s.w.vol_out[0] + s.w.vol_out[1], vecmo = s.w.d_vol_ecmo[0];
    double imb = (ht_solver_volume(&s, 0) - v0) - (vin + vecmo - vout);
    printf("ECMO 1 L/min + Impella CP P-8, %d beats: total volume drift %.3e, 1D account %.3e of the inflow; ECMO "
           "returned %.4f L (1 L/min x %.3f s = %.4f L); c in [%.3e, %.6f], max c in the root cell %.3e; last beat: "
           "ECMO share of the downstream outflow %.4f, flow-weighted c there %.4f; valve shut in %ld samples, root + "
           "bronchial flow != Impella flow in %ld; last Impella flow %.3f L/min, ECMO %.3f L/min, LV volume %.1f mL\n",
           beats, drift, fabs(imb) / vin, vecmo * 1e3, s.clk[0].t, s.clk[0].t / 60, cmin, cmax, croot, ve_last / vd,
           ve / vd, shut, shut_bad, s.w.d_qimp[0] / HT_LPM, s.w.d_qecmo[0] / HT_LPM, s.w.hX[0].V[HT_HC_LV] / ML);
    (void)dx;
    CHECK(drift < 1e-9, "total volume drift %.3e", drift);
    CHECK(fabs(imb) <= 1e-12 * vin, "1D account %.3e", fabs(imb) / vin);
    CHECK_CLOSE(vecmo, HT_LPM * s.clk[0].t, 1e-12, "ECMO volume returned");
    CHECK(cmin >= -1e-12 && cmax <= 1 + 1e-12, "ECMO fraction outside [0, 1]: [%.3e, %.6f]", cmin, cmax);
    CHECK(croot < 1e-6, "ECMO blood at the root: %.3e", croot);
    CHECK(fabs(ve / vd - ve_last / vd) < 0.05 * (ve_last / vd), "downstream c %.4f vs ECMO share %.4f", ve / vd,
          ve_last / vd);
    CHECK(prep_steps > 0 && prep_bad == 0, "stage-1 face values: %ld cell-steps of %ld steps differ from U1's",
          prep_bad, prep_steps);
    CHECK(next_bad == 0, "next step's first pass: %ld cell-steps of %ld steps differ from U's", next_bad,
          prep_steps);
    ht_solver_free(&sx);
    CHECK(shut > 0 && shut_bad == 0, "valve shut: %ld samples, %ld with root + bronchial flow != Impella flow", shut, shut_bad);
    CHECK(s.w.d_qimp[0] > 0.5 * HT_LPM, "the Impella pumps %.3f L/min", s.w.d_qimp[0] / HT_LPM);
    ht_solver_free(&s);
    ht_network_free(&nw);
    tu_case_free(&c);
}

/* (b) high ECMO flow: just downstream of the tip the blood is nearly all ECMO blood */
static void test_high_flow(void)
{
    ht_case c = dev_case(4.0, 0);
    ht_network nw;
    ht_error err;
    CHECK(ht_network_build(&c, &nw, &err) == 0, "build: %s", err.msg);
    ht_solver s;
    CHECK(ht_solver_init(&s, &nw) == 0, "init");
    double T = nw.heart_par[0].T;
    int down = nw.net.dev[0].ecmo_cell + 1;
    double cmean = 0, cmin = 1, cmax = 0;
    int cnt = 0;
    for (int k = 1; k <= 5 * 40; ++k) {
        if (ht_solver_advance(&s, k == 200 ? 5 * T : k * (T / 40))) {
            CHECK(0, "advance failed");
            break;
        }
        ht_solver_probe_clear(&s);
        for (int i = 0; i < nw.net.m_cells; ++i) {
            double ci = s.U.C[i] / s.U.A[i];
            if (ci < cmin) cmin = ci;
            if (ci > cmax) cmax = ci;
        }
        if (k > 4 * 40) {
            cmean += s.U.C[down] / s.U.A[down];
            ++cnt;
        }
    }
    cmean /= cnt;
    printf("ECMO 4 L/min, no Impella, 5 beats: mean c just downstream of the tip over the last beat %.4f; c in "
           "[%.3e, %.6f]\n", cmean, cmin, cmax);
    CHECK(cmean > 0.95, "c downstream of the tip %.4f", cmean);
    CHECK(cmin >= -1e-12 && cmax <= 1 + 1e-12, "ECMO fraction outside [0, 1]");
    ht_solver_free(&s);
    ht_network_free(&nw);
    tu_case_free(&c);
}

/* pump mode (ecmo.h preset circuit at 3000 rpm): conservation and a plausible flow */
static void test_pump(void)
{
    ht_case c = dev_case(0, 0);
    c.devices.ecmo_pump = 1;
    c.devices.ecmo_rpm = 3000;
    ht_network nw;
    ht_error err;
    CHECK(ht_network_build(&c, &nw, &err) == 0, "build: %s", err.msg);
    CHECK(nw.net.dev[0].ecmo_par.mode == HT_ECMO_PUMP, "pump mode");
    ht_solver s;
    CHECK(ht_solver_init(&s, &nw) == 0, "init");
    double T = nw.heart_par[0].T, tot0 = ht_solver_total_volume(&s, 0), drift = 0;
    for (int k = 1; k <= 5 * 20; ++k) {
        if (ht_solver_advance(&s, k == 100 ? 5 * T : k * (T / 20))) {
            CHECK(0, "pump advance failed");
            break;
        }
        ht_solver_probe_clear(&s);
        double d = fabs(ht_solver_total_volume(&s, 0) - tot0) / tot0;
        if (d > drift) drift = d;
    }
    double q = s.w.d_qecmo[0] / HT_LPM;
    printf("ECMO pump mode 3000 rpm, 5 beats: flow %.3f L/min, total volume drift %.3e\n", q, drift);
    CHECK(drift < 1e-9, "pump mode: total volume drift %.3e", drift);
    CHECK(q > 2 && q < 6, "pump mode: flow %.3f L/min", q);
    ht_solver_free(&s);
    ht_network_free(&nw);
    tu_case_free(&c);
}

static void test_ensemble(void)
{
    const double q[2] = {1.0, 3.0};
    ht_case c[2];
    ht_network nw[2], stack;
    ht_error err;
    for (int m = 0; m < 2; ++m) {
        c[m] = dev_case(q[m], 8);
        CHECK(ht_network_build(&c[m], &nw[m], &err) == 0, "build %d: %s", m, err.msg);
    }
    const ht_network *mem[2] = {&nw[0], &nw[1]};
    CHECK(ht_network_stack(mem, 2, &stack, &err) == 0, "stack: %s", err.msg);
    CHECK(stack.net.dev && stack.net.dev[1].ecmo_cell == nw[1].net.dev[0].ecmo_cell + stack.net.m_cells,
          "stacked device cell");
    ht_solver ss, s1[2];
    CHECK(ht_solver_init(&ss, &stack) == 0, "init stack");
    for (int m = 0; m < 2; ++m) CHECK(ht_solver_init(&s1[m], &nw[m]) == 0, "init %d", m);
    double T = nw[0].heart_par[0].T;
    int mc = stack.net.m_cells, same = 1;
    for (int k = 1; k <= 3 * 20; ++k) {
        double t = k * (T / 20);
        CHECK(ht_solver_advance(&ss, t) == 0, "stack advance");
        for (int m = 0; m < 2; ++m) {
            CHECK(ht_solver_advance(&s1[m], t) == 0, "single advance %d", m);
            same &= s1[m].clk[0].step == ss.clk[m].step;
            same &= !memcmp(&s1[m].w.hX[0], &ss.w.hX[m], sizeof(ht_heart_state));
            same &= s1[m].w.d_qimp[0] == ss.w.d_qimp[m] && s1[m].w.d_qecmo[0] == ss.w.d_qecmo[m] &&
                    s1[m].w.d_vol_ecmo[0] == ss.w.d_vol_ecmo[m];
            for (int i = 0; i < mc; ++i)
                same &= s1[m].U.A[i] == ss.U.A[m * mc + i] && s1[m].U.Q[i] == ss.U.Q[m * mc + i] &&
                        s1[m].U.C[i] == ss.U.C[m * mc + i];
            same &= s1[m].rows[0].n == ss.rows[m].n &&
                    !memcmp(s1[m].rows[0].h, ss.rows[m].h, s1[m].rows[0].n * HT_HEART_NSAMP * sizeof(double));
            ht_solver_probe_clear(&s1[m]);
        }
        ht_solver_probe_clear(&ss);
    }
    printf("ensemble of 2 (ECMO 1 and 3 L/min, Impella CP P-8), 3 beats: %s its single runs; EDV %.2f / %.2f mL\n",
           same ? "bitwise equal to" : "DIFFERENT from", ss.w.hX[0].V[HT_HC_LV] / ML, ss.w.hX[1].V[HT_HC_LV] / ML);
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

int main(void)
{
    test_conservation();
    test_high_flow();
    test_pump();
    test_ensemble();
    return tu_finish("test_devices_coupled");
}
