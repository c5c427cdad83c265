#include "driver.h"
#include "network.h"
#include "output.h"
#include "solver.h"
#include "step.h"
#include "cpu/step_cpu.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static const char *fail_text(int code)
{
    switch (code) {
    case HT_FAIL_NONFINITE: return "non-finite value (NaN or Inf)";
    case HT_FAIL_AREA: return "area <= 0 (vessel collapsed)";
    case HT_FAIL_CFL: return "CFL number > 1 (wave speed grew faster than the step)";
    case HT_FAIL_JUNCTION: return "junction Newton solve did not converge";
    case HT_FAIL_BOUNDARY: return "boundary condition solve did not converge";
    case HT_FAIL_MEMORY: return "out of memory for the probe samples";
    case -1: return "CUDA runtime error (see the message above)";
    default: return "unknown failure";
    }
}

/* Run length and output spacing: with a periodic inlet the output interval divides the
 * period, so every cycle is sampled at the same phases (needed to compare cycles). */
typedef struct {
    double t_end, interval, period;
    long n_out;          /* output samples after t = 0 */
    long per_cycle;      /* samples per cycle, 0 if not periodic */
    int cycles;
} schedule;

static schedule make_schedule(const ht_case *c, const ht_run_opts *o)
{
    schedule s;
    memset(&s, 0, sizeof s);
    s.period = c->period;
    s.cycles = o->cycles > 0 ? o->cycles : c->cycles;
    double interval = c->out_interval > 0 ? c->out_interval : (c->period > 0 ? c->period / 100 : 1e-3);
    /* --cycles means nothing without a period (a single pulse): t_end rules then */
    if (c->t_end > 0 && (o->cycles <= 0 || c->period <= 0)) {
        s.t_end = c->t_end;
        s.per_cycle = c->period > 0 ? (long)floor(c->period / interval + 0.5) : 0;
        if (s.per_cycle > 0) interval = c->period / (double)s.per_cycle;
    } else {
        s.per_cycle = (long)floor(c->period / interval + 0.5);
        if (s.per_cycle < 1) s.per_cycle = 1;
        interval = c->period / (double)s.per_cycle;
        s.t_end = s.cycles * c->period;
    }
    s.interval = interval;
    s.n_out = (long)ceil(s.t_end / interval - 1e-9);
    return s;
}

int ht_check(const ht_case *c)
{
    ht_network nw;
    ht_error err;
    if (ht_network_build(c, &nw, &err)) {
        fprintf(stderr, "hemotree: %s\n", err.msg);
        return 2;
    }
    ht_solver s;
    if (ht_solver_init(&s, &nw)) {
        fprintf(stderr, "hemotree: out of memory\n");
        ht_network_free(&nw);
        return 2;
    }
    const ht_net *n = &nw.net;
    printf("case      %s (%s)\n", c->name, c->path);
    printf("network   %d vessels, %d cells, %d junctions, %d inlets, %d outlets, %d probes\n",
           n->n_vessels, n->n_cells, n->n_junctions, n->n_inlets, n->n_outlets, n->n_probes);
    printf("blood     rho = %g kg/m^3, mu = %g mPa s, zeta = %g, alpha = %g\n", c->rho,
           1e3 * c->mu, c->zeta, c->alpha);
    s.clk.t_stop = 1e30;
    double dt = ht_cpu_dt(n, &s.U, &s.clk);
    printf("time      period %g s, %d cycles, initial dt %.3e s (CFL %g)\n", c->period, c->cycles,
           dt, c->cfl);
    printf("%-28s %8s %6s %9s %9s %9s %9s\n", "vessel", "L [cm]", "cells", "dx [mm]", "r0 [mm]",
           "c0 [m/s]", "p0 [kPa]");
    for (int v = 0; v < n->n_vessels; ++v) {
        int i = nw.vessel_first[v];
        double A0 = nw.sqrtA0[i] * nw.sqrtA0[i];
        printf("%-28s %8.2f %6d %9.3f %9.3f %9.3f %9.3f\n", c->vessels[v].name,
               100 * c->vessels[v].length, nw.vessel_n[v], 1e3 * nw.vessel_dx[v],
               1e3 * sqrt(A0 / HT_PI), ht_wave_speed(A0, nw.K[i], c->rho), 1e-3 * nw.vessel_p0[v]);
    }
    for (int k = 0; k < c->n_outlets; ++k) {
        const ht_outlet_spec *o = &c->outlets[k];
        const char *vn = c->vessels[o->vessel].name;
        if (o->kind == HT_OUTLET_REFLECTION)
            printf("outlet    %-20s reflection Rt = %g\n", vn, o->Rt);
        else if (o->kind == HT_OUTLET_RESISTANCE)
            printf("outlet    %-20s resistance R = %.4g Pa s/m^3, p_out = %g Pa\n", vn, o->R1, o->p_out);
        else if (o->kind == HT_OUTLET_CORONARY)
            printf("outlet    %-20s coronary Ra = %.4g, Ca = %.4g, Ram = %.4g, Cim = %.4g, Rv = %.4g, "
                   "p_out = %g, P_im scale %g\n", vn, o->R1, o->Ca, o->Ram, o->Cim, o->Rv, o->p_out, o->pim.scale);
        else
            printf("outlet    %-20s windkessel R1 = %.4g, C = %.4g, R2 = %.4g, p_out = %g\n", vn,
                   o->R1, o->C, o->R2, o->p_out);
    }
    for (int k = 0; k < c->n_sites; ++k) {
        const ht_site_spec *st = &c->sites[k];
        const ht_vessel_spec *vs = &c->vessels[st->vessel];
        printf("site      %-28s %-28s x = %6.2f cm (%3.0f%% of %.2f cm)\n", st->name, vs->name, 100 * st->x,
               vs->length > 0 ? 100 * st->x / vs->length : 0.0, 100 * vs->length);
    }
    ht_solver_free(&s);
    ht_network_free(&nw);
    return 0;
}

/* Per-cycle periodicity check at the middle of every vessel: the largest change of the
 * pressure waveform between consecutive cycles, relative to that site's pulse pressure. */
typedef struct {
    long per_cycle;
    int sites;
    int *cell;
    double *cur, *prev;       /* [per_cycle][sites] */
    int have_prev;
    int n_rows;
    double *rows;             /* [cycle, error, max abs change (Pa)] */
} periodicity;

static int periodicity_init(periodicity *pr, const ht_network *nw, long per_cycle, int cycles)
{
    memset(pr, 0, sizeof *pr);
    pr->per_cycle = per_cycle;
    pr->sites = nw->net.n_vessels;
    pr->cell = malloc(sizeof(int) * (size_t)pr->sites);
    pr->cur = calloc((size_t)(per_cycle * pr->sites), sizeof(double));
    pr->prev = calloc((size_t)(per_cycle * pr->sites), sizeof(double));
    pr->rows = calloc((size_t)(3 * (cycles + 2)), sizeof(double));
    if (!pr->cell || !pr->cur || !pr->prev || !pr->rows) return -1;
    for (int v = 0; v < pr->sites; ++v) pr->cell[v] = nw->vessel_first[v] + nw->vessel_n[v] / 2;
    return 0;
}

static void periodicity_free(periodicity *pr)
{
    free(pr->cell);
    free(pr->cur);
    free(pr->prev);
    free(pr->rows);
}

/* sample k (1-based since t = 0) of the run; closes a cycle every per_cycle samples */
static void periodicity_sample(periodicity *pr, long k, const double *p, int max_rows)
{
    long slot = (k - 1) % pr->per_cycle;
    for (int v = 0; v < pr->sites; ++v) pr->cur[slot * pr->sites + v] = p[pr->cell[v]];
    if (slot != pr->per_cycle - 1) return;
    int cycle = (int)(k / pr->per_cycle);
    if (pr->have_prev && pr->n_rows < max_rows) {
        double worst = 0, worst_abs = 0;
        for (int v = 0; v < pr->sites; ++v) {
            double lo = 1e300, hi = -1e300, d = 0;
            for (long s = 0; s < pr->per_cycle; ++s) {
                double x = pr->cur[s * pr->sites + v];
                lo = x < lo ? x : lo;
                hi = x > hi ? x : hi;
                double e = fabs(x - pr->prev[s * pr->sites + v]);
                d = e > d ? e : d;
            }
            double pp = hi - lo > 1 ? hi - lo : 1;
            worst = d / pp > worst ? d / pp : worst;
            worst_abs = d > worst_abs ? d : worst_abs;
        }
        double *r = &pr->rows[3 * pr->n_rows++];
        r[0] = cycle;
        r[1] = worst;
        r[2] = worst_abs;
    }
    memcpy(pr->prev, pr->cur, sizeof(double) * (size_t)(pr->per_cycle * pr->sites));
    pr->have_prev = 1;
}

typedef struct {
    double *p, *q, *a, *u, *c;
} host_fields;

static void fields_from_state(const ht_network *nw, const ht_solver *s, host_fields *f)
{
    const ht_net *n = &nw->net;
    for (int i = 0; i < n->n_cells; ++i) {
        f->p[i] = ht_cell_pressure(n, &s->U, i);
        f->q[i] = s->U.Q[i];
        f->a[i] = s->U.A[i];
        f->u[i] = s->U.Q[i] / s->U.A[i];
        f->c[i] = s->U.C[i] / s->U.A[i];
    }
}

static char *default_out_path(const ht_case *c)
{
    size_t len = strlen(c->name) + 4;
    char *p = malloc(len);
    if (p) snprintf(p, len, "%s.h5", c->name);
    return p;
}

int ht_run(const ht_case *c, const ht_run_opts *o)
{
    ht_network nw;
    ht_error err;
    if (ht_network_build(c, &nw, &err)) {
        fprintf(stderr, "hemotree: %s\n", err.msg);
        return 2;
    }
    int status = 1;
    char msg[1024];
    char *out_path = o->out_path ? NULL : default_out_path(c);
    const char *path = o->out_path ? o->out_path : out_path;
    ht_solver s;
    ht_output *out = NULL;
    periodicity pr;
    memset(&pr, 0, sizeof pr);
    host_fields f;
    memset(&f, 0, sizeof f);
    schedule sc = make_schedule(c, o);
    const ht_net *n = &nw.net;

    if (!path || ht_solver_init(&s, &nw)) {
        fprintf(stderr, "hemotree: out of memory\n");
        ht_network_free(&nw);
        free(out_path);
        return 1;
    }
    if (o->backend != HT_BACKEND_CPU) {
        char berr[512];
        if (ht_solver_use_cuda(&s, berr, sizeof berr)) {
            if (o->backend == HT_BACKEND_CUDA) {
                fprintf(stderr, "hemotree: --backend cuda: %s\n", berr);
                ht_solver_free(&s);
                ht_network_free(&nw);
                free(out_path);
                return 2;
            }
            if (!o->quiet) printf("hemotree: backend cpu (CUDA not used: %s)\n", berr);
        } else if (!o->quiet) {
            printf("hemotree: backend cuda\n");
        }
    }
    double *fbuf = calloc((size_t)(5 * n->n_cells), sizeof(double));
    if (!fbuf || periodicity_init(&pr, &nw, sc.per_cycle > 0 ? sc.per_cycle : 1, sc.cycles + (int)(sc.t_end / (sc.period > 0 ? sc.period : 1)))) {
        fprintf(stderr, "hemotree: out of memory\n");
        goto done;
    }
    f.p = fbuf;
    f.q = fbuf + n->n_cells;
    f.a = fbuf + 2 * n->n_cells;
    f.u = fbuf + 3 * n->n_cells;
    f.c = fbuf + 4 * n->n_cells;

    ht_output_desc d;
    memset(&d, 0, sizeof d);
    d.path = path;
    d.n_cells = n->n_cells;
    d.n_vessels = n->n_vessels;
    d.n_points = nw.n_points;
    d.points = nw.points;
    d.segments = nw.segments;
    d.vessel_id = nw.cell_vessel;
    d.x = nw.x;
    d.vessel_names = nw.vessel_names;
    d.tracer = c->tracer;
    d.n_probes = n->n_probes;
    d.probe_names = nw.probe_names;
    d.config_text = c->config_text ? c->config_text : "";
    d.case_name = c->name;
    d.version = HT_VERSION;
    d.git_hash = HT_GIT_HASH;
    d.flush_seconds = 2.0;
    if (ht_output_open(&d, &out, msg, sizeof msg)) {
        fprintf(stderr, "hemotree: cannot write output: %s\n", msg);
        out = NULL;
        goto done;
    }

    double v0 = ht_solver_volume(&s);
    fields_from_state(&nw, &s, &f);
    if (ht_output_fields(out, 0.0, f.p, f.q, f.a, f.u, c->tracer ? f.c : NULL, msg, sizeof msg)) {
        fprintf(stderr, "hemotree: writing output: %s\n", msg);
        goto done;
    }
    double w0 = wall_now(), w_last = w0;
    int max_rows = sc.cycles + (int)(sc.t_end / (sc.period > 0 ? sc.period : 1)) + 2;
    for (long k = 1; k <= sc.n_out; ++k) {
        double t_stop = k == sc.n_out ? sc.t_end : k * sc.interval;
        int code = ht_solver_advance(&s, t_stop);
        /* what was sampled before a failure is still written */
        for (int p = 0; p < n->n_probes; ++p) {
            /* probe samples are interleaved [sample][probe]; the writer takes one probe */
            size_t ns = s.pn;
            double *col = malloc(sizeof(double) * 3 * (ns ? ns : 1));
            if (!col) { fprintf(stderr, "hemotree: out of memory\n"); goto done; }
            for (size_t r = 0; r < ns; ++r) {
                col[r] = s.pp[r * n->n_probes + p];
                col[ns + r] = s.pq[r * n->n_probes + p];
                col[2 * ns + r] = s.pa[r * n->n_probes + p];
            }
            int werr = ht_output_probe(out, p, ns, s.pt, col, col + ns, col + 2 * ns, msg, sizeof msg);
            free(col);
            if (werr) { fprintf(stderr, "hemotree: writing output: %s\n", msg); goto done; }
        }
        ht_solver_probe_clear(&s);
        if (code) {
            char where[256];
            if (code == HT_FAIL_MEMORY || code < 0) {
                /* not a place in the network: the host or the device runtime failed */
                snprintf(where, sizeof where, "the solver (not a numerical failure)");
                s.clk.fail_t = s.clk.t;
            } else {
                ht_network_where(&nw, c, s.clk.fail_index, where, sizeof where);
            }
            snprintf(msg, sizeof msg, "run failed at t = %.6f s (step %ld): %s in %s", s.clk.fail_t,
                     s.clk.step, fail_text(code), where);
            fprintf(stderr, "%shemotree: %s\n", o->progress ? "\n" : "", msg);
            fprintf(stderr, "hemotree: output up to t = %.6f s kept in %s\n", (k - 1) * sc.interval, path);
            ht_output_attr(out, "status", msg);
            goto done;
        }
        fields_from_state(&nw, &s, &f);
        if (ht_output_fields(out, t_stop, f.p, f.q, f.a, f.u, c->tracer ? f.c : NULL, msg, sizeof msg)) {
            fprintf(stderr, "hemotree: writing output: %s\n", msg);
            goto done;
        }
        if (sc.per_cycle > 0) periodicity_sample(&pr, k, f.p, max_rows);
        double now = wall_now();
        if (o->progress && (now - w_last > 0.5 || k == sc.n_out)) {
            w_last = now;
            double cyc = sc.period > 0 ? s.clk.t / sc.period : 0;
            printf("\rcycle %6.2f / %d   t = %8.4f s   %8.3f simulated s per wall s   ", cyc,
                   sc.cycles, s.clk.t, s.clk.t / (now - w0 + 1e-12));
            fflush(stdout);
        }
    }
    if (o->progress) printf("\n");

    double wall = wall_now() - w0;
    double vin = 0, vout = 0;
    for (int k = 0; k < n->n_inlets; ++k) vin += s.w.vol_in[k];
    for (int k = 0; k < n->n_outlets; ++k) vout += s.w.vol_out[k];
    double v1 = ht_solver_volume(&s);
    {
        const char *names[] = {"stored_start", "stored_end", "inflow", "outflow", "imbalance"};
        const char *units[] = {"m^3", "m^3", "m^3", "m^3", "m^3"};
        double row[5] = {v0, v1, vin, vout, (v1 - v0) - (vin - vout)};
        if (ht_output_table(out, "/metrics/volume", 1, 5, names, units, row, msg, sizeof msg))
            fprintf(stderr, "hemotree: writing output: %s\n", msg);
    }
    if (pr.n_rows > 0) {
        const char *names[] = {"cycle", "relative_change", "max_change"};
        const char *units[] = {"1", "1", "Pa"};
        if (ht_output_table(out, "/metrics/periodicity", (size_t)pr.n_rows, 3, names, units, pr.rows, msg, sizeof msg))
            fprintf(stderr, "hemotree: writing output: %s\n", msg);
    }
    {
        const char *names[] = {"steps", "wall_seconds", "cell_updates_per_second", "simulated_seconds"};
        const char *units[] = {"1", "s", "1/s", "s"};
        double row[4] = {(double)s.clk.step, wall, wall > 0 ? (double)s.clk.step * n->n_cells / wall : 0, s.clk.t};
        if (ht_output_table(out, "/metrics/performance", 1, 4, names, units, row, msg, sizeof msg))
            fprintf(stderr, "hemotree: writing output: %s\n", msg);
    }
    ht_output_attr(out, "status", "completed");
    status = 0;
    if (!o->quiet) {
        printf("hemotree: %s: %ld steps, %.4g s simulated in %.3g s wall (%.3g cell updates/s)\n",
               c->name, s.clk.step, s.clk.t, wall, wall > 0 ? (double)s.clk.step * n->n_cells / wall : 0);
        printf("volume: stored %.6e -> %.6e m^3, in %.6e, out %.6e, imbalance %.3e (relative %.2e)\n",
               v0, v1, vin, vout, (v1 - v0) - (vin - vout), fabs((v1 - v0) - (vin - vout)) / (v0 > 0 ? v0 : 1));
        if (pr.n_rows > 0) {
            double *last = &pr.rows[3 * (pr.n_rows - 1)];
            if (last[1] <= c->conv_tol)
                printf("periodic state: reached, cycle %d differs from the previous by %.2e of the pulse pressure (%.3g mmHg) <= %.1e\n",
                       (int)last[0], last[1], last[2] / 133.322387415, c->conv_tol);
            else
                printf("periodic state: not reached after %d cycles: change %.2e of the pulse pressure (%.3g mmHg) > %.1e\n",
                       (int)last[0], last[1], last[2] / 133.322387415, c->conv_tol);
        }
        printf("output: %s\n", path);
    }

done:
    if (out && ht_output_close(out, msg, sizeof msg)) {
        fprintf(stderr, "hemotree: closing output: %s\n", msg);
        status = 1;
    }
    free(fbuf);
    periodicity_free(&pr);
    ht_solver_free(&s);
    ht_network_free(&nw);
    free(out_path);
    return status;
}
