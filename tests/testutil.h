/* Small helpers for the C tests: checks that count failures, and cases built in code
 * (independent of the YAML loader) for the verification problems. */
#ifndef HT_TESTUTIL_H
#define HT_TESTUTIL_H
#include "case.h"
#include "network.h"
#include "solver.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tu_failures = 0;

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            ++tu_failures;                                                  \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                   \
            fprintf(stderr, "\n");                                          \
        }                                                                   \
    } while (0)

#define CHECK_CLOSE(a, b, rel, what)                                                        \
    do {                                                                                    \
        double a_ = (a), b_ = (b);                                                          \
        double d_ = fabs(a_ - b_), s_ = fabs(b_) > 1e-300 ? fabs(b_) : 1;                   \
        CHECK(d_ <= (rel) * s_, "%s: got %.15g, expected %.15g (rel. diff %.3e > %.1e)",   \
              what, a_, b_, d_ / s_, (double)(rel));                                        \
    } while (0)

static int tu_finish(const char *name)
{
    if (tu_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, tu_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}

/* A case with nv vessels and defaults; the caller fills vessels, inlets, outlets. */
static ht_case tu_case(int nv, int nn, int n_in, int n_out, int n_probes)
{
    ht_case c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "test");
    snprintf(c.path, sizeof c.path, "(test)");
    c.rho = 1050;
    c.mu = 0;
    c.zeta = 9;
    c.alpha = 1;
    c.n_nodes = nn;
    c.node_names = calloc((size_t)nn, sizeof *c.node_names);
    for (int k = 0; k < nn; ++k) snprintf(c.node_names[k], HT_NAME_MAX, "n%d", k);
    c.n_vessels = nv;
    c.vessels = calloc((size_t)nv, sizeof *c.vessels);
    c.n_inlets = n_in;
    c.inlets = calloc((size_t)(n_in ? n_in : 1), sizeof *c.inlets);
    c.n_outlets = n_out;
    c.outlets = calloc((size_t)(n_out ? n_out : 1), sizeof *c.outlets);
    c.n_probes = n_probes;
    c.probes = calloc((size_t)(n_probes ? n_probes : 1), sizeof *c.probes);
    c.cfl = 0.9;
    c.dx = 1e-3;
    c.min_cells = 4;
    c.limiter = HT_LIMITER_MINMOD;
    c.tracer_limiter = HT_LIMITER_SUPERBEE;
    c.junction_tol = 1e-13;
    c.junction_maxit = 50;
    c.tracer = 1;
    c.period = 1;
    c.cycles = 1;
    c.conv_tol = 1e-3;
    return c;
}

static void tu_case_free(ht_case *c)
{
    free(c->node_names);
    free(c->vessels);
    free(c->inlets);
    free(c->outlets);
    free(c->probes);
}

static void tu_vessel(ht_case *c, int v, const char *name, int from, int to, double L, double r0,
                      double r1, double E, double h, int cells)
{
    ht_vessel_spec *vs = &c->vessels[v];
    snprintf(vs->name, sizeof vs->name, "%s", name);
    vs->node_from = from;
    vs->node_to = to;
    vs->length = L;
    vs->r_prox = r0;
    vs->r_dist = r1;
    vs->E = E;
    vs->h = h;
    vs->n_cells = cells;
    snprintf(vs->file, sizeof vs->file, "(test)");
}

/* Inlet 0 on vessel v: a Fourier flow of period 0.8 s, mean 40 mL/s and the n harmonics
 * amp (m^3/s) with phases ph (kept, not copied), carrying ECMO fraction 1. */
static void tu_fourier_inlet(ht_case *c, int v, int n, double *amp, double *ph)
{
    c->inlets[0].vessel = v;
    c->inlets[0].wave.kind = HT_WAVE_FOURIER;
    c->inlets[0].wave.period = 0.8;
    c->inlets[0].wave.mean = 4e-5;
    c->inlets[0].wave.n_harm = n;
    c->inlets[0].wave.amp = amp;
    c->inlets[0].wave.phase = ph;
    c->inlets[0].wave.scale = 1;
    c->inlets[0].tracer = 1;
}

/* The small closed-loop test tree: a 10 cm parent and two 8 cm daughters, coarse cells,
 * MC limiter, reference and initial pressure p (Pa); two outlets and one probe allocated. */
static ht_case tu_small_tree(double p)
{
    ht_case c = tu_case(3, 4, 1, 2, 1);
    c.rho = 1060;
    c.mu = 4e-3;
    tu_vessel(&c, 0, "parent", 0, 1, 0.10, 0.012, 0.011, 4e5, 1.5e-3, 10);
    tu_vessel(&c, 1, "left", 1, 2, 0.08, 0.008, 0.008, 6e5, 1e-3, 8);
    tu_vessel(&c, 2, "right", 1, 3, 0.08, 0.008, 0.008, 6e5, 1e-3, 8);
    for (int v = 0; v < 3; ++v) c.vessels[v].p_ref = p;
    c.p_init = p;
    c.limiter = HT_LIMITER_MC;
    return c;
}

/* A heart (kernels/heart_presets.h) driving vessel 0 through inlet 0: preset, LV Ees
 * override when ees > 0 (Pa/m^3), valve kind (-1: the preset's). */
static void tu_heart(ht_case *c, int preset, double ees, int valve)
{
    c->inlets[0].vessel = 0;
    c->inlets[0].kind = HT_INLET_HEART;
    c->inlets[0].wave.kind = HT_WAVE_CONSTANT;
    c->inlets[0].wave.scale = 1;
    c->heart.enabled = 1;
    c->heart.preset = preset;
    c->heart.vessel = 0;
    for (int k = 0; k < HT_CH_N; ++k)
        for (int q = 0; q < HT_CHP_N; ++q) c->heart.chamber[k][q] = NAN;
    if (ees > 0) c->heart.chamber[HT_CH_LV][HT_CHP_EES] = ees;
    c->heart.valve = valve;
    snprintf(c->heart.file, sizeof c->heart.file, "(test)");
    c->heart.line = 1;
}

/* Build the network of c into nw; on failure print why and free c. 0 or 1. */
static int tu_build(ht_case *c, ht_network *nw)
{
    ht_error err;
    if (ht_network_build(c, nw, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        tu_case_free(c);
        return 1;
    }
    return 0;
}

#endif
