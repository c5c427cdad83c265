/* The case loader: the five openBF benchmark networks as published, the own format (mesh
 * file and inline, units, defaults), --set overrides, YAML anchors, and every broken case
 * in tests/data/bad/ (each names the words its error message must contain on its first
 * line, "# expect: ...").
 * Usage: test_input DATA_DIR   (DATA_DIR = tests/data) */
#include "case.h"
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
static const char *data_dir = "tests/data";

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            ++failures;                                                     \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                   \
            fprintf(stderr, "\n");                                          \
        }                                                                   \
    } while (0)

#define CLOSE(a, b, what)                                                                        \
    do {                                                                                         \
        double a_ = (a), b_ = (b);                                                               \
        CHECK(fabs(a_ - b_) <= 1e-12 * fabs(b_) + 1e-300, "%s: got %.17g, expected %.17g", what, a_, b_); \
    } while (0)

static const double MMHG = 133.322387415;

static int load(const char *rel, const char *const *sets, int n_sets, ht_case *c, ht_error *e)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", data_dir, rel);
    int rc = ht_case_load(path, sets, n_sets, c, e);
    return rc;
}

static int vessel(const ht_case *c, const char *name)
{
    for (int v = 0; v < c->n_vessels; ++v)
        if (!strcmp(c->vessels[v].name, name)) return v;
    return -1;
}

static int count_kind(const ht_case *c, ht_outlet_kind k)
{
    int n = 0;
    for (int i = 0; i < c->n_outlets; ++i) n += c->outlets[i].kind == k;
    return n;
}

/* ---------------------------------------------------------------- openBF */

static void check_openbf_common(const ht_case *c, const char *name)
{
    CHECK(c->n_inlets == 1, "%s: %d inlets", name, c->n_inlets);
    if (c->n_inlets < 1) return;
    const ht_inlet_spec *in = &c->inlets[0];
    CHECK(!strcmp(c->node_names[c->vessels[in->vessel].node_from], "1"), "%s: inlet not at node 1", name);
    CHECK(in->kind == HT_INLET_FLOW && in->wave.kind == HT_WAVE_TABLE, "%s: inlet kind", name);
    CHECK(in->wave.scale == 1 && in->tracer == 0, "%s: inlet scale/tracer", name);
    CLOSE(c->period, in->wave.t[in->wave.n - 1], "period = last time of the table");
    CLOSE(c->out_interval, c->period / 100, "output interval");
    CLOSE(c->cfl, 0.9, "Ccfl");
    CHECK(c->config_text && strstr(c->config_text, "# ---- case file:") &&
              strstr(c->config_text, "# ---- inlet table:") && strstr(c->config_text, "network:"),
          "%s: config_text lacks the case or the inlet file", name);
}

static void test_openbf(void)
{
    ht_case c;
    ht_error e;

    CHECK(load("openbf/cca/cca.yaml", NULL, 0, &c, &e) == 0, "cca: %s", e.msg);
    if (c.n_vessels) {
        check_openbf_common(&c, "cca");
        CHECK(c.n_vessels == 1 && c.n_nodes == 2 && c.n_outlets == 1, "cca counts");
        const ht_vessel_spec *v = &c.vessels[0];
        CHECK(!strcmp(v->name, "common_carotid_artery"), "cca name %s", v->name);
        CLOSE(v->length, 0.126, "cca L");
        CLOSE(v->r_prox, 2.6485e-3, "cca R0");
        CLOSE(v->r_dist, 2.6485e-3, "cca R0 distal");
        CLOSE(v->E, 700e3, "cca E");
        CLOSE(v->h, 0.24e-3, "cca h0");
        CLOSE(v->p_ref, 0, "cca Pext");
        CHECK(v->n_cells == 0, "cca: no M, cells from dx");
        CLOSE(c.zeta, 2, "cca gamma_profile");
        CLOSE(c.rho, 1060, "cca rho");
        CLOSE(c.mu, 4e-3, "cca mu");
        CHECK(c.cycles == 10, "cca cycles %d", c.cycles);
        CHECK(c.outlets[0].kind == HT_OUTLET_WINDKESSEL, "cca outlet: windkessel without an outlet: key");
        CLOSE(c.outlets[0].R1, 2.4875e8, "cca R1");
        CLOSE(c.outlets[0].R2, 1.8697e9, "cca R2");
        CLOSE(c.outlets[0].C, 1.7529e-10, "cca Cc");
        CLOSE(c.outlets[0].p_out, 0, "cca p_out");
        CHECK(c.inlets[0].wave.n == 100, "cca inlet samples %d", c.inlets[0].wave.n);
        CLOSE(c.period, 1.1, "cca period");
        CHECK(!strcmp(c.name, "cca"), "cca project name %s", c.name);
    }
    ht_case_free(&c);

    CHECK(load("openbf/uta/uta.yaml", NULL, 0, &c, &e) == 0, "uta: %s", e.msg);
    if (c.n_vessels) {
        check_openbf_common(&c, "uta");
        CHECK(c.n_vessels == 1 && c.n_outlets == 1, "uta counts");
        CLOSE(c.vessels[0].length, 0.24137, "uta L");
        CLOSE(c.vessels[0].r_prox, 9.87e-3, "uta R0");
        CLOSE(c.vessels[0].E, 400e3, "uta E");
        CLOSE(c.vessels[0].h, 0.82e-3, "uta h0");
        CLOSE(c.zeta, 9, "uta gamma_profile");
        CHECK(c.outlets[0].kind == HT_OUTLET_WINDKESSEL, "uta outlet kind");
        CLOSE(c.outlets[0].C, 1.0163e-8, "uta Cc");
        CLOSE(c.period, 0.955, "uta period");
    }
    ht_case_free(&c);

    CHECK(load("openbf/ibif/ibif.yaml", NULL, 0, &c, &e) == 0, "ibif: %s", e.msg);
    if (c.n_vessels) {
        check_openbf_common(&c, "ibif");
        CHECK(c.n_vessels == 3 && c.n_nodes == 4 && c.n_outlets == 2, "ibif counts");
        CHECK(count_kind(&c, HT_OUTLET_WINDKESSEL) == 2, "ibif: two windkessels");
        int p = vessel(&c, "parent"), d1 = vessel(&c, "d1"), d2 = vessel(&c, "d2");
        CHECK(p == 0 && d1 >= 0 && d2 >= 0, "ibif vessel names");
        if (p == 0 && d1 >= 0 && d2 >= 0) {
            CHECK(c.vessels[d1].node_from == c.vessels[p].node_to && c.vessels[d2].node_from == c.vessels[p].node_to,
                  "ibif: daughters start at the parent's end");
            CLOSE(c.vessels[p].r_prox, 0.7581e-2, "ibif parent R0");
            CLOSE(c.vessels[p].h, 0.9e-3, "ibif parent h0");
            CLOSE(c.vessels[d1].E, 700e3, "ibif d1 E");
        }
        CHECK(c.inlets[0].vessel == p, "ibif inlet on the parent");
    }
    ht_case_free(&c);

    CHECK(load("openbf/matthys2007/invitro_model.yaml", NULL, 0, &c, &e) == 0, "invitro: %s", e.msg);
    if (c.n_vessels) {
        check_openbf_common(&c, "invitro");
        CHECK(c.n_vessels == 37 && c.n_nodes == 38 && c.n_outlets == 16, "invitro counts: %d vessels, %d outlets",
              c.n_vessels, c.n_outlets);
        /* wk3 with R1 and Cc but no R2: a pure resistance R1 */
        CHECK(count_kind(&c, HT_OUTLET_RESISTANCE) == 16, "invitro: 16 resistances");
        const ht_vessel_spec *v = &c.vessels[0];
        CLOSE(v->length, 0.036, "v1 L");
        CLOSE(v->r_prox, 0.0144, "v1 Rp");
        CLOSE(v->r_dist, 0.013, "v1 Rd");
        CLOSE(v->E, 683224.72873, "v1 E");
        CHECK(v->h == 0, "v1: no h0, empirical thickness (h = 0)");
        CHECK(v->n_cells == 36, "v1 M -> cells %d", v->n_cells);
        CLOSE(c.zeta, 9, "invitro 'gamma profile'");
        CLOSE(c.rho, 1050, "invitro rho");
        CLOSE(c.mu, 2.5e-3, "invitro mu");
        CHECK(c.cycles == 100, "invitro cycles");
        int v3 = vessel(&c, "v3");
        for (int k = 0; k < c.n_outlets; ++k)
            if (c.outlets[k].vessel == v3) {
                CLOSE(c.outlets[k].R1, 2.67e9, "v3 R1");
                CHECK(c.outlets[k].C == 0 && c.outlets[k].R2 == 0, "v3: resistance has no C, R2");
            }
        /* no inlet_file: <project_name>_inlet.dat */
        CHECK(c.inlets[0].wave.n == 201, "invitro inlet samples %d", c.inlets[0].wave.n);
        CLOSE(c.period, 0.821001, "invitro period");
    }
    ht_case_free(&c);

    CHECK(load("openbf/adan56/adan56.yaml", NULL, 0, &c, &e) == 0, "adan56: %s", e.msg);
    if (c.n_vessels) {
        check_openbf_common(&c, "adan56");
        CHECK(c.n_vessels == 77 && c.n_nodes == 78 && c.n_outlets == 31, "adan56 counts");
        CHECK(count_kind(&c, HT_OUTLET_WINDKESSEL) == 31, "adan56: 31 windkessels");
        const ht_vessel_spec *v = &c.vessels[0];
        CHECK(!strcmp(v->name, "aortic_arch_I"), "adan56 first vessel %s", v->name);
        CLOSE(v->length, 0.0744137655, "aortic_arch_I L");
        CLOSE(v->r_prox, 0.01595, "aortic_arch_I Rp");
        CLOSE(v->r_dist, 0.0129524399, "aortic_arch_I Rd");
        CLOSE(v->E, 225000, "aortic_arch_I E");
        CLOSE(v->p_ref, 10000, "Pext -> reference pressure");
        CLOSE(c.p_init, 10000, "initial pressure = Pext");
        CHECK(v->h == 0 && v->n_cells == 74, "aortic_arch_I h/M");
        CLOSE(c.zeta, 2, "adan56 gamma_profile");
        int pt = vessel(&c, "posterior_tibial_L");
        for (int k = 0; k < c.n_outlets; ++k)
            if (c.outlets[k].vessel == pt) {
                CLOSE(c.outlets[k].R1, 2116559027.0, "posterior_tibial_L R1");
                CLOSE(c.outlets[k].R2, 8466236107.9, "posterior_tibial_L R2");
                CLOSE(c.outlets[k].C, 2.676139423e-11, "posterior_tibial_L Cc");
            }
        /* read as written, typos included (the converter corrects them), and the last
         * line has no newline */
        const ht_waveform *w = &c.inlets[0].wave;
        CHECK(w->n == 22, "adan56 inlet samples %d", w->n);
        if (w->n == 22) {
            CLOSE(w->v[17], -2.10178e-55, "adan56 typo value read as written");
            CLOSE(w->t[21], 1.0, "adan56 last time");
        }
        CLOSE(c.period, 1.0, "adan56 period");
    }
    ht_case_free(&c);

    /* overrides reach openBF files too */
    const char *sets[] = {"network.common_carotid_artery.R1=3e8", "solver.cycles=4", "blood.mu=3.5 mPa s",
                          "network.0.L=13 cm"};
    CHECK(load("openbf/cca/cca.yaml", sets, 4, &c, &e) == 0, "cca --set: %s", e.msg);
    if (c.n_vessels) {
        CLOSE(c.outlets[0].R1, 3e8, "--set R1");
        CHECK(c.cycles == 4, "--set cycles");
        CLOSE(c.mu, 3.5e-3, "--set mu");
        CLOSE(c.vessels[0].length, 0.13, "--set L");
    }
    ht_case_free(&c);
}

/* ---------------------------------------------------------------- own format */

static void test_small_case(void)
{
    ht_case c;
    ht_error e;
    CHECK(load("input/small_case.yaml", NULL, 0, &c, &e) == 0, "small_case: %s", e.msg);
    if (!c.n_vessels) return;
    CHECK(!strcmp(c.name, "small"), "name %s", c.name);
    CLOSE(c.rho, 1050, "density 1.05 g/mL");
    CLOSE(c.mu, 3.5e-3, "viscosity 3.5 cP");
    CLOSE(c.zeta, 2, "profile");
    CLOSE(c.alpha, 1.1, "alpha");
    CHECK(c.n_vessels == 3 && c.n_nodes == 4, "counts %d %d", c.n_vessels, c.n_nodes);
    int p = vessel(&c, "parent"), d1 = vessel(&c, "d1"), d2 = vessel(&c, "d2");
    CHECK(p == 0 && d1 == 1 && d2 == 2, "vessel order");
    if (p == 0 && d1 == 1 && d2 == 2) {
        const ht_vessel_spec *v = &c.vessels[p];
        CLOSE(v->length, 0.1, "parent length");
        CLOSE(v->r_prox, 8e-3, "parent proximal radius");
        CLOSE(v->r_dist, 7e-3, "parent distal radius (0.7 cm)");
        CLOSE(v->E, 5e5, "parent E");
        CLOSE(v->h, 1e-3, "parent thickness");
        CLOSE(v->p_ref, 80 * MMHG, "mesh reference pressure");
        CHECK(v->n_cells == 50, "cells");
        CHECK(v->n_points == 2, "points");
        if (v->n_points == 2) CLOSE(v->points[5], -0.1, "point z in cm");
        CHECK(strstr(v->file, "small_mesh.yaml") && v->line > 0, "vessel location %s:%d", v->file, v->line);
        CHECK(!strcmp(c.node_names[v->node_to], "7"), "numeric node name");
        CHECK(c.vessels[d1].node_from == v->node_to && c.vessels[d2].node_from == v->node_to, "junction node");
        CHECK(c.vessels[d1].h == 0, "thickness auto");
        CLOSE(c.vessels[d1].p_ref, 1e4, "per-vessel reference pressure");
        CLOSE(c.vessels[d1].length, 0.08, "80 mm");
        CHECK(c.vessels[d2].h == 0, "thickness omitted = auto");
        CLOSE(c.vessels[d2].E, 7e5, "bare E");
        CHECK(c.vessels[d2].n_cells == 0 && c.vessels[d2].n_points == 0, "d2 defaults");
    }
    CHECK(c.n_inlets == 1, "inlets");
    if (c.n_inlets == 1) {
        const ht_inlet_spec *in = &c.inlets[0];
        CHECK(in->vessel == p && in->kind == HT_INLET_FLOW, "inlet vessel/kind");
        CLOSE(in->tracer, 0.25, "tracer");
        CHECK(in->wave.kind == HT_WAVE_TABLE && in->wave.n == 4, "table");
        CLOSE(in->wave.scale, 1e-6, "table unit mL/s");
        CLOSE(in->wave.period, 0.8, "table period");
        CLOSE(ht_wave_eval(&in->wave, 0.2), 80e-6, "Q(0.2 s)");
        CLOSE(ht_wave_eval(&in->wave, 1.0), 80e-6, "Q(1.0 s), periodic");
    }
    CHECK(c.n_outlets == 2, "outlets");
    for (int k = 0; k < c.n_outlets; ++k) {
        const ht_outlet_spec *o = &c.outlets[k];
        if (o->vessel == d1) {
            CHECK(o->kind == HT_OUTLET_WINDKESSEL, "d1 windkessel");
            CLOSE(o->R1, MMHG / 1e-6, "R1 in mmHg s/mL");
            CLOSE(o->C, 0.9e-6 / MMHG, "C in mL/mmHg");
            CLOSE(o->R2, 1.2e9, "R2");
            CLOSE(o->p_out, 5 * MMHG, "p_out");
        } else {
            CHECK(o->vessel == d2 && o->kind == HT_OUTLET_RESISTANCE, "d2 resistance");
            CLOSE(o->R1, 2.6e9, "R");
            CHECK(o->C == 0 && o->R2 == 0 && o->p_out == 0, "resistance has no C, R2");
        }
    }
    CLOSE(c.cfl, 0.8, "cfl");
    CLOSE(c.dx, 2e-3, "dx");
    CHECK(c.min_cells == 6 && c.limiter == HT_LIMITER_MC && c.tracer_limiter == HT_LIMITER_MINMOD, "limiters");
    CLOSE(c.junction_tol, 1e-10, "junction_tol");
    CHECK(c.junction_maxit == 20 && c.tracer == 0, "maxit/tracer");
    CLOSE(c.p_init, 80 * MMHG, "initial pressure = vessel 0 reference pressure");
    CHECK(c.cycles == 3, "cycles");
    CLOSE(c.period, 0.8, "period from the inlet");
    CHECK(c.t_end == 0, "t_end");
    CLOSE(c.conv_tol, 1e-4, "convergence_tolerance");
    CLOSE(c.out_interval, 4e-3, "interval");
    CHECK(c.n_probes == 2, "probes");
    if (c.n_probes == 2) {
        CHECK(!strcmp(c.probes[0].name, "p_mid") && c.probes[0].vessel == p, "probe 0");
        CLOSE(c.probes[0].x, 0.05, "probe 0 x");
        CHECK(!strcmp(c.probes[1].name, "d2_1"), "default probe name %s", c.probes[1].name);
    }
    CHECK(c.config_text && strstr(c.config_text, "# ---- case file:") && strstr(c.config_text, "# ---- mesh file:") &&
              strstr(c.config_text, "# ---- inlet table:") && strstr(c.config_text, "0.75  10"),
          "config_text lacks a file");
    ht_case_free(&c);

    /* overrides: case keys, mesh keys (vessels.* go to the mesh file), lists by index/name */
    const char *sets[] = {"blood.viscosity=3 mPa s", "outlets.d1.R1=7e7", "inlet.0.tracer=1", "run.cycles=5",
                          "vessels.d1.length=9 cm", "vessels.parent.radius=[9 mm, 8 mm]", "numerics.cfl = 0.5",
                          "output.probes.p_mid.x=2 cm", "run.t_end=2 s"};
    CHECK(load("input/small_case.yaml", sets, 9, &c, &e) == 0, "small_case --set: %s", e.msg);
    if (c.n_vessels == 3) {
        CLOSE(c.mu, 3e-3, "--set viscosity");
        CLOSE(c.inlets[0].tracer, 1, "--set inlet.0.tracer");
        CHECK(c.cycles == 5, "--set cycles");
        CLOSE(c.vessels[1].length, 0.09, "--set mesh vessel length");
        CLOSE(c.vessels[0].r_prox, 9e-3, "--set radius list");
        CLOSE(c.vessels[0].r_dist, 8e-3, "--set radius list");
        CLOSE(c.cfl, 0.5, "--set with spaces");
        CLOSE(c.probes[0].x, 0.02, "--set probe by name");
        CLOSE(c.t_end, 2, "--set new key");
        for (int k = 0; k < c.n_outlets; ++k)
            if (c.outlets[k].vessel == 1) CLOSE(c.outlets[k].R1, 7e7, "--set outlets.d1.R1");
        CHECK(c.config_text && strstr(c.config_text, "# outlets.d1.R1=7e7"), "overrides listed in config_text");
    }
    ht_case_free(&c);

    /* a bad override is reported as --set:N with its key */
    struct {
        const char *set, *words;
    } bad[] = {
        {"run.cycles", "expected key.path=value"},
        {"=3", "the key path is empty"},
        {"vessels.9.length=1", "out of range"},
        {"vessels.nope.length=1", "no item with name or label 'nope'"},
        {"outlets.d1.R1.x=3", "this is a value"},
        {"blood.viscosity=4 mmHg", "--set:1: key 'blood.viscosity': expected a viscosity"},
        {"outlets.d9.R1=3", "unknown vessel 'd9'"},
        {"inlet.file=missing.dat", "cannot open the table file"},
        {"numerics.cfl=[1, 2", "not valid YAML flow"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        const char *s[] = {bad[i].set};
        int rc = load("input/small_case.yaml", s, 1, &c, &e);
        CHECK(rc == 2 && strstr(e.msg, bad[i].words), "--set %s: rc %d, message \"%s\" lacks \"%s\"", bad[i].set, rc,
              e.msg, bad[i].words);
        CHECK(c.vessels == NULL && c.config_text == NULL, "--set %s: case not freed on error", bad[i].set);
    }
}

static void test_inline_case(void)
{
    ht_case c;
    ht_error e;
    CHECK(load("input/inline_case.yaml", NULL, 0, &c, &e) == 0, "inline_case: %s", e.msg);
    if (!c.n_vessels) return;
    CHECK(!strcmp(c.name, "inline_case"), "name from the file %s", c.name);
    /* documented defaults */
    CLOSE(c.rho, 1060, "default density");
    CLOSE(c.mu, 4e-3, "default viscosity");
    CHECK(c.zeta == 9 && c.alpha == 1, "default profile");
    CHECK(c.cfl == 0.9 && c.dx == 1e-3 && c.min_cells == 4, "default numerics");
    CHECK(c.limiter == HT_LIMITER_MC && c.tracer_limiter == HT_LIMITER_SUPERBEE, "default limiters");
    CHECK(c.junction_tol == 1e-12 && c.junction_maxit == 50 && c.tracer == 1, "default junction/tracer");
    CHECK(c.cycles == 10 && c.conv_tol == 1e-3 && c.t_end == 0, "default run");
    CLOSE(c.p_init, 0, "default initial pressure = reference pressure 0");
    CHECK(c.vessels[0].p_ref == 0 && c.vessels[0].h == 0, "vessel defaults");
    CHECK(c.n_inlets == 2 && c.n_outlets == 1 && c.n_probes == 0, "counts");
    if (c.n_inlets == 2) {
        const ht_waveform *f = &c.inlets[0].wave;
        CHECK(f->kind == HT_WAVE_FOURIER && f->n_harm == 2, "fourier");
        CLOSE(f->period, 1, "fourier period");
        CLOSE(f->mean, 5e-6, "fourier mean");
        CLOSE(f->amp[0], 2e-6, "amplitude 0");
        CLOSE(f->phase[1], 3.14159265358979323846 / 2, "phase in deg");
        CLOSE(ht_wave_eval(f, 0.25), 5e-6 + 2e-6 - 1e-6 * 1.0 * 0 + 1e-6 * sin(3.14159265358979323846 + 3.14159265358979323846 / 2),
              "fourier value");
        const ht_inlet_spec *g = &c.inlets[1];
        CHECK(g->kind == HT_INLET_PRESSURE && g->wave.kind == HT_WAVE_GAUSSIAN, "gaussian pressure");
        CLOSE(g->wave.amplitude, 10 * MMHG, "gaussian amplitude");
        CLOSE(g->wave.t0, 0.05, "gaussian center");
        CLOSE(g->wave.k, 1e4, "gaussian k");
        CHECK(g->wave.period == 0 && g->tracer == 1, "gaussian not periodic");
    }
    CHECK(c.outlets[0].kind == HT_OUTLET_REFLECTION && c.outlets[0].Rt == -0.5, "reflection");
    CLOSE(c.period, 1, "period from the Fourier inlet");
    CLOSE(c.out_interval, 0.01, "default interval period/100");
    ht_case_free(&c);

    /* inline vessels take vessels.* overrides in the case itself */
    const char *sets[] = {"vessels.a.E=600 kPa", "vessels.2.length=20 cm", "inlet.1.tracer=0.5"};
    CHECK(load("input/inline_case.yaml", sets, 3, &c, &e) == 0, "inline --set: %s", e.msg);
    if (c.n_vessels == 3) {
        CLOSE(c.vessels[0].E, 6e5, "--set vessels.a.E");
        CLOSE(c.vessels[2].length, 0.2, "--set vessels.2.length");
        CLOSE(c.inlets[1].tracer, 0.5, "--set inlet.1.tracer");
    }
    ht_case_free(&c);

    CHECK(load("input/anchors_case.yaml", NULL, 0, &c, &e) == 0, "anchors: %s", e.msg);
    if (c.n_vessels == 2) {
        CLOSE(c.vessels[1].length, 0.07, "merge key: own value wins");
        CLOSE(c.vessels[1].r_prox, 4e-3, "merge key: merged value");
        CHECK(c.vessels[1].node_from == c.vessels[0].node_to, "merge key: own nodes");
        CHECK(strstr(c.vessels[1].file, "anchors_case.yaml") && c.vessels[1].line == 4, "merged vessel line %d",
              c.vessels[1].line);
    }
    ht_case_free(&c);

    CHECK(load("input/no_such_case.yaml", NULL, 0, &c, &e) == 2 && strstr(e.msg, "cannot open"), "missing file: %s",
          e.msg);
}

/* ---------------------------------------------------------------- broken cases */

static void test_bad_cases(void)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/bad", data_dir);
    DIR *d = opendir(dir);
    CHECK(d != NULL, "cannot open %s", dir);
    if (!d) return;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".yaml")) continue;
        char path[2048], line[512], expect[512] = "";
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "r");
        if (f && fgets(line, sizeof line, f) && !strncmp(line, "# expect: ", 10)) {
            snprintf(expect, sizeof expect, "%s", line + 10);
            expect[strcspn(expect, "\r\n")] = 0;
        }
        if (f) fclose(f);
        CHECK(expect[0], "%s: first line must be '# expect: <words>'", path);
        ht_case c;
        ht_error e;
        int rc = ht_case_load(path, NULL, 0, &c, &e);
        CHECK(rc == 2, "%s: expected return 2, got %d", de->d_name, rc);
        CHECK(rc != 2 || strstr(e.msg, expect), "%s: message \"%s\" lacks \"%s\"", de->d_name, e.msg, expect);
        /* every message starts with FILE:LINE */
        CHECK(rc != 2 || (strchr(e.msg, ':') && strstr(e.msg, ".yaml:")) || strstr(e.msg, ".dat:"),
              "%s: message \"%s\" does not start with FILE:LINE", de->d_name, e.msg);
        if (rc == 0) ht_case_free(&c);
        ++n;
    }
    closedir(d);
    CHECK(n >= 11, "only %d broken cases found in %s", n, dir);
    printf("test_input: %d broken cases rejected as expected\n", n);
}

/* ---------------------------------------------------------------- named sites */

static void test_sites(void)
{
    ht_case c;
    ht_error e;
    CHECK(load("input/sites_case.yaml", NULL, 0, &c, &e) == 0, "sites case: %s", e.msg);
    if (!c.n_vessels) return;
    int ao = vessel(&c, "aorta"), ir = vessel(&c, "iliac_R"), il = vessel(&c, "iliac_L");
    CHECK(c.n_sites == 5 && c.sites, "%d sites", c.n_sites);
    if (c.n_sites == 5) {
        CHECK(!strcmp(c.sites[0].name, "aortic root") && c.sites[0].vessel == ao && c.sites[0].x == 0, "site start");
        CHECK(c.sites[1].vessel == ao, "site mid vessel");
        CLOSE(c.sites[1].x, 0.04, "site mid");
        CLOSE(c.sites[2].x, c.vessels[ao].length, "site end");
        CHECK(c.sites[3].vessel == ir, "site with a length: vessel");
        CLOSE(c.sites[3].x, 0.025, "site x in mm");
        CHECK(c.sites[4].vessel == il, "site with a bare number: vessel");
        CLOSE(c.sites[4].x, 0.02, "site x bare SI");
        CHECK(strstr(c.sites[3].file, "sites_case.yaml") && c.sites[3].line == 10, "site location %s:%d",
              c.sites[3].file, c.sites[3].line);
    }
    /* ht_case_site: by name, ignoring case and ' ' / '_' / '-' */
    int v = -7;
    double x = -7;
    CHECK(ht_case_site(&c, "right iliac cannula", &v, &x) == 0 && v == ir && x == 0.025, "site lookup");
    v = -7;
    CHECK(ht_case_site(&c, "AORTIC_BIFURCATION", &v, &x) == 0 && v == ao, "normalised lookup");
    CLOSE(x, c.vessels[ao].length, "normalised lookup x");
    v = -7;
    x = -7;
    CHECK(ht_case_site(&c, "aortic roo", &v, &x) == -1 && v == -7 && x == -7, "unknown site: -1, untouched");
    CHECK(ht_case_site(&c, "aortic root", NULL, NULL) == 0, "NULL outputs allowed");
    /* probes by site land where the site says */
    CHECK(c.n_probes == 5, "%d probes", c.n_probes);
    if (c.n_probes == 5 && c.n_sites == 5) {
        const char *names[] = {"aortic_root", "cannula", "aortic_bifurcation", "by_vessel", "mid-aorta"};
        int site_of[] = {0, 3, 2, -1, 1};
        for (int k = 0; k < 5; ++k) {
            const ht_probe_spec *p = &c.probes[k];
            CHECK(!strcmp(p->name, names[k]), "probe %d name %s, expected %s", k, p->name, names[k]);
            if (site_of[k] < 0) continue;
            const ht_site_spec *st = &c.sites[site_of[k]];
            CHECK(p->vessel == st->vessel && p->x == st->x, "probe %s at (%d, %g), site %s at (%d, %g)", p->name,
                  p->vessel, p->x, st->name, st->vessel, st->x);
        }
        CHECK(c.probes[3].vessel == il, "probe by vessel");
        CLOSE(c.probes[3].x, 0.01, "probe by vessel x");
    }
    ht_case_free(&c);
    CHECK(c.sites == NULL && c.n_sites == 0, "ht_case_free clears the sites");

    /* an override moves a site, and the probes placed by it */
    const char *sets[] = {"sites.right iliac cannula.x=4 cm"};
    CHECK(load("input/sites_case.yaml", sets, 1, &c, &e) == 0, "sites --set: %s", e.msg);
    if (c.n_probes == 5) CLOSE(c.probes[1].x, 0.04, "--set sites.NAME.x moves the probe");
    ht_case_free(&c);

    /* a case without sites: lookups fail, nothing allocated */
    CHECK(load("input/inline_case.yaml", NULL, 0, &c, &e) == 0, "inline: %s", e.msg);
    CHECK(c.n_sites == 0 && ht_case_site(&c, "aortic root", &v, &x) == -1, "no sites");
    ht_case_free(&c);
    CHECK(ht_case_site(NULL, "aortic root", &v, &x) == -1, "NULL case");
}

/* The ADAN56 site table (meshes/adan56.yaml, generated by tools/make_adan56_mesh.py): every
 * site resolves, to the segment anatomy says, and the benchmark case's probes by site land
 * on it. */
static void test_adan56_sites(void)
{
    static const struct {
        const char *site, *vessel, *where; /* where: start, mid, end, or "" (a length) */
    } want[] = {
        {"aortic root", "aortic_sinus", "start"}, /* the 1 cm segment carrying the inlet */
        {"ascending aorta", "aortic_arch_I", "mid"},
        {"left main coronary", "left_main_coronary", "start"},
        {"left anterior descending", "left_anterior_descending", "start"},
        {"left circumflex", "left_circumflex", "start"},
        {"right coronary", "right_coronary", "start"},
        {"brachiocephalic origin", "brachiocephalic_trunk", "start"},
        {"right common carotid", "common_carotid_R", "mid"},
        {"left common carotid", "common_carotid_L", "mid"},
        {"aortic arch", "aortic_arch_II", "mid"},
        {"left subclavian origin", "subclavian_L_I", "start"},
        {"thoracic aorta", "thoracic_aorta_V", ""},
        {"celiac origin", "celiac_trunk", "start"},
        {"left renal origin", "renal_L", "start"},
        {"right renal origin", "renal_R", "start"},
        {"abdominal aorta", "abdominal_aorta_IV", "mid"},
        {"aortic bifurcation", "abdominal_aorta_V", "end"},
        {"right common iliac", "common_iliac_R", "mid"},
        {"left common iliac", "common_iliac_L", "mid"},
        {"right external iliac", "external_iliac_R", "mid"},
        {"left external iliac", "external_iliac_L", "mid"},
        {"right common femoral", "femoral_R_I", "start"},
        {"left common femoral", "femoral_L_I", "start"},
        {"right brachial", "brachial_R", "mid"},
        {"left brachial", "brachial_L", "mid"},
        {"right radial", "radial_R", "mid"},
        {"left radial", "radial_L", "mid"},
    };
    ht_case c;
    ht_error e;
    CHECK(load("../../cases/benchmarks/adan56.yaml", NULL, 0, &c, &e) == 0, "adan56 case: %s", e.msg);
    if (!c.n_vessels) return;
    CHECK(c.n_sites >= (int)(sizeof want / sizeof want[0]), "adan56: %d sites", c.n_sites);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; ++i) {
        int v = -1;
        double x = -1;
        CHECK(ht_case_site(&c, want[i].site, &v, &x) == 0, "adan56: no site '%s'", want[i].site);
        if (v < 0) continue;
        const ht_vessel_spec *vs = &c.vessels[v];
        CHECK(!strcmp(vs->name, want[i].vessel), "site '%s' in %s, expected %s", want[i].site, vs->name,
              want[i].vessel);
        double L = vs->length;
        if (!strcmp(want[i].where, "start"))
            CHECK(x == 0, "site '%s' x = %g, expected the start", want[i].site, x);
        else if (!strcmp(want[i].where, "mid"))
            CHECK(x == 0.5 * L, "site '%s' x = %g, expected mid %g", want[i].site, x, 0.5 * L);
        else if (!strcmp(want[i].where, "end"))
            CHECK(x == L, "site '%s' x = %g, expected the end %g", want[i].site, x, L);
        else
            CHECK(x > 0 && x < L, "site '%s' x = %g inside (0, %g)", want[i].site, x, L);
    }
    /* the thoracic site is half way down thoracic_aorta_I..VI (to 0.1 mm) */
    {
        const char *th[] = {"thoracic_aorta_I", "thoracic_aorta_II", "thoracic_aorta_III", "thoracic_aorta_IV"};
        double before = 0, total = 0, x = 0;
        int v = -1;
        for (int i = 0; i < 4; ++i) before += vessel(&c, th[i]) >= 0 ? c.vessels[vessel(&c, th[i])].length : 0;
        total = before;
        if (vessel(&c, "thoracic_aorta_V") >= 0 && vessel(&c, "thoracic_aorta_VI") >= 0)
            total += c.vessels[vessel(&c, "thoracic_aorta_V")].length + c.vessels[vessel(&c, "thoracic_aorta_VI")].length;
        if (ht_case_site(&c, "thoracic aorta", &v, &x) == 0)
            CHECK(fabs(before + x - total / 2) <= 0.6e-4, "thoracic aorta at %g m of %g m", before + x, total);
    }
    /* every site of the table resolves to itself, and only one site has each name */
    for (int k = 0; k < c.n_sites; ++k) {
        int v = -1;
        double x = -1;
        CHECK(ht_case_site(&c, c.sites[k].name, &v, &x) == 0 && v == c.sites[k].vessel && x == c.sites[k].x,
              "site '%s' does not resolve to itself", c.sites[k].name);
        CHECK(x >= 0 && v >= 0 && x <= c.vessels[v].length, "site '%s' outside its vessel", c.sites[k].name);
    }
    /* probes by site: the names tests and scripts use, at the site positions */
    static const struct {
        const char *probe, *site;
    } by_site[] = {{"aortic_root", "aortic root"},         {"aortic_arch_I_mid", "ascending aorta"},
                   {"common_carotid_R_mid", "right common carotid"}, {"common_iliac_R_mid", "right common iliac"},
                   {"radial_R_mid", "right radial"},       {"aortic_bifurcation", "aortic bifurcation"},
                   {"right_common_femoral", "right common femoral"},
                   {"left_main_coronary", "left main coronary"}, {"right_coronary", "right coronary"}};
    for (size_t i = 0; i < sizeof by_site / sizeof by_site[0]; ++i) {
        int v = -1, found = 0;
        double x = -1;
        ht_case_site(&c, by_site[i].site, &v, &x);
        for (int p = 0; p < c.n_probes; ++p)
            if (!strcmp(c.probes[p].name, by_site[i].probe)) {
                found = 1;
                CHECK(c.probes[p].vessel == v && c.probes[p].x == x, "probe %s not at site '%s'", by_site[i].probe,
                      by_site[i].site);
            }
        CHECK(found, "adan56: no probe %s", by_site[i].probe);
    }
    ht_case_free(&c);

    /* sites.* overrides go to the mesh file the case names, and move the probes by site */
    const char *sets[] = {"sites.aortic root.x=1 cm"};
    CHECK(load("../../cases/benchmarks/adan56.yaml", sets, 1, &c, &e) == 0, "adan56 --set sites: %s", e.msg);
    if (c.n_probes > 0) {
        CHECK(!strcmp(c.probes[0].name, "aortic_root"), "adan56 probe 0 %s", c.probes[0].name);
        CLOSE(c.probes[0].x, 0.01, "--set sites.aortic root.x");
    }
    ht_case_free(&c);
}

/* heart: (docs/input.md): the section, its --set overrides, the made-up root inlet */
static void test_heart(void)
{
    ht_case c;
    ht_error e;
    CHECK(load("heart/tiny_heart.yaml", NULL, 0, &c, &e) == 0, "tiny_heart: %s", e.msg);
    if (c.vessels) {
        CHECK(c.heart.enabled && c.heart.preset == 0 && c.heart.vessel == 0, "heart section");
        CHECK(c.n_inlets == 1 && c.inlets[0].kind == HT_INLET_HEART && c.inlets[0].vessel == 0, "heart inlet");
        CLOSE(c.period, 0.8, "period from the healthy preset");
        CHECK(isnan(c.heart.chamber[HT_CH_LV][HT_CHP_EES]), "no Ees override");
        CHECK(!c.heart.bronchial_given, "no bronchial_resistance: the preset's");
        ht_case_free(&c);
    }
    const char *sets[] = {"heart.preset=cardiogenic-shock", "heart.heart_rate=80 /min", "heart.lv.Ees=0.8 mmHg/mL",
                          "heart.rv.lambda=0.02 /mL", "heart.volume_change=-100 mL", "heart.valves=diode"};
    CHECK(load("heart/tiny_heart.yaml", sets, 6, &c, &e) == 0, "tiny_heart --set heart.*: %s", e.msg);
    if (c.vessels) {
        CHECK(c.heart.preset == 1 && c.heart.valve == 1, "--set heart.preset, heart.valves");
        CLOSE(c.heart.heart_rate, 80.0 / 60, "--set heart.heart_rate");
        CLOSE(c.period, 0.75, "period from heart_rate");
        CLOSE(c.heart.chamber[HT_CH_LV][HT_CHP_EES], 0.8 * 133.322387415e6, "--set heart.lv.Ees");
        CLOSE(c.heart.chamber[HT_CH_RV][HT_CHP_LAMBDA], 2e4, "--set heart.rv.lambda");
        CLOSE(c.heart.volume_change, -1e-4, "--set heart.volume_change");
        ht_case_free(&c);
    }
    const char *br[] = {"heart.bronchial_resistance=50 mmHg s/mL"};
    CHECK(load("heart/tiny_heart.yaml", br, 1, &c, &e) == 0, "--set heart.bronchial_resistance: %s", e.msg);
    if (c.vessels) {
        CHECK(c.heart.bronchial_given, "bronchial_resistance given");
        CLOSE(c.heart.bronchial_R, 50 * 133.322387415e6, "--set heart.bronchial_resistance");
        ht_case_free(&c);
    }
    const char *br0[] = {"heart.bronchial_resistance=none"};
    CHECK(load("heart/tiny_heart.yaml", br0, 1, &c, &e) == 0, "bronchial_resistance none: %s", e.msg);
    if (c.vessels) {
        CHECK(c.heart.bronchial_given && c.heart.bronchial_R == 0, "bronchial_resistance none -> 0");
        ht_case_free(&c);
    }
    const char *bad[] = {"heart.preset=sick"};
    CHECK(load("heart/tiny_heart.yaml", bad, 1, &c, &e) == 2 && strstr(e.msg, "--set:1: key 'heart.preset'"),
          "bad --set heart.preset: %s", e.msg);
    const char *bad2[] = {"heart.lv.Ees=3 mmHg"};
    CHECK(load("heart/tiny_heart.yaml", bad2, 1, &c, &e) == 2 && strstr(e.msg, "key 'heart.lv.Ees': expected a elastance"),
          "bad --set heart.lv.Ees: %s", e.msg);
}

int main(int argc, char **argv)
{
    if (argc > 1) data_dir = argv[1];
    test_openbf();
    test_small_case();
    test_inline_case();
    test_bad_cases();
    test_sites();
    test_adan56_sites();
    test_heart();
    if (failures) {
        fprintf(stderr, "test_input: %d check(s) failed\n", failures);
        return 1;
    }
    printf("test_input: all checks passed\n");
    return 0;
}
