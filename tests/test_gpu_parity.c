/* The CUDA backend against the CPU backend, its oracle (docs/architecture.md): the same case
 * run by both to the same output times must give the same pressure, flow, area and ECMO
 * fraction in every cell (1e-10 relative to the field's largest magnitude), the same probe
 * samples, outlet pressures and volume accounts, the same step counts, and the same failure
 * (code, place, time) when a run fails.
 *
 * Both backends do the same IEEE operations in the same order (nvcc with --fmad=false), so
 * the results are bitwise equal except where the CUDA math library rounds a transcendental
 * differently from glibc: exp() (windkessel outlets) and sin() (Fourier inflow) differ in
 * the last bit now and then. On its own that is harmless, but measured on the CPU alone, a
 * one-ulp change of the inflow of test_conservation.c's case (minmod, CFL 0.9) grows to
 * ~1e-6 relative within 0.5 s and stays there (round-off-level grid noise that the scheme
 * amplifies and the limiter saturates; with CFL 0.5, or MC, it stays ~1e-13). The GPU run of
 * that case differs from the CPU run by the same ~6e-6. Hence:
 *
 *   conservation  test_conservation.c's case exactly (tapered bifurcation, 4-way junction,
 *                 windkessel/resistance/reflection outlets, Fourier inflow, tracer, minmod,
 *                 CFL 0.9): the CUDA run must pass that test's own checks (mass conserved
 *                 to 1e-12 of the inflow, tracer in [0, 1], front arrives) and agree with the
 *                 CPU run to 1e-4 (the round-off noise above, with margin);
 *   tree/Fourier  the same network at CFL 0.5, strict (1e-10, equal steps): sin and exp on
 *                 the device, in a regime where round-off does not grow;
 *   tree/MC       a periodic table inflow, MC limiter, alpha = 1.1, no friction, no tracer,
 *                 CFL 0.9, strict (measured: bitwise equal);
 *   tree/visco    tree/MC with Kelvin-Voigt walls (viscoelastic.h) on all vessels but one:
 *                 the split viscous step (k_visco, one thread per vessel) against the CPU's
 *                 loop, strict (sqrt and division only, correctly rounded on both);
 *   rest          test_wellbalanced.c's case, strict (measured: bitwise equal);
 *   collapse      a pressure inlet plunging below the collapse pressure: the same failure
 *                 (code, cell, time, step) on both;
 *   ensemble      five tree/MC members with other inflows and stiffnesses in one launch,
 *                 one of them failing: each equals its own single CPU run, strict;
 *   heart         a tree driven by the 0D heart (kernels/heart_stage.h: k_heart_begin,
 *                 the root solve in k_boundary, k_heart_end), closed loop with windkessel,
 *                 resistance and coronary outlets (P_im from the heart's LV), MC, CFL 0.9,
 *                 strict: state, outlet pressures, volume accounts, heart states and the
 *                 per-step heart rows; then two members with other LV Ees in one launch,
 *                 each equal to its single CPU run. (pow() of the activation and exp() of the
 *                 outlets run in the CUDA math library: a last-bit difference there would
 *                 show as a difference ~1e-15, far below the tolerance.)
 *
 * Exits 77 (skipped) when the build has no CUDA backend or no device can be used. */
#include "testutil.h"
#include "step.h"
#include "heart_presets.h"
#include "heart_stage.h"
#include <math.h>
#ifdef HT_HAVE_CUDA
#include "cuda/backend_cuda.h"
#endif

#define TOL 1e-10
#define SKIP 77

/* worst relative difference of one case over all output times, per quantity, and what the
 * conservation checks need from the CUDA run */
typedef struct {
    double p, q, a, c, probe, bc;
    double cmin, cmax;            /* ECMO fraction range over the outputs (CUDA run) */
    double V0, V1, vin, vout;     /* stored volume before/after, volume in/out (CUDA run) */
    long steps_cpu, steps_gpu;
} worst;

static double rel_field(int n, const double *x, const double *y)
{
    double mag = 0, d = 0;
    for (int i = 0; i < n; ++i) {
        mag = fmax(mag, fabs(x[i]));
        double di = fabs(x[i] - y[i]);
        d = di > d || di != di ? di : d;
    }
    if (d == 0) return 0;
    return mag > 0 ? d / mag : d;
}

/* Compare the two solvers after an advance to time t. */
static void compare(const char *name, const ht_network *nw, const ht_solver *cs, const ht_solver *gs,
                    double t, double tol, int strict, worst *wr)
{
    const ht_net *n = &nw->net;
    int nc = n->n_cells;
    double *buf = malloc(sizeof(double) * 8 * (size_t)nc);
    if (!buf) {
        CHECK(0, "out of memory");
        return;
    }
    double *pc = buf, *pg = buf + nc, *cc = buf + 2 * nc, *cg = buf + 3 * nc;
    for (int i = 0; i < nc; ++i) {
        pc[i] = ht_cell_pressure(n, &cs->U, i);
        pg[i] = ht_cell_pressure(n, &gs->U, i);
        cc[i] = cs->U.C[i] / cs->U.A[i];
        cg[i] = gs->U.C[i] / gs->U.A[i];
        wr->cmin = fmin(wr->cmin, cg[i]);
        wr->cmax = fmax(wr->cmax, cg[i]);
    }
    double dp = rel_field(nc, pc, pg), dq = rel_field(nc, cs->U.Q, gs->U.Q);
    double da = rel_field(nc, cs->U.A, gs->U.A), dc = rel_field(nc, cc, cg);
    free(buf);
    wr->p = fmax(wr->p, dp);
    wr->q = fmax(wr->q, dq);
    wr->a = fmax(wr->a, da);
    wr->c = fmax(wr->c, dc);
    CHECK(dp <= tol, "%s t=%g: pressure differs by %.3e", name, t, dp);
    CHECK(dq <= tol, "%s t=%g: flow differs by %.3e", name, t, dq);
    CHECK(da <= tol, "%s t=%g: area differs by %.3e", name, t, da);
    CHECK(dc <= tol, "%s t=%g: ECMO fraction differs by %.3e", name, t, dc);
    if (strict) {
        CHECK(cs->clk[0].step == gs->clk[0].step, "%s t=%g: steps %ld (cpu) vs %ld (cuda)", name, t,
              cs->clk[0].step, gs->clk[0].step);
    } else {
        /* dt follows the state: round-off noise may shift a step across an output time */
        CHECK(labs(cs->clk[0].step - gs->clk[0].step) <= 1 + cs->clk[0].step / 1000,
              "%s t=%g: steps %ld (cpu) vs %ld (cuda)", name, t, cs->clk[0].step, gs->clk[0].step);
    }
    /* both land exactly on the output time */
    CHECK(cs->clk[0].t == t && gs->clk[0].t == t, "%s: clock %.17g (cpu), %.17g (cuda), output at %.17g",
          name, cs->clk[0].t, gs->clk[0].t, t);
    /* outlet pressures and volume accounts */
    if (n->heart) {
        /* the 0D hearts (fetched with the state) and the per-step heart rows */
        int nx = (int)(sizeof(ht_heart_state) / sizeof(double)) * n->n_members;
        double dh = rel_field(nx, (const double *)cs->w.hX, (const double *)gs->w.hX);
        if (cs->rows[0].n == gs->rows[0].n && cs->rows[0].n > 0)
            dh = fmax(dh, rel_field((int)(cs->rows[0].n * HT_HEART_NSAMP), cs->rows[0].h, gs->rows[0].h));
        wr->bc = fmax(wr->bc, dh);
        CHECK(dh <= tol, "%s t=%g: heart states / heart rows differ by %.3e", name, t, dh);
    }
    double db = rel_field(n->n_outlets, cs->w.pc, gs->w.pc);
    db = fmax(db, rel_field(n->n_outlets, cs->w.pcim, gs->w.pcim));
    db = fmax(db, rel_field(n->n_outlets, cs->w.vol_out, gs->w.vol_out));
    db = fmax(db, rel_field(n->n_inlets, cs->w.vol_in, gs->w.vol_in));
    wr->bc = fmax(wr->bc, db);
    CHECK(db <= tol, "%s t=%g: outlet pressures / volume accounts differ by %.3e", name, t, db);
    /* probes: one sample per step, at the same times, with the same values; the last
     * sample of an output interval is at the output time itself */
    if (n->n_probes > 0)
        CHECK(gs->rows[0].n == (size_t)(gs->clk[0].step - wr->steps_gpu) + (wr->steps_gpu == 0),
              "%s t=%g: %zu probe samples for %ld steps (cuda)", name, t, gs->rows[0].n,
              gs->clk[0].step - wr->steps_gpu);
    if (n->n_probes > 0 && gs->rows[0].n > 0)
        CHECK(gs->rows[0].t[gs->rows[0].n - 1] == t, "%s t=%g: last probe sample at %.17g", name, t,
              gs->rows[0].t[gs->rows[0].n - 1]);
    if (strict) {
        CHECK(cs->rows[0].n == gs->rows[0].n, "%s t=%g: %zu probe samples (cpu) vs %zu (cuda)", name, t, cs->rows[0].n,
              gs->rows[0].n);
    }
    if (cs->rows[0].n == gs->rows[0].n && cs->rows[0].n > 0) {
        size_t m = cs->rows[0].n * (size_t)n->n_probes;
        double d = rel_field((int)cs->rows[0].n, cs->rows[0].t, gs->rows[0].t);
        CHECK(d <= (strict ? 1e-12 : tol), "%s t=%g: probe times differ by %.3e", name, t, d);
        d = fmax(rel_field((int)m, cs->rows[0].p, gs->rows[0].p), rel_field((int)m, cs->rows[0].q, gs->rows[0].q));
        d = fmax(d, rel_field((int)m, cs->rows[0].a, gs->rows[0].a));
        wr->probe = fmax(wr->probe, d);
        CHECK(d <= tol, "%s t=%g: probe samples differ by %.3e", name, t, d);
    }
    wr->steps_cpu = cs->clk[0].step;
    wr->steps_gpu = gs->clk[0].step;
}

/* Run one network on both backends to outputs t_k = k * dt_out, k = 1..n_out, and compare
 * at every output to `tol`; strict: also equal step and sample counts.
 * expect_fail: the run must fail (and identically on both). */
static worst run_case(const char *name, const ht_network *nw, double dt_out, int n_out, double tol,
                      int strict, int expect_fail)
{
    ht_solver cs, gs;
    char err[512];
    worst wr;
    memset(&wr, 0, sizeof wr);
    wr.cmin = 1e300;
    wr.cmax = -1e300;
    CHECK(ht_solver_init(&cs, nw) == 0, "%s: init", name);
    CHECK(ht_solver_init(&gs, nw) == 0, "%s: init", name);
    int rc = ht_solver_use_cuda(&gs, err, sizeof err);
    CHECK(rc == 0, "%s: ht_solver_use_cuda: %s", name, err);
    if (rc) goto done;
    wr.V0 = ht_solver_volume(&gs, 0);
    int failed = 0;
    for (int k = 1; k <= n_out && !failed; ++k) {
        double t = k * dt_out;
        int cc = ht_solver_advance(&cs, t);
        /* every other interval begun ahead, as the driver does between outputs: the device
         * steps on while the output is copied back, and the next call takes it up */
        int gc = ht_solver_advance_ahead(&gs, t, k % 2 && k < n_out ? (k + 1) * dt_out : 0);
        CHECK(cc == gc, "%s t=%g: cpu returned %d, cuda %d", name, t, cc, gc);
        if (cc || gc) {
            failed = 1;
            CHECK(cs.clk[0].fail == gs.clk[0].fail && cs.clk[0].fail_index == gs.clk[0].fail_index,
                  "%s: failure %d at cell %d (cpu) vs %d at cell %d (cuda)", name, cs.clk[0].fail,
                  cs.clk[0].fail_index, gs.clk[0].fail, gs.clk[0].fail_index);
            CHECK(fabs(cs.clk[0].fail_t - gs.clk[0].fail_t) <= 1e-12 * fabs(cs.clk[0].fail_t),
                  "%s: failure time %.17g (cpu) vs %.17g (cuda)", name, cs.clk[0].fail_t, gs.clk[0].fail_t);
            CHECK(cs.clk[0].step == gs.clk[0].step, "%s: failed after %ld steps (cpu) vs %ld (cuda)", name,
                  cs.clk[0].step, gs.clk[0].step);
            CHECK(cs.rows[0].n == gs.rows[0].n, "%s: %zu probe samples (cpu) vs %zu (cuda) before the failure",
                  name, cs.rows[0].n, gs.rows[0].n);
            printf("%s: both failed with code %d at cell %d, t = %.9g, after %ld steps\n", name,
                   cs.clk[0].fail, cs.clk[0].fail_index, cs.clk[0].fail_t, cs.clk[0].step);
            break;
        }
        compare(name, nw, &cs, &gs, t, tol, strict, &wr);
        /* drain the probes as the driver does, so each output compares its own samples */
        ht_solver_probe_clear(&cs);
        ht_solver_probe_clear(&gs);
    }
    CHECK(failed == expect_fail, "%s: run %s", name, failed ? "failed" : "did not fail");
    wr.V1 = ht_solver_volume(&gs, 0);
    for (int k = 0; k < nw->net.n_inlets; ++k) wr.vin += gs.w.vol_in[k];
    for (int k = 0; k < nw->net.n_outlets; ++k) wr.vout += gs.w.vol_out[k];
    printf("%s: %ld steps (cpu), %ld (cuda); worst rel. diff p %.2e q %.2e A %.2e c %.2e "
           "probes %.2e outlets %.2e\n",
           name, cs.clk[0].step, gs.clk[0].step, wr.p, wr.q, wr.a, wr.c, wr.probe, wr.bc);
done:
    ht_solver_free(&cs);
    ht_solver_free(&gs);
    return wr;
}

static void add_probe(ht_case *c, int k, const char *name, int vessel, double x)
{
    snprintf(c->probes[k].name, sizeof c->probes[k].name, "%s", name);
    c->probes[k].vessel = vessel;
    c->probes[k].x = x;
}

/* test_conservation.c's network, with probes. Variant 0: that case exactly; 1: the same at
 * CFL 0.5; 2: a table inflow, MC limiter, alpha = 1.1, no friction, no tracer; 3: variant 2
 * with viscoelastic walls (vessel "right" left elastic, so mixed networks are covered). */
/* waveform tables the networks point into (they outlive every network built here) */
static double amp[2] = {6e-5, 3e-5}, ph[2] = {0, -1.2};
static double tt[6] = {0, 0.1, 0.2, 0.3, 0.5, 0.7}, tv[6] = {2e-5, 1.2e-4, 9e-5, 1e-5, 3e-5, 2e-5};
static double lt[5] = {0, 0.1, 0.25, 0.35, 0.6}, lv[5] = {1e3, 1.4e4, 1.5e4, 1e3, 8e2};

/* The tree of tree_case, its inflow scaled by qscale and every wall's E by escale. */
static int tree_build(int variant, double qscale, double escale, ht_case *cp, ht_network *nw)
{
    ht_case c = tu_case(6, 7, 1, 4, 4);
    c.rho = 1060;
    c.mu = variant >= 2 ? 0 : 4e-3;
    tu_vessel(&c, 0, "aorta", 0, 1, 0.2, 0.012, 0.009, 4e5, 0, 60);
    tu_vessel(&c, 1, "left", 1, 3, 0.15, 0.006, 0.005, 6e5, 0, 45);
    tu_vessel(&c, 2, "right", 1, 2, 0.1, 0.007, 0.006, 6e5, 0, 30);
    tu_vessel(&c, 3, "r1", 2, 4, 0.1, 0.004, 0.004, 8e5, 0, 30);
    tu_vessel(&c, 4, "r2", 2, 5, 0.12, 0.003, 0.003, 8e5, 0, 30);
    tu_vessel(&c, 5, "r3", 2, 6, 0.08, 0.0035, 0.003, 8e5, 0, 30);
    for (int v = 0; v < 6; ++v) c.vessels[v].p_ref = 1e4;
    if (variant == 3)
        for (int v = 0; v < 6; ++v) c.vessels[v].phi = v == 2 ? 0 : 3e3; /* Pa s */
    c.p_init = 1e4;
    for (int v = 0; v < 6; ++v) c.vessels[v].E *= escale;
    c.inlets[0].vessel = 0;
    c.inlets[0].wave.scale = qscale;
    c.inlets[0].tracer = 1;
    if (variant < 2) {
        if (variant == 1) c.cfl = 0.5;
        c.inlets[0].wave.kind = HT_WAVE_FOURIER;
        c.inlets[0].wave.period = 0.8;
        c.inlets[0].wave.mean = 4e-5;
        c.inlets[0].wave.n_harm = 2;
        c.inlets[0].wave.amp = amp;
        c.inlets[0].wave.phase = ph;
    } else {
        c.inlets[0].wave.kind = HT_WAVE_TABLE;
        c.inlets[0].wave.period = 0.8;
        c.inlets[0].wave.n = 6;
        c.inlets[0].wave.t = tt;
        c.inlets[0].wave.v = tv;
        c.limiter = HT_LIMITER_MC;
        c.alpha = 1.1;
        c.tracer = 0;
    }
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
    /* coronary outlet (kernels/coronary.h) on r1 in the table-inflow variants, its P_im a
     * periodic table (device copy of the outlet's waveform arrays) */
    if (variant >= 2) {
        c.outlets[1].kind = HT_OUTLET_CORONARY;
        c.outlets[1].R1 = 1e8;
        c.outlets[1].Ca = 2e-10;
        c.outlets[1].Ram = 5e8;
        c.outlets[1].Cim = 5e-10;
        c.outlets[1].Rv = 4e8;
        c.outlets[1].pim.kind = HT_WAVE_TABLE;
        c.outlets[1].pim.period = 0.8;
        c.outlets[1].pim.n = 5;
        c.outlets[1].pim.t = lt;
        c.outlets[1].pim.v = lv;
        c.outlets[1].pim.scale = 0.75;
    }
    add_probe(&c, 0, "root", 0, 0.0);
    add_probe(&c, 1, "mid", 0, 0.1037);
    add_probe(&c, 2, "left_end", 1, 0.15);
    add_probe(&c, 3, "r2", 4, 0.05);
    *cp = c;
    return tu_build(cp, nw);
}

static int tree_case(int variant)
{
    ht_case c;
    ht_network nw;
    if (tree_build(variant, 1, 1, &c, &nw)) return 1;
    CHECK(nw.net.n_junctions == 2, "junctions %d", nw.net.n_junctions);
    if (variant == 0) {
        worst r = run_case("conservation (CFL 0.9, minmod)", &nw, 0.05, 40, 1e-4, 0, 0);
        /* test_conservation.c's own checks, on the CUDA run */
        double imbalance = (r.V1 - r.V0) - (r.vin - r.vout);
        printf("conservation (cuda): imbalance %.3e of the inflow, ECMO fraction in [%.3e, 1 + %.3e]\n",
               fabs(imbalance) / r.vin, r.cmin, r.cmax - 1);
        CHECK(fabs(imbalance) <= 1e-12 * r.vin, "cuda: mass not conserved: %.3e of the inflow",
              fabs(imbalance) / r.vin);
        CHECK(r.cmin >= -1e-12 && r.cmax <= 1 + 1e-12, "cuda: tracer outside [0, 1]: [%g, %g]",
              r.cmin, r.cmax);
        CHECK(r.cmax > 0.99, "cuda: the tracer front never arrived (max %g)", r.cmax);
    } else if (variant == 1) {
        run_case("tree/Fourier (CFL 0.5)", &nw, 0.05, 40, TOL, 1, 0);
    } else if (variant == 2) {
        run_case("tree/MC (table inflow, MC, alpha 1.1, no tracer, a coronary outlet)", &nw, 0.04, 25, TOL, 1, 0);
    } else {
        CHECK(nw.net.Gamma != NULL, "viscoelastic network without Gamma");
        run_case("tree/visco (tree/MC with Kelvin-Voigt walls)", &nw, 0.04, 25, TOL, 1, 0);
    }
    ht_network_free(&nw);
    tu_case_free(&c);
    return 0;
}

/* test_wellbalanced.c's network; variant 1: a pressure inlet that plunges below the
 * collapse pressure at t ~ 0.03 s, which fails the run. */
static int rest_case(int variant)
{
    ht_case c = tu_case(2, 3, 1, 1, 2);
    c.rho = 1060;
    c.mu = 4e-3;
    tu_vessel(&c, 0, "a", 0, 1, 0.2, 0.015, 0.009, 4e5, 0, 40);
    tu_vessel(&c, 1, "b", 1, 2, 0.15, 0.008, 0.004, 9e5, 0, 30);
    c.vessels[0].p_ref = c.vessels[1].p_ref = 1.0e4;
    c.p_init = 1.2e4;
    c.inlets[0].vessel = 0;
    c.inlets[0].wave.scale = 1;
    if (variant == 0) {
        c.inlets[0].wave.kind = HT_WAVE_CONSTANT;
    } else {
        c.inlets[0].kind = HT_INLET_PRESSURE;
        c.inlets[0].wave.kind = HT_WAVE_GAUSSIAN;
        c.inlets[0].wave.amplitude = -1e6;
        c.inlets[0].wave.t0 = 0.05;
        c.inlets[0].wave.k = 2000;
        /* inlet pressure -6.7 kPa at t = 0 (a violent start, on purpose), falling below the
         * collapse pressure p_ref - K sqrt(A0) ~ -50 kPa near t ~ 0.01 s */
    }
    c.outlets[0].vessel = 1;
    c.outlets[0].kind = HT_OUTLET_RESISTANCE;
    c.outlets[0].R1 = 1e8;
    c.outlets[0].p_out = c.p_init;
    add_probe(&c, 0, "a_mid", 0, 0.1);
    add_probe(&c, 1, "b_end", 1, 0.149);
    ht_network nw;
    ht_error err;
    if (ht_network_build(&c, &nw, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        tu_case_free(&c);
        return 1;
    }
    if (variant == 0)
        run_case("rest (well-balanced case)", &nw, 0.1, 10, TOL, 1, 0);
    else
        run_case("collapse (pressure inlet below collapse)", &nw, 0.01, 10, TOL, 1, 1);
    ht_network_free(&nw);
    tu_case_free(&c);
    return 0;
}

/* An ensemble in one launch: four members of the tree/MC network with other inflows and wall
 * stiffnesses (so other time steps), and a fifth whose inflow is a strong suction that
 * collapses its root. Stacked on the GPU, each member must equal its own single CPU run
 * (1e-10, equal steps and probe counts), the failing one must fail exactly as its single run
 * does, and the others must finish regardless. */
static int ensemble_case(void)
{
    enum { M = 5 };
    const double qs[M] = {1, 1.3, 0.7, 1.1, -40}, es[M] = {1, 1.6, 0.8, 2.5, 1};
    ht_case c[M];
    ht_network nw[M], stack;
    const ht_network *mem[M];
    ht_solver cs[M], gs;
    ht_error err;
    char msg[512];
    int built = 0;
    for (; built < M; ++built) {
        if (tree_build(2, qs[built], es[built], &c[built], &nw[built])) break;
        mem[built] = &nw[built];
    }
    if (built < M) goto out_members;
    CHECK(ht_network_stack(mem, M, &stack, &err) == 0, "stack: %s", err.msg);
    CHECK(ht_solver_init(&gs, &stack) == 0, "init");
    CHECK(ht_solver_use_cuda(&gs, msg, sizeof msg) == 0, "ht_solver_use_cuda: %s", msg);
    for (int m = 0; m < M; ++m) CHECK(ht_solver_init(&cs[m], &nw[m]) == 0, "init %d", m);
    int mc = stack.net.m_cells, np = stack.net.m_probes, failed[M] = {0};
    double wmax = 0;
    long stopped_at = 0, stopped_after = 0;
    for (int k = 1; k <= 25; ++k) {
        double t = 0.04 * k;
        ht_solver_advance_ahead(&gs, t, k < 25 ? 0.04 * (k + 1) : 0);
        if (k == 11) {
            /* member 0, stopped by the host at t = 0.4 while the next interval had begun (the
             * driver after a failed output), ran at most the first chunk of it */
            stopped_after = gs.clk[0].step;
            CHECK(gs.clk[0].fail == HT_STOPPED && stopped_after > stopped_at && stopped_after <= stopped_at + 64,
                  "member 0 stopped after %ld steps: fail %d, steps %ld (at most %ld)", stopped_at, gs.clk[0].fail,
                  stopped_after, stopped_at + 64);
        }
        if (k == 12) CHECK(gs.clk[0].step == stopped_after, "member 0 stepped on after its stop reached the device");
        for (int m = 0; m < M; ++m) {
            if (failed[m]) continue;
            int cc = ht_solver_advance(&cs[m], t);
            const ht_clock *a = &cs[m].clk[0], *b = &gs.clk[m];
            CHECK(a->step == b->step && a->fail == b->fail, "member %d t=%g: steps %ld/%ld, fail %d/%d", m, t,
                  a->step, b->step, a->fail, b->fail);
            CHECK(cs[m].rows[0].n == gs.rows[m].n, "member %d t=%g: probe rows %zu/%zu", m, t, cs[m].rows[0].n,
                  gs.rows[m].n);
            if (cc) {
                failed[m] = 1;
                CHECK(b->fail_index - m * mc == a->fail_index && a->fail_t == b->fail_t,
                      "member %d: failure at cell %d t %.17g (cpu) vs %d t %.17g (cuda)", m, a->fail_index,
                      a->fail_t, b->fail_index - m * mc, b->fail_t);
                printf("ensemble: member %d failed alone (code %d, cell %d, t = %.6f), as its single run\n", m,
                       a->fail, a->fail_index, a->fail_t);
                continue;
            }
            for (int i = 0; i < mc; ++i) {
                const ht_net *n1 = &nw[m].net, *ns = &stack.net;
                double pa = ht_cell_pressure(n1, &cs[m].U, i), pb = ht_cell_pressure(ns, &gs.U, m * mc + i);
                double d = fmax(fabs(pa - pb) / fmax(fabs(pa), 1e3),
                                fabs(cs[m].U.Q[i] - gs.U.Q[m * mc + i]) / 1e-4);
                wmax = fmax(wmax, d);
            }
            size_t nr = cs[m].rows[0].n < gs.rows[m].n ? cs[m].rows[0].n : gs.rows[m].n;
            for (size_t r = 0; r < nr * (size_t)np; ++r)
                wmax = fmax(wmax, fabs(cs[m].rows[0].p[r] - gs.rows[m].p[r]) / 1e4);
            ht_solver_probe_clear(&cs[m]);
        }
        ht_solver_probe_clear(&gs);
        if (k == 10) {
            stopped_at = gs.clk[0].step;
            gs.clk[0].fail = HT_STOPPED;
            gs.clk[0].fail_t = gs.clk[0].t;
            failed[0] = 2;
            /* a checkpoint needs one time's state: refused while the device is in an interval */
            msg[0] = 0;
            CHECK(ht_solver_state_sync(&gs, 0, msg, sizeof msg) != 0 && strstr(msg, "in progress"),
                  "state saved during an interval begun ahead: '%s'", msg);
        }
    }
    printf("ensemble (5 members, one launch): worst relative difference %.2e\n", wmax);
    CHECK(wmax <= TOL, "ensemble: member differs from its single run by %.2e", wmax);
    CHECK(failed[4] && failed[0] == 2 && !failed[1] && !failed[2] && !failed[3], "failures %d %d %d %d %d", failed[0],
          failed[1], failed[2], failed[3], failed[4]);
    for (int m = 0; m < M; ++m) ht_solver_free(&cs[m]);
    ht_solver_free(&gs);
    ht_network_free(&stack);
out_members:
    for (int m = 0; m < built; ++m) {
        ht_network_free(&nw[m]);
        tu_case_free(&c[m]);
    }
    return built < M;
}

/* A small tree driven by the healthy heart (the network of test_heart_coupled.c with a third,
 * coronary branch), LV Ees ees (Pa/m^3; <= 0: the preset's); with ecmo_lpm >= 0 a VA-ECMO
 * returning that flow into the right branch, with level > 0 an Impella CP at that P-level. */
static int heart_build(double ees, double ecmo_lpm, int level, ht_case *cp, ht_network *nw)
{
    ht_case c = tu_case(4, 5, 1, 3, 2);
    c.rho = 1060;
    c.mu = 4e-3;
    tu_vessel(&c, 0, "parent", 0, 1, 0.10, 0.012, 0.011, 4e5, 1.5e-3, 20);
    tu_vessel(&c, 1, "left", 1, 2, 0.08, 0.008, 0.008, 6e5, 1e-3, 16);
    tu_vessel(&c, 2, "right", 1, 3, 0.08, 0.008, 0.008, 6e5, 1e-3, 16);
    tu_vessel(&c, 3, "coronary", 1, 4, 0.06, 0.002, 0.0018, 8e5, 0, 12);
    for (int v = 0; v < 4; ++v) c.vessels[v].p_ref = 80 * HT_MMHG;
    c.p_init = 80 * HT_MMHG;
    c.limiter = HT_LIMITER_MC;
    tu_heart(&c, HT_HEART_HEALTHY, ees, -1);
    c.outlets[0].vessel = 1;
    c.outlets[0].kind = HT_OUTLET_WINDKESSEL;
    c.outlets[0].R1 = 0.12 * HT_MMHG_S_PER_ML;
    c.outlets[0].C = 0.7 * HT_ML_PER_MMHG;
    c.outlets[0].R2 = 1.9 * HT_MMHG_S_PER_ML;
    c.outlets[1].vessel = 2;
    c.outlets[1].kind = HT_OUTLET_RESISTANCE;
    c.outlets[1].R1 = 2.0 * HT_MMHG_S_PER_ML;
    c.outlets[2].vessel = 3;
    c.outlets[2].kind = HT_OUTLET_CORONARY;
    c.outlets[2].R1 = 2e9;
    c.outlets[2].Ca = 1.4e-11;
    c.outlets[2].Ram = 3e9;
    c.outlets[2].Cim = 2.9e-10;
    c.outlets[2].Rv = 1.3e9;
    c.outlets[2].pim.kind = HT_WAVE_CONSTANT;
    c.outlets[2].pim.scale = 0.75;
    add_probe(&c, 0, "root", 0, 0.0);
    add_probe(&c, 1, "coronary_mid", 3, 0.03);
    if (ecmo_lpm >= 0) {
        c.devices.ecmo = 1;
        c.devices.ecmo_flow = ecmo_lpm * HT_LPM;
        c.devices.ecmo_vessel = 2;
        c.devices.ecmo_x = 0.03;
        c.devices.S_oxy = 1;
        c.devices.S_native = 0.7;
        c.tracer = 1;
    }
    if (level > 0) {
        c.devices.impella = 1;
        c.devices.impella_model = HT_IMPELLA_CP;
        c.devices.impella_level = level;
    }
    *cp = c;
    return tu_build(cp, nw);
}

static int heart_case(void)
{
    ht_case c;
    ht_network nw;
    if (heart_build(0, -1, 0, &c, &nw)) return 1;
    CHECK(nw.net.heart == 1 && nw.net.inlets[0].kind == HT_BC_HEART, "no heart in the network");
    run_case("heart (closed loop, MC, CFL 0.9, coronary P_im from the LV)", &nw, 0.04, 40, TOL, 1, 0);
    ht_network_free(&nw);
    tu_case_free(&c);

    /* two members with other LV Ees in one launch against their single CPU runs */
    enum { M = 2 };
    const double ees[M] = {3.0 * HT_MMHG_PER_ML, 1.5 * HT_MMHG_PER_ML};
    ht_case cm[M];
    ht_network nm[M], stack;
    const ht_network *mem[M];
    ht_solver cs[M], gs;
    ht_error err;
    char msg[512];
    int built = 0;
    for (; built < M; ++built) {
        if (heart_build(ees[built], -1, 0, &cm[built], &nm[built])) break;
        mem[built] = &nm[built];
    }
    if (built == M) {
        CHECK(ht_network_stack(mem, M, &stack, &err) == 0, "stack: %s", err.msg);
        CHECK(ht_solver_init(&gs, &stack) == 0, "init");
        CHECK(ht_solver_use_cuda(&gs, msg, sizeof msg) == 0, "ht_solver_use_cuda: %s", msg);
        for (int m = 0; m < M; ++m) CHECK(ht_solver_init(&cs[m], &nm[m]) == 0, "init %d", m);
        int mc = stack.net.m_cells;
        double wmax = 0;
        for (int k = 1; k <= 20; ++k) {
            double t = 0.08 * k;
            CHECK(ht_solver_advance(&gs, t) == 0, "heart ensemble: cuda advance");
            for (int m = 0; m < M; ++m) {
                CHECK(ht_solver_advance(&cs[m], t) == 0, "heart ensemble: cpu advance %d", m);
                CHECK(cs[m].clk[0].step == gs.clk[m].step, "heart member %d t=%g: steps %ld/%ld", m, t,
                      cs[m].clk[0].step, gs.clk[m].step);
                CHECK(cs[m].rows[0].n == gs.rows[m].n, "heart member %d: rows %zu/%zu", m, cs[m].rows[0].n,
                      gs.rows[m].n);
                for (int i = 0; i < mc; ++i)
                    wmax = fmax(wmax, fabs(cs[m].U.Q[i] - gs.U.Q[m * mc + i]) / 1e-4 +
                                          fabs(cs[m].U.A[i] - gs.U.A[m * mc + i]) / cs[m].U.A[i]);
                const double *a = (const double *)&cs[m].w.hX[0], *b = (const double *)&gs.w.hX[m];
                for (size_t q = 0; q < sizeof(ht_heart_state) / sizeof(double); ++q)
                    wmax = fmax(wmax, fabs(a[q] - b[q]) / fmax(fabs(a[q]), 1e-6));
                size_t nr = cs[m].rows[0].n < gs.rows[m].n ? cs[m].rows[0].n : gs.rows[m].n;
                for (size_t r = 0; r < nr * HT_HEART_NSAMP; ++r)
                    wmax = fmax(wmax, fabs(cs[m].rows[0].h[r] - gs.rows[m].h[r]) /
                                          fmax(fabs(cs[m].rows[0].h[r]), 1e-6));
                ht_solver_probe_clear(&cs[m]);
            }
            ht_solver_probe_clear(&gs);
        }
        printf("heart ensemble (2 members, one launch): worst relative difference %.2e\n", wmax);
        CHECK(wmax <= TOL, "heart ensemble: member differs from its single run by %.2e", wmax);
        for (int m = 0; m < M; ++m) ht_solver_free(&cs[m]);
        ht_solver_free(&gs);
        ht_network_free(&stack);
    }
    for (int m = 0; m < built; ++m) {
        ht_network_free(&nm[m]);
        tu_case_free(&cm[m]);
    }
    return built < M;
}

/* The devices (kernels/devices.h: the Impella in the root solve of k_boundary, the ECMO
 * drain in k_heart_end and its return in k_ecmo_source): VA-ECMO 2 L/min + Impella CP P-8,
 * strict as the heart case. */
static int devices_case(void)
{
    ht_case c;
    ht_network nw;
    if (heart_build(0, 2.0, 8, &c, &nw)) return 1;
    CHECK(nw.net.dev && nw.net.dev[0].ecmo && nw.net.dev[0].impella, "no devices in the network");
    run_case("devices (VA-ECMO 2 L/min + Impella CP P-8, closed loop)", &nw, 0.04, 40, TOL, 1, 0);
    ht_network_free(&nw);
    tu_case_free(&c);
    return 0;
}

int main(void)
{
#ifndef HT_HAVE_CUDA
    printf("test_gpu_parity: skipped: this build has no CUDA backend\n");
    return SKIP;
#else
    char msg[256];
    if (!ht_cuda_available(msg, sizeof msg)) {
        printf("test_gpu_parity: skipped: %s\n", msg);
        return SKIP;
    }
    printf("test_gpu_parity: %s\n", msg);
    int bad = 0;
    bad |= tree_case(0);
    bad |= tree_case(1);
    bad |= tree_case(2);
    bad |= tree_case(3);
    bad |= rest_case(0);
    bad |= rest_case(1);
    bad |= ensemble_case();
    bad |= heart_case();
    bad |= devices_case();
    CHECK(bad == 0, "a network could not be built");
    return tu_finish("test_gpu_parity");
#endif
}
