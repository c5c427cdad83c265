#define _POSIX_C_SOURCE 200809L /* access */
#include "driver.h"
#include "checkpoint.h"
#include "heart_metrics.h"
#include "watershed_metrics.h"
#include "heart_presets.h"
#include "heart_stage.h"
#include "network.h"
#include "output.h"
#include "solver.h"
#include "writer.h"
#include "step.h"
#include <unistd.h>
#include "cpu/step_cpu.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Queued appends beyond this make the solver wait for the disk (writer.h): a few output
 * times of a large ensemble (256 ADAN56 members: ~110 MB of fields per output time). */
#define HT_WRITER_MAX_BYTES ((size_t)1 << 30)

/* A core the solver does not use (its OpenMP threads fewer than the cores this process may
 * run on: libgomp's count follows the affinity mask a batch system or mpirun binding sets),
 * on which the output writer's thread can run without slowing the step down. */
static int spare_core(void)
{
#ifdef _OPENMP
    return omp_get_num_procs() > omp_get_max_threads();
#else
    return sysconf(_SC_NPROCESSORS_ONLN) > 1;
#endif
}

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
    if (n->heart) {
        const ht_heart_par *P = &nw.heart_par[0];
        const ht_heart_state *X = &nw.heart_init[0];
        printf("heart     %s at the start of '%s', %.1f /min (T %.4f s), LV Ees %.3g mmHg/mL, V0 %.3g mL, "
               "valves %s; closed loop: 0D volume %.1f mL (SV %.1f mL, p_sv %.2f mmHg), total %.1f mL\n",
               c->heart.preset == HT_HEART_SHOCK ? "cardiogenic-shock" : "healthy", c->vessels[c->heart.vessel].name,
               60 / P->T, P->T, P->lv.Ees / HT_MMHG_PER_ML, P->lv.V0 / HT_ML,
               P->ao.kind == HT_VALVE_DIODE ? "diode" : "Mynard", ht_heart_volume(X) / HT_ML,
               X->V[HT_HC_SV] / HT_ML, ht_heart_venous_pressure(P, X) / HT_MMHG, ht_solver_total_volume(&s, 0) / HT_ML);
    }
    s.clk[0].t_stop = 1e30;
    double dt = ht_cpu_dt(n, &s.U, &s.clk[0], 0);
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
    if (n->heart) printf("outlets   closed loop: every outlet drains into the heart's systemic veins (p_out not used)\n");
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

/* sample k (1-based since t = 0) of the run; closes a cycle every per_cycle samples.
 * 1 when it added a row (a cycle compared with the previous one). */
static int periodicity_sample(periodicity *pr, long k, const double *p, int max_rows)
{
    long slot = (k - 1) % pr->per_cycle;
    int added = 0;
    for (int v = 0; v < pr->sites; ++v) pr->cur[slot * pr->sites + v] = p[pr->cell[v]];
    if (slot != pr->per_cycle - 1) return 0;
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
        added = 1;
    }
    memcpy(pr->prev, pr->cur, sizeof(double) * (size_t)(pr->per_cycle * pr->sites));
    pr->have_prev = 1;
    return added;
}

typedef struct {
    double *p, *q, *a, *u, *c, *sat;
} host_fields;

/* Member m's fields from the (stacked) state, in its local cell order. */
static void fields_from_state(const ht_solver *s, int m, host_fields *f)
{
    const ht_net *n = &s->nw->net;
    int lo = m * n->m_cells;
    for (int j = 0; j < n->m_cells; ++j) {
        int i = lo + j;
        f->p[j] = ht_cell_pressure(n, &s->U, i);
        f->q[j] = s->U.Q[i];
        f->a[j] = s->U.A[i];
        f->u[j] = s->U.Q[i] / s->U.A[i];
        f->c[j] = s->U.C[i] / s->U.A[i];
    }
    /* with a VA-ECMO: S = c S_oxy + (1 - c) S_native (ecmo.h) */
    if (n->dev && n->dev[m].ecmo) {
        const ht_ecmo *E = &n->dev[m].ecmo_par;
        for (int j = 0; j < n->m_cells; ++j) f->sat[j] = ht_saturation_mix(f->c[j], E->S_oxy, E->S_native);
    }
}

static char *default_out_path(const ht_case *c)
{
    size_t len = strlen(c->name) + 4;
    char *p = malloc(len);
    if (p) snprintf(p, len, "%s.h5", c->name);
    return p;
}

/* Messages are cut, never overflowed (a path can be long). */
static void copy_msg(char *dst, size_t n, const char *a, const char *b)
{
    size_t la = strlen(a), lb = b ? strlen(b) : 0;
    if (la > n - 1) la = n - 1;
    memcpy(dst, a, la);
    if (lb > n - 1 - la) lb = n - 1 - la;
    if (lb) memcpy(dst + la, b, lb);
    dst[la + lb] = 0;
}

/* What the driver keeps per member besides the solver's state. */
typedef struct {
    const ht_case *c;
    const ht_network *nw;       /* the member's own network: names, geometry */
    const char *path;
    ht_output *out;
    periodicity pr;
    double v0;                  /* m^3 stored at t = 0 */
    double vtot0;               /* m^3, the whole system at t = 0 (ht_solver_total_volume) */
    ht_heart_metrics hm;        /* per-beat metrics (runs with a heart) */
    ht_ws_metrics ws;           /* per-beat watershed metrics (runs with a VA-ECMO) */
    int done;                   /* failed or could not write: no more output */
    int stopped;                /* reached its periodic state (run.stop_when_periodic): no more
                                 * steps, its output stays open until the launch ends */
    ht_member_result *res;
    ht_writer *wr;              /* runs this member's appends (writer.h), slot = member index */
    int slot;
    long refuse_k;              /* test hook: the output time whose fields append fails, or -1 */
} member;

static void fill_desc(const member *mb, ht_output_desc *dp)
{
    const ht_case *c = mb->c;
    const ht_network *nw = mb->nw;
    const ht_net *n = &nw->net;
    ht_output_desc d;
    memset(&d, 0, sizeof d);
    d.path = mb->path;
    d.n_cells = n->n_cells;
    d.n_vessels = n->n_vessels;
    d.n_points = nw->n_points;
    d.points = nw->points;
    d.segments = nw->segments;
    d.vessel_id = nw->cell_vessel;
    d.x = nw->x;
    d.vessel_names = nw->vessel_names;
    d.tracer = c->tracer;
    d.saturation = c->tracer && c->devices.ecmo;
    d.n_probes = n->n_probes;
    d.probe_names = nw->probe_names;
    d.heart = n->heart;
    if (n->heart) {
        const ht_chamber *lv = &n->heart_par[0].lv; /* the member's own network: one member */
        d.heart_lv[0] = lv->Ees;
        d.heart_lv[1] = lv->V0;
        d.heart_lv[2] = lv->Emin;
        d.heart_lv[3] = lv->P0;
        d.heart_lv[4] = lv->lambda;
    }
    d.config_text = c->config_text ? c->config_text : "";
    d.case_name = c->name;
    d.version = HT_VERSION;
    d.git_hash = HT_GIT_HASH;
    d.flush_seconds = 2.0;
    *dp = d;
}

static int open_output(member *mb, char *msg, size_t len)
{
    ht_output_desc d;
    fill_desc(mb, &d);
    return ht_output_open(&d, &mb->out, msg, len);
}

/* The HDF5 appends of one output interval, queued to the writer (writer.h) with their own
 * copies of the data, so the solver may go on and overwrite its buffers. */
typedef struct {
    ht_output *out;
    size_t ns;          /* sample rows */
    int np, heart;
    double *t, *h;      /* [ns], [ns * HT_HEART_NSAMP] */
    double *cols;       /* per probe: p, q, a columns of ns each */
} probe_job;

static int run_probe_job(void *arg, char *err, size_t len)
{
    probe_job *j = arg;
    if (j->heart && ht_output_heart(j->out, j->ns, j->t, j->h, err, len)) return -1;
    for (int p = 0; p < j->np; ++p) {
        const double *col = j->cols + (size_t)p * 3 * j->ns;
        if (ht_output_probe(j->out, p, j->ns, j->t, col, col + j->ns, col + 2 * j->ns, err, len)) return -1;
    }
    return 0;
}

typedef struct {
    ht_output *out;
    double t;
    int n, tracer, refuse;
    double *p, *q, *a, *u, *c, *sat;
} fields_job;

static int run_fields_job(void *arg, char *err, size_t len)
{
    fields_job *j = arg;
    char msg[900];
    if (j->refuse) {
        snprintf(err, len, "test hook HEMOTREE_TEST_REFUSE_FIELDS: fields at t = %.6f s not written", j->t);
        return -1;
    }
    if (!ht_output_fields_sat(j->out, j->t, j->p, j->q, j->a, j->u, j->tracer ? j->c : NULL, j->sat, msg, sizeof msg))
        return 0;
    snprintf(err, len, "%s (fields at t = %.6f s)", msg, j->t);
    return -1;
}

/* The member's probe rows since the last drain, one probe at a time (the writer's order),
 * and its heart rows (to /heart, and here to the per-beat metrics). */
static int write_probes(member *mb, const ht_probe_rows *r, int np, char *msg, size_t len)
{
    size_t ns = r->n;
    int heart = mb->nw->net.heart && ns > 0;
    if (heart && ht_heart_metrics_feed(&mb->hm, ns, r->t, r->h)) {
        snprintf(msg, len, "out of memory for the heart metrics");
        return -1;
    }
    if (!heart && np == 0) return 0;
    size_t nh = heart ? ns * HT_HEART_NSAMP : 0, nd = ns + nh + (size_t)np * 3 * ns;
    probe_job *j = malloc(sizeof *j + nd * sizeof(double));
    if (!j) {
        snprintf(msg, len, "out of memory");
        return -1;
    }
    double *d = (double *)(j + 1);
    *j = (probe_job){mb->out, ns, np, heart, d, d + ns, d + ns + nh};
    if (ns) memcpy(j->t, r->t, ns * sizeof *j->t);
    if (nh) memcpy(j->h, r->h, nh * sizeof *j->h);
    for (int p = 0; p < np; ++p) {
        double *col = j->cols + (size_t)p * 3 * ns;
        for (size_t k = 0; k < ns; ++k) {
            col[k] = r->p[k * np + p];
            col[ns + k] = r->q[k * np + p];
            col[2 * ns + k] = r->a[k * np + p];
        }
    }
    ht_writer_submit(mb->wr, mb->slot, run_probe_job, j, sizeof *j + nd * sizeof(double));
    return 0;
}

/* Queue the member's fields at output time k, t (host_fields of fields_from_state). */
static int write_fields(member *mb, long k, double t, const host_fields *f, int n, char *msg, size_t len)
{
    size_t bytes = sizeof(fields_job) + 6 * (size_t)n * sizeof(double);
    fields_job *j = malloc(bytes);
    if (!j) {
        snprintf(msg, len, "out of memory");
        return -1;
    }
    double *d = (double *)(j + 1);
    *j = (fields_job){mb->out, t, n, mb->c->tracer, k == mb->refuse_k, d, d + n, d + 2 * n, d + 3 * n, d + 4 * n,
                      d + 5 * n};
    const double *src[6] = {f->p, f->q, f->a, f->u, f->c, f->sat};
    for (int a = 0; a < 6; ++a) memcpy(d + (size_t)a * n, src[a], (size_t)n * sizeof(double));
    ht_writer_submit(mb->wr, mb->slot, run_fields_job, j, bytes);
    return 0;
}

/* Mark a member failed: message kept, on stderr (prefixed with the member in an ensemble),
 * and as the file's status; the file itself stays (closed at the end). */
static void member_fail(member *mb, long m, int M, int code, const char *msg, const char *kept)
{
    /* the status attribute is an HDF5 call: the writer must be idle */
    ht_writer_drain(mb->wr);
    mb->done = 1;
    mb->res->code = code;
    copy_msg(mb->res->msg, sizeof mb->res->msg, msg, NULL);
    if (M > 1) fprintf(stderr, "hemotree: member %ld: %s\n", m, msg);
    else fprintf(stderr, "hemotree: %s\n", msg);
    if (kept) fprintf(stderr, "hemotree: %s\n", kept);
    if (mb->out) ht_output_attr(mb->out, "status", msg);
}

/* The member steps no further (every backend skips a clock with a code set): its periodic
 * state is reached, or its output failed. A numerical failure already set its own code. */
static void stop_stepping(ht_clock *clk)
{
    if (clk->fail != HT_OK) return;
    clk->fail = HT_STOPPED;
    clk->fail_t = clk->t;
}

/* A failure of the member's queued appends (writer.h), reported as the synchronous write
 * would have been: the member stops. 1 when it failed. */
static int writer_failed(member *mb, long m, int M)
{
    const char *e = ht_writer_error(mb->wr, mb->slot);
    if (!e) return 0;
    char full[1100];
    snprintf(full, sizeof full, "writing output: %s", e);
    member_fail(mb, m, M, 1, full, NULL);
    return 1;
}

static void member_metrics(member *mb, const ht_solver *s, int m, double wall)
{
    const ht_net *n = &s->nw->net;
    char msg[512];
    double vin = 0, vout = 0;
    for (int k = m * n->m_inlets; k < (m + 1) * n->m_inlets; ++k) vin += s->w.vol_in[k];
    /* the ECMO return enters the tree inside a vessel, not through an inlet: it is inflow too */
    if (s->w.d_vol_ecmo) vin += s->w.d_vol_ecmo[m];
    for (int k = m * n->m_outlets; k < (m + 1) * n->m_outlets; ++k) vout += s->w.vol_out[k];
    double v1 = ht_solver_volume(s, m), v0 = mb->v0;
    const ht_clock *clk = &s->clk[m];
    ht_member_result *r = mb->res;
    r->volume[0] = v0;
    r->volume[1] = v1;
    r->volume[2] = vin;
    r->volume[3] = vout;
    r->imbalance = (v1 - v0) - (vin - vout);
    r->steps = clk->step;
    r->t = clk->t;
    if (n->heart) {
        /* the closed loop: 1D + outlet compliances + 0D, which nothing enters or leaves */
        r->heart = 1;
        r->total[0] = mb->vtot0;
        r->total[1] = ht_solver_total_volume(s, m);
        r->total_drift = (r->total[1] - r->total[0]) / r->total[0];
        const char *names[] = {"stored_start", "stored_end", "inflow", "outflow", "imbalance",
                               "total_start", "total_end", "total_relative_drift"};
        const char *units[] = {"m^3", "m^3", "m^3", "m^3", "m^3", "m^3", "m^3", "1"};
        double row[8] = {v0, v1, vin, vout, r->imbalance, r->total[0], r->total[1], r->total_drift};
        if (ht_output_table(mb->out, "/metrics/volume", 1, 8, names, units, row, msg, sizeof msg))
            fprintf(stderr, "hemotree: writing output: %s\n", msg);
        const ht_heart_metrics *hm = &mb->hm;
        r->beats = (int)hm->n_rows;
        if (hm->n_rows > 0) {
            if (ht_output_table(mb->out, "/metrics/cycles", hm->n_rows, HT_CYC_NCOL, ht_cycle_names, ht_cycle_units,
                                hm->rows, msg, sizeof msg))
                fprintf(stderr, "hemotree: writing output: %s\n", msg);
            const double *last = &hm->rows[(hm->n_rows - 1) * HT_CYC_NCOL];
            r->sv = last[HT_CYC_SV];
            r->ef = last[HT_CYC_EF];
            r->co = last[HT_CYC_CO];
            r->map = last[HT_CYC_MAP];
            r->lvedp = last[HT_CYC_LVEDP];
            r->edv_change = last[HT_CYC_EDV_CHANGE];
            r->esv_change = last[HT_CYC_ESV_CHANGE];
        }
        const ht_ws_metrics *ws = &mb->ws;
        if (ws->on && ws->n_rows > 0) {
            const char *wunits[HT_WS_NFIX + 2 * HT_WS_MAXBR] = {"1", "s", "m", "m", "m", "1"};
            for (int k = HT_WS_NFIX; k < ws->n_cols; ++k) wunits[k] = "1";
            if (ht_output_table(mb->out, "/metrics/watershed", ws->n_rows, ws->n_cols,
                                (const char *const *)ws->col_names, wunits, ws->rows, msg, sizeof msg) ||
                ht_output_strings(mb->out, "/metrics/watershed/front_vessel", ws->n_rows, ws->front_vessel, msg,
                                  sizeof msg))
                fprintf(stderr, "hemotree: writing output: %s\n", msg);
        }
    } else {
        const char *names[] = {"stored_start", "stored_end", "inflow", "outflow", "imbalance"};
        const char *units[] = {"m^3", "m^3", "m^3", "m^3", "m^3"};
        double row[5] = {v0, v1, vin, vout, r->imbalance};
        if (ht_output_table(mb->out, "/metrics/volume", 1, 5, names, units, row, msg, sizeof msg))
            fprintf(stderr, "hemotree: writing output: %s\n", msg);
    }
    if (mb->pr.n_rows > 0) {
        const char *names[] = {"cycle", "relative_change", "max_change"};
        const char *units[] = {"1", "1", "Pa"};
        if (ht_output_table(mb->out, "/metrics/periodicity", (size_t)mb->pr.n_rows, 3, names, units, mb->pr.rows, msg,
                            sizeof msg))
            fprintf(stderr, "hemotree: writing output: %s\n", msg);
        r->periodicity = mb->pr.rows[3 * (mb->pr.n_rows - 1) + 1];
        r->periodic_cycle = (int)mb->pr.rows[3 * (mb->pr.n_rows - 1)];
        r->periodic_change_abs = mb->pr.rows[3 * (mb->pr.n_rows - 1) + 2];
    }
    {
        /* an ensemble's members share the wall time of their launch */
        const char *names[] = {"steps", "wall_seconds", "cell_updates_per_second", "simulated_seconds"};
        const char *units[] = {"1", "s", "1/s", "s"};
        double row[4] = {(double)clk->step, wall, wall > 0 ? (double)clk->step * n->m_cells / wall : 0, clk->t};
        if (ht_output_table(mb->out, "/metrics/performance", 1, 4, names, units, row, msg, sizeof msg))
            fprintf(stderr, "hemotree: writing output: %s\n", msg);
    }
    ht_output_attr(mb->out, "status", "completed");
}

/* ------------------------------------------------------------ checkpoint/restart
 * Of a launch (a single run is a launch of one; a sweep checkpoints each of its launches).
 * A checkpoint is taken at an output time, after the probe and heart rows were drained and
 * the fields written, so the solver's probe buffers are empty. The payload (checkpoint.h
 * frames it) holds, in order: the schedule, the output index k, its time, the wall time so
 * far; per member whether it has ended (failed: its result; stopped at its periodic state)
 * and its output's sample counts; the solver's whole real buffer (U and every ht_work
 * array: the scratch ones cost little and need no sorting out), with a heart its real
 * buffer and hX, hX0, hlink, h_fail, the clocks; then per member the driver's accumulators:
 * v0, vtot0, the periodicity buffers and rows, the heart metrics and the watershed metrics.
 * On the CUDA backend the device's state is copied back whole first, and after a restart
 * to the device again (ht_solver_state_sync). */
#define CKPT_END 0x48544e44454e44ull

static uint64_t ckpt_shape(const ht_solver *s)
{
    const ht_net *n = &s->nw->net;
    int64_t v[20] = {n->n_cells, n->n_faces, n->n_vessels, n->n_inlets, n->n_outlets, n->n_junctions,
                     n->n_probes, n->n_members, n->heart, n->tracer, n->dev != NULL, (int64_t)sizeof(real),
                     (int64_t)ht_work_layout(NULL, NULL, NULL, (size_t)n->n_cells, (size_t)n->n_faces,
                                             (size_t)n->n_outlets, (size_t)n->n_inlets),
                     n->heart ? (int64_t)ht_heart_layout(NULL, NULL, (size_t)s->M, (size_t)n->n_outlets) : 0,
                     (int64_t)sizeof(ht_heart_state), (int64_t)sizeof(ht_heart_lv_link), (int64_t)sizeof(ht_clock),
                     HT_CYC_NCOL, HT_HEART_NSAMP, (int64_t)sizeof(ht_heart_metrics)};
    return ht_fnv1a64(v, sizeof v, HT_FNV_OFFSET);
}

/* the resolved input of every member, in launch order */
static uint64_t ckpt_input(const member *mbs, int M)
{
    uint64_t h = HT_FNV_OFFSET;
    for (int m = 0; m < M; ++m) {
        const char *t = mbs[m].c->config_text ? mbs[m].c->config_text : "";
        h = ht_fnv1a64(t, strlen(t) + 1, h);
    }
    return h;
}

typedef struct {
    long k;                           /* output times done (the last one is the checkpoint's) */
    double t;                         /* its time */
    double wall;                      /* s of wall time so far */
    unsigned long long *n_t, *heart_n; /* [M] output counts */
    unsigned long long *probe_n;      /* [M][m_probes] */
} ckpt_point;

#define PUT(x) ht_ckpt_put(&b, &(x), sizeof(x))
#define PUTN(p, cnt) ht_ckpt_put(&b, (p), sizeof *(p) * (size_t)(cnt))

/* Flush every member's output and write path; 0, or -1 with a message. */
static int ckpt_save(const char *path, const schedule *sc, ht_solver *s, member *mbs, ckpt_point *cp, char *msg,
                     size_t len)
{
    const ht_net *n = &s->nw->net;
    int M = s->M, np = n->m_probes;
    for (int m = 0; m < M; ++m) {
        cp->n_t[m] = cp->heart_n[m] = 0;
        if (mbs[m].out && ht_output_sync(mbs[m].out, &cp->n_t[m], &cp->heart_n[m], cp->probe_n + (size_t)m * np, msg,
                                         len))
            return -1;
    }
    if (ht_solver_state_sync(s, 0, msg, len)) return -1;
    ht_ckpt_buf b;
    memset(&b, 0, sizeof b);
    PUT(sc->cycles); PUT(sc->n_out); PUT(sc->t_end); PUT(sc->interval); PUT(sc->per_cycle);
    PUT(cp->k); PUT(cp->t); PUT(cp->wall);
    for (int m = 0; m < M; ++m) {
        PUT(mbs[m].done); PUT(mbs[m].stopped);
        if (mbs[m].done) PUT(*mbs[m].res);
        PUT(cp->n_t[m]); PUT(cp->heart_n[m]);
        PUTN(cp->probe_n + (size_t)m * np, np);
    }
    size_t total = ht_work_layout(NULL, NULL, NULL, (size_t)n->n_cells, (size_t)n->n_faces, (size_t)n->n_outlets,
                                  (size_t)n->n_inlets);
    PUTN(s->buf, total);
    if (n->heart) {
        size_t ht = ht_heart_layout(NULL, NULL, (size_t)s->M, (size_t)n->n_outlets);
        PUTN(s->hbuf, ht);
        PUTN(s->w.hX, s->M); PUTN(s->w.hX0, s->M); PUTN(s->w.hlink, s->M); PUTN(s->w.h_fail, s->M);
    }
    PUTN(s->clk, s->M);
    for (int m = 0; m < M; ++m) {
        const member *mb = &mbs[m];
        PUT(mb->v0); PUT(mb->vtot0);
        const periodicity *pr = &mb->pr;
        PUT(pr->have_prev); PUT(pr->n_rows);
        PUTN(pr->cur, pr->per_cycle * pr->sites); PUTN(pr->prev, pr->per_cycle * pr->sites);
        PUTN(pr->rows, 3 * pr->n_rows);
        if (n->heart) {
            ht_heart_metrics hm = mb->hm;
            hm.rows = NULL;
            hm.cap = 0;
            PUT(hm);
            PUTN(mb->hm.rows, mb->hm.n_rows * HT_CYC_NCOL);
            const ht_ws_metrics *ws = &mb->ws;
            PUT(ws->on);
            if (ws->on) {
                PUT(ws->started); PUT(ws->beat); PUT(ws->t0); PUT(ws->t_prev); PUT(ws->f_prev); PUT(ws->f_int);
                PUT(ws->f_min); PUT(ws->f_max); PUT(ws->d); PUT(ws->n_cols); PUT(ws->n_rows);
                PUTN(ws->rows, ws->n_rows * (size_t)ws->n_cols);
            }
        }
    }
    uint64_t end = CKPT_END;
    PUT(end);
    int rc = ht_ckpt_write(path, ckpt_shape(s), ckpt_input(mbs, M), &b, msg, len);
    ht_ckpt_buf_free(&b);
    return rc;
}

#define GET(x) ht_ckpt_get(&r, &(x), sizeof(x))
#define GETN(p, cnt) ht_ckpt_get(&r, (p), sizeof *(p) * (size_t)(cnt))

/* One member's accumulators from *rp (a payload that does not fit sets rp->short_read). */
static void ckpt_load_member(ht_ckpt_reader *rp, const schedule *sc, const ht_net *n, member *mb)
{
    ht_ckpt_reader r = *rp;
    GET(mb->v0); GET(mb->vtot0);
    periodicity *pr = &mb->pr;
    GET(pr->have_prev); GET(pr->n_rows);
    if (pr->n_rows < 0 || pr->n_rows > sc->cycles + (int)(sc->t_end / (sc->period > 0 ? sc->period : 1)) + 2)
        r.short_read = 1;
    GETN(pr->cur, pr->per_cycle * pr->sites); GETN(pr->prev, pr->per_cycle * pr->sites);
    if (!r.short_read) GETN(pr->rows, 3 * pr->n_rows);
    if (n->heart && !r.short_read) {
        ht_heart_metrics hm;
        GET(hm);
        if (!r.short_read && hm.n_rows > 0) {
            double *rows = malloc(sizeof(double) * hm.n_rows * HT_CYC_NCOL);
            if (!rows || GETN(rows, hm.n_rows * HT_CYC_NCOL)) {
                free(rows);
                r.short_read = 1;
            } else {
                hm.rows = rows;
                hm.cap = hm.n_rows;
            }
        } else {
            hm.rows = NULL;
            hm.cap = 0;
        }
        if (!r.short_read) {
            ht_heart_metrics_free(&mb->hm);
            mb->hm = hm;
        }
        ht_ws_metrics *ws = &mb->ws;
        int on = 0;
        GET(on);
        if (!r.short_read && on != ws->on) r.short_read = 1;
        if (on && !r.short_read) {
            int n_cols = 0;
            size_t n_rows = 0;
            GET(ws->started); GET(ws->beat); GET(ws->t0); GET(ws->t_prev); GET(ws->f_prev); GET(ws->f_int);
            GET(ws->f_min); GET(ws->f_max); GET(ws->d); GET(n_cols); GET(n_rows);
            if (!r.short_read && (n_cols != ws->n_cols || n_rows > r.n / sizeof(double))) r.short_read = 1;
            if (!r.short_read && n_rows > 0) {
                ws->rows = malloc(sizeof(double) * n_rows * (size_t)n_cols);
                ws->front_vessel = malloc(sizeof *ws->front_vessel * n_rows);
                if (!ws->rows || !ws->front_vessel || GETN(ws->rows, n_rows * (size_t)n_cols)) {
                    r.short_read = 1;
                } else {
                    ws->n_rows = ws->cap = n_rows;
                    for (size_t j = 0; j < n_rows; ++j) {
                        int v = (int)ws->rows[j * (size_t)n_cols + HT_WS_VESSEL];
                        ws->front_vessel[j] = ws->vessel_names[v >= 0 && v < mb->nw->net.n_vessels ? v : 0];
                    }
                }
            }
        }
    }
    *rp = r;
}

/* Read path into the solver and the members; the counts into cp (its arrays allocated by
 * the caller). 0; -1 with a message naming the file when the file is not this launch's
 * (truncated, corrupted, another case or network: nothing has been changed then); -2 when
 * its payload does not fit after all (the solver and members are then half loaded). */
static int ckpt_load(const char *path, const schedule *sc, ht_solver *s, member *mbs, ckpt_point *cp, char *msg,
                     size_t len)
{
    const ht_net *n = &s->nw->net;
    int M = s->M, np = n->m_probes;
    unsigned char *data = NULL;
    size_t size = 0;
    if (ht_ckpt_read(path, ckpt_shape(s), ckpt_input(mbs, M), &data, &size, msg, len)) return -1;
    ht_ckpt_reader r = {data, size, 0, 0};
    schedule x;
    memset(&x, 0, sizeof x);
    GET(x.cycles); GET(x.n_out); GET(x.t_end); GET(x.interval); GET(x.per_cycle);
    if (!r.short_read && (x.cycles != sc->cycles || x.n_out != sc->n_out || x.t_end != sc->t_end ||
                          x.interval != sc->interval || x.per_cycle != sc->per_cycle)) {
        snprintf(msg, len, "%s: the checkpoint's run has %d cycles (%ld output times), this one %d (%ld): give "
                 "the same --cycles", path, x.cycles, x.n_out, sc->cycles, sc->n_out);
        free(data);
        return -1;
    }
    GET(cp->k); GET(cp->t); GET(cp->wall);
    for (int m = 0; m < M && !r.short_read; ++m) {
        GET(mbs[m].done); GET(mbs[m].stopped);
        if (mbs[m].done) GET(*mbs[m].res);
        GET(cp->n_t[m]); GET(cp->heart_n[m]);
        GETN(cp->probe_n + (size_t)m * np, np);
    }
    size_t total = ht_work_layout(NULL, NULL, NULL, (size_t)n->n_cells, (size_t)n->n_faces, (size_t)n->n_outlets,
                                  (size_t)n->n_inlets);
    GETN(s->buf, total);
    if (n->heart) {
        size_t ht = ht_heart_layout(NULL, NULL, (size_t)s->M, (size_t)n->n_outlets);
        GETN(s->hbuf, ht);
        GETN(s->w.hX, s->M); GETN(s->w.hX0, s->M); GETN(s->w.hlink, s->M); GETN(s->w.h_fail, s->M);
    }
    GETN(s->clk, s->M);
    /* the first step after a restart computes its first pass afresh (the same values as the
     * ones saved, step.h; but nothing then depends on the host and the device having
     * restored the work arrays and the clocks together) */
    for (int m = 0; m < M; ++m) s->clk[m].first_pass_done = 0;
    for (int m = 0; m < M && !r.short_read; ++m) ckpt_load_member(&r, sc, n, &mbs[m]);
    uint64_t end = 0;
    GET(end);
    free(data);
    if (r.short_read || end != CKPT_END || r.off != r.n || cp->k < 1 || cp->k >= sc->n_out) {
        snprintf(msg, len, "%s: checkpoint payload does not match this run (corrupted or of another build)", path);
        return -2;
    }
    return 0;
}
#undef PUT
#undef PUTN
#undef GET
#undef GETN

int ht_schedule_equal(const ht_case *a, const ht_case *b, const ht_run_opts *o)
{
    schedule x = make_schedule(a, o), y = make_schedule(b, o);
    return x.t_end == y.t_end && x.interval == y.interval && x.n_out == y.n_out && x.per_cycle == y.per_cycle &&
           x.cycles == y.cycles && x.period == y.period;
}

int ht_run_members(const ht_case *const *cases, const ht_network *const *nws, int M, const char *const *paths,
                   const ht_run_opts *o, ht_member_result *res)
{
    char msg[1024];
    ht_network stack;
    ht_error err;
    const ht_network *nw = nws[0];
    int stacked = 0, rc = 1;
    char *ck_path = NULL;                   /* checkpoint/restart, below */
    ht_writer *wr = NULL;                   /* the output appends (writer.h), below */
    unsigned long long *cnt = NULL;         /* a checkpoint's output counts */
    memset(&stack, 0, sizeof stack);
    if (M < 1) return 1; /* a launch has members (and the sizes below are then positive) */
    for (int m = 0; m < M; ++m) {
        memset(&res[m], 0, sizeof res[m]);
        res[m].code = 1;
        res[m].imbalance = res[m].periodicity = NAN;
    }
    if (M > 1) {
        if (ht_network_stack(nws, M, &stack, &err)) {
            for (int m = 0; m < M; ++m) copy_msg(res[m].msg, sizeof res[m].msg, err.msg, NULL);
            fprintf(stderr, "hemotree: %s\n", err.msg);
            return 1;
        }
        stacked = 1;
        nw = &stack;
    }
    const ht_case *c0 = cases[0];
    schedule sc = make_schedule(c0, o);
    const ht_net *n = &nw->net;
    int mc = n->m_cells, np = n->m_probes;
    ht_solver s;
    member *mbs = calloc((size_t)M, sizeof *mbs);
    double *fbuf = calloc((size_t)(6 * mc), sizeof(double));
    host_fields f = {fbuf, fbuf + mc, fbuf + 2 * mc, fbuf + 3 * mc, fbuf + 4 * mc, fbuf + 5 * mc};
    int max_rows = sc.cycles + (int)(sc.t_end / (sc.period > 0 ? sc.period : 1)) + 2;
    if (ht_solver_init(&s, nw)) {
        free(mbs);
        free(fbuf);
        fprintf(stderr, "hemotree: out of memory\n");
        if (stacked) ht_network_free(&stack);
        return 1;
    }
    if (!mbs || !fbuf) goto oom;
    for (int m = 0; m < M; ++m) {
        mbs[m].c = cases[m];
        mbs[m].nw = nws[m];
        mbs[m].path = paths[m];
        mbs[m].res = &res[m];
        if (periodicity_init(&mbs[m].pr, nws[m], sc.per_cycle > 0 ? sc.per_cycle : 1, max_rows)) goto oom;
        if (n->heart) ht_heart_metrics_init(&mbs[m].hm, n->heart_par[m].T, n->heart_par[m].lv.V0);
        if (n->heart && ht_ws_init(&mbs[m].ws, cases[m], nws[m], n->heart_par[m].T)) goto oom;
    }
    int on_cuda = 0;
    if (o->backend != HT_BACKEND_CPU) {
        char berr[512];
        if (ht_solver_use_cuda(&s, berr, sizeof berr)) {
            if (o->backend == HT_BACKEND_CUDA) {
                fprintf(stderr, "hemotree: --backend cuda: %s\n", berr);
                for (int m = 0; m < M; ++m) {
                    res[m].code = 2;
                    copy_msg(res[m].msg, sizeof res[m].msg, "--backend cuda: ", berr);
                }
                rc = 2;
                goto done;
            }
            if (!o->quiet) printf("hemotree: backend cpu (CUDA not used: %s)\n", berr);
        } else {
            on_cuda = 1;
            if (!o->quiet) printf("hemotree: backend cuda\n");
        }
    }

    /* The appends run on a writer thread where that costs the step nothing: on the CUDA
     * backend (the host would otherwise wait while the device steps) or with a core the
     * CPU backend's threads leave free. Where every core steps, in line (measured:
     * docs/performance.md); --output-thread overrides either way. */
    {
        int threaded = o->output_thread > 0 || (o->output_thread == 0 && (on_cuda || spare_core()));
        if (!(wr = ht_writer_new(M, threaded, HT_WRITER_MAX_BYTES, msg, sizeof msg))) {
            fprintf(stderr, "hemotree: %s\n", msg);
            for (int m = 0; m < M; ++m) copy_msg(res[m].msg, sizeof res[m].msg, msg, NULL);
            goto done;
        }
        for (int m = 0; m < M; ++m) {
            mbs[m].wr = wr;
            mbs[m].slot = m;
        }
    }

    /* checkpoint/restart of this launch: OUT.ckpt beside the first member's output */
    long k0 = 1;
    double wall_prev = 0, t_ckpt = 0;
    int restarted = 0;
    if (!(cnt = calloc((size_t)(2 * M + M * (np > 0 ? np : 1)), sizeof *cnt))) goto oom;
    ckpt_point cp = {0, 0, 0, cnt, cnt + M, cnt + 2 * M};
    if (o->ckpt_every > 0 && !(ck_path = ht_ckpt_path_for(paths[0]))) goto oom;
    if (o->restart && !(o->restart_optional && access(o->restart, F_OK) != 0)) {
        int lr = ckpt_load(o->restart, &sc, &s, mbs, &cp, msg, sizeof msg);
        if (lr == -1 && o->restart_optional) {
            /* a sweep's launch: a checkpoint of other members or another definition is not
             * this launch's; it starts from t = 0 and overwrites it */
            fprintf(stderr, "hemotree: %s not used, starting from t = 0: %s\n", o->restart, msg);
        } else if (lr) {
            fprintf(stderr, "hemotree: %s\n", msg);
            for (int m = 0; m < M; ++m) {
                res[m].code = 2;
                copy_msg(res[m].msg, sizeof res[m].msg, msg, NULL);
            }
            rc = 2;
            goto done;
        } else {
            restarted = 1;
        }
    }
    if (restarted) {
        if (ht_solver_state_sync(&s, 1, msg, sizeof msg)) {
            fprintf(stderr, "hemotree: %s: %s\n", o->restart, msg);
            for (int m = 0; m < M; ++m) copy_msg(res[m].msg, sizeof res[m].msg, msg, NULL);
            goto done;
        }
        for (int m = 0; m < M; ++m) {
            member *mb = &mbs[m];
            if (mb->done) continue; /* ended before the checkpoint: its result came with it */
            ht_output_desc d;
            fill_desc(mb, &d);
            if (ht_output_reopen(&d, cp.n_t[m], cp.heart_n[m], cp.probe_n + (size_t)m * np, &mb->out, msg,
                                 sizeof msg)) {
                fprintf(stderr, "hemotree: cannot continue the output of %s: %s\n", o->restart, msg);
                for (int j = 0; j < M; ++j) {
                    res[j].code = 2;
                    copy_msg(res[j].msg, sizeof res[j].msg, "cannot continue the output: ", msg);
                }
                rc = 2;
                goto done;
            }
        }
        k0 = cp.k + 1;
        wall_prev = cp.wall;
        t_ckpt = cp.t;
        if (!o->quiet)
            printf("hemotree: continuing %s from t = %.6g s (%s)\n", paths[0], cp.t, o->restart);
        else if (o->restart_optional)
            fprintf(stderr, "hemotree: member %ld%s: continuing from t = %.6g s (%s)\n", o->member_base,
                    M > 1 ? " and the launch's others" : "", cp.t, o->restart);
    }
    /* test hook (tests/test_checkpoint.py): HEMOTREE_TEST_ABORT_AFTER_CKPT=N[+K] ends the process
     * with _exit(3), without closing anything, K output times (default 0) after its N-th
     * checkpoint, the output flushed just before: a killed run whose file holds samples past
     * its checkpoint */
    long abort_n = 0, abort_k = 0, n_ckpt = 0, abort_at = -1;
    {
        const char *hook = getenv("HEMOTREE_TEST_ABORT_AFTER_CKPT");
        if (hook && *hook) {
            char *end;
            abort_n = strtol(hook, &end, 10);
            if (*end == '+') abort_k = strtol(end + 1, NULL, 10);
        }
    }

    /* test hook (tests/test_cli.py): HEMOTREE_TEST_REFUSE_FIELDS=M:K makes member M's fields
     * append at output time K fail, as a full disk would: the member stops with the message,
     * its file keeps what came before, the other members go on */
    {
        const char *hook = getenv("HEMOTREE_TEST_REFUSE_FIELDS");
        long hm = -1, hk = -1;
        if (hook && *hook) {
            char *end;
            hm = strtol(hook, &end, 10);
            if (*end == ':') hk = strtol(end + 1, NULL, 10);
        }
        for (int m = 0; m < M; ++m) mbs[m].refuse_k = o->member_base + m == hm ? hk : -1;
    }

    int live = 0;
    for (int m = 0; m < M; ++m) {
        member *mb = &mbs[m];
        if (restarted) {
            live += !mb->done && !mb->stopped;
            continue;
        }
        ht_writer_drain(wr); /* creating a file is an HDF5 call: the writer must be idle */
        if (open_output(mb, msg, sizeof msg)) {
            char full[1100];
            snprintf(full, sizeof full, "cannot write output: %s", msg);
            mb->out = NULL;
            member_fail(mb, o->member_base + m, M, 1, full, NULL);
            continue;
        }
        mb->v0 = ht_solver_volume(&s, m);
        mb->vtot0 = ht_solver_total_volume(&s, m);
        fields_from_state(&s, m, &f);
        if (mb->ws.on) ht_ws_sample(&mb->ws, 0.0, f.q, f.c);
        if (write_fields(mb, 0, 0.0, &f, mc, msg, sizeof msg)) {
            char full[1100];
            snprintf(full, sizeof full, "writing output: %s", msg);
            member_fail(mb, o->member_base + m, M, 1, full, NULL);
            continue;
        }
        if (writer_failed(mb, o->member_base + m, M)) continue; /* in line: this very write */
        ++live;
    }
    /* members that could not even start their output do not run */
    for (int m = 0; m < M; ++m)
        if (mbs[m].done && !s.clk[m].fail) s.clk[m].fail = HT_FAIL_MEMORY;

    int may_stop = 0; /* some member ends at its periodic state */
    for (int m = 0; m < M; ++m) may_stop |= mbs[m].c->stop_periodic && sc.per_cycle > 0;
    double w0 = wall_now() - wall_prev, w_last = w0, w_ckpt = wall_now();
    for (long k = k0; k <= sc.n_out && live > 0; ++k) {
        double t_stop = k == sc.n_out ? sc.t_end : k * sc.interval;
        /* decided before the interval, since the device may step on past t_stop while this
         * output is written: a wall-clock checkpoint counts to the interval's start */
        int ckpt_due = ck_path && k < sc.n_out &&
                       (o->ckpt_wall ? wall_now() - w_ckpt >= o->ckpt_every
                                     : t_stop - t_ckpt >= o->ckpt_every * (1 - 1e-9));
        /* the next interval begins at once (CUDA: beside this output's copy and writes)
         * unless a member may stop at this output time (its state must stay that of t_stop)
         * or the state is saved here */
        int ahead = k < sc.n_out && !ckpt_due && k != abort_at && !(may_stop && k % sc.per_cycle == 0);
        double t_next = !ahead ? 0 : k + 1 == sc.n_out ? sc.t_end : (k + 1) * sc.interval;
        int code = ht_solver_advance_ahead(&s, t_stop, t_next);
        if (code < 0) {
            /* the device runtime failed: every member still running stops here */
            for (int m = 0; m < M; ++m) {
                if (mbs[m].done) continue;
                s.clk[m].fail = -1;
                s.clk[m].fail_t = s.clk[m].t;
            }
        }
        for (int m = 0; m < M; ++m) {
            member *mb = &mbs[m];
            ht_clock *clk = &s.clk[m];
            if (mb->done || mb->stopped) continue;
            /* an append of an earlier output time that failed on the writer thread */
            if (writer_failed(mb, o->member_base + m, M)) {
                --live;
                continue;
            }
            /* what was sampled before a failure is still written */
            if (write_probes(mb, &s.rows[m], np, msg, sizeof msg)) {
                char full[1100];
                snprintf(full, sizeof full, "writing output: %s", msg);
                member_fail(mb, o->member_base + m, M, 1, full, NULL);
                --live;
                continue;
            }
            if (clk->fail) {
                char where[256], full[1024], kept[1024];
                if (clk->fail == HT_FAIL_MEMORY || clk->fail < 0)
                    /* not a place in the network: the host or the device runtime failed */
                    snprintf(where, sizeof where, "the solver (not a numerical failure)");
                else
                    ht_network_where(mb->nw, mb->c, clk->fail_index - m * mc, where, sizeof where);
                snprintf(full, sizeof full, "run failed at t = %.6f s (step %ld): %s in %s", clk->fail_t, clk->step,
                         fail_text(clk->fail), where);
                ht_writer_drain(wr);
                const char *we = ht_writer_error(wr, m);
                if (we)
                    snprintf(kept, sizeof kept, "output up to t = %.6f s kept in %s, but not all of it could be written: %.600s",
                             (k - 1) * sc.interval, mb->path, we);
                else
                    snprintf(kept, sizeof kept, "output up to t = %.6f s kept in %s", (k - 1) * sc.interval, mb->path);
                if (o->progress && M == 1) fprintf(stderr, "\n");
                member_fail(mb, o->member_base + m, M, 1, full, kept);
                --live;
                continue;
            }
            if (n->heart) {
                /* the volumes through the root and the coronary outlets, for the beat metrics */
                double vin = 0, vcor = 0;
                for (int j = m * n->m_inlets; j < (m + 1) * n->m_inlets; ++j) vin += s.w.vol_in[j];
                for (int j = m * n->m_outlets; j < (m + 1) * n->m_outlets; ++j)
                    if (n->outlets[j].kind == HT_OUT_CORONARY) vcor += s.w.vol_out[j];
                ht_heart_metrics_volumes(&mb->hm, t_stop, vin, vcor);
            }
            fields_from_state(&s, m, &f);
            if (mb->ws.on && ht_ws_sample(&mb->ws, t_stop, f.q, f.c)) {
                member_fail(mb, o->member_base + m, M, 1, "out of memory for the watershed metrics", NULL);
                --live;
                continue;
            }
            if (write_fields(mb, k, t_stop, &f, mc, msg, sizeof msg)) {
                char full[1100];
                snprintf(full, sizeof full, "writing output: %s", msg);
                member_fail(mb, o->member_base + m, M, 1, full, NULL);
                --live;
                continue;
            }
            /* in line, these very writes; on the thread, any finished by now */
            if (writer_failed(mb, o->member_base + m, M)) {
                --live;
                continue;
            }
            if (sc.per_cycle > 0 && periodicity_sample(&mb->pr, k, f.p, max_rows) && mb->c->stop_periodic &&
                mb->pr.rows[3 * (mb->pr.n_rows - 1) + 1] <= mb->c->conv_tol && k < sc.n_out) {
                /* periodic state: this member is finished; the others go on (and every
                 * kernel now skips it). Its file keeps the cycles run so far. */
                mb->stopped = 1;
                stop_stepping(clk);
                --live;
            }
        }
        /* a member that failed here (its output, not its numerics) steps no further */
        for (int m = 0; m < M; ++m)
            if (mbs[m].done) stop_stepping(&s.clk[m]);
        ht_solver_probe_clear(&s);
        if (ckpt_due && live > 0) {
            /* the checkpoint records what the files hold: every append written, and a
             * member whose append failed recorded as failed (a restart must not take it
             * up again with an output time missing) */
            ht_writer_drain(wr);
            for (int m = 0; m < M; ++m)
                if (!mbs[m].done && !mbs[m].stopped && writer_failed(&mbs[m], o->member_base + m, M)) {
                    --live;
                    stop_stepping(&s.clk[m]);
                }
            cp.k = k;
            cp.t = t_stop;
            cp.wall = wall_now() - w0;
            if (ckpt_save(ck_path, &sc, &s, mbs, &cp, msg, sizeof msg)) {
                fprintf(stderr, "hemotree: warning: no checkpoint at t = %.6g s: %s\n", t_stop, msg);
            } else {
                t_ckpt = t_stop;
                w_ckpt = wall_now();
                if (++n_ckpt == abort_n) abort_at = k + abort_k;
            }
        }
        if (k == abort_at) {
            ht_writer_drain(wr);
            for (int m = 0; m < M; ++m)
                if (mbs[m].out) ht_output_sync(mbs[m].out, &cp.n_t[m], &cp.heart_n[m], cp.probe_n + (size_t)m * np, msg,
                                   sizeof msg);
            fflush(stdout);
            _exit(3);
        }
        double now = wall_now();
        if (o->progress && (now - w_last > 0.5 || k == sc.n_out)) {
            w_last = now;
            double cyc = sc.period > 0 ? t_stop / sc.period : 0;
            printf("\rcycle %6.2f / %d   t = %8.4f s   %8.3f simulated s per wall s   ", cyc, sc.cycles, t_stop,
                   t_stop / (now - w0 + 1e-12));
            if (M > 1) printf("%d of %d members running   ", live, M);
            fflush(stdout);
        }
    }
    if (o->progress) printf("\n");

    /* every append written (the wall time includes them), then the tables, in line */
    ht_writer_drain(wr);
    double wall = wall_now() - w0;
    rc = 0;
    for (int m = 0; m < M; ++m) {
        member *mb = &mbs[m];
        mb->res->wall = wall;
        if (!mb->done && writer_failed(mb, o->member_base + m, M)) {
            rc = 1;
            continue;
        }
        if (mb->done) {
            rc = 1;
            continue;
        }
        member_metrics(mb, &s, m, wall);
        mb->res->code = 0;
    }
    goto done;
oom:
    fprintf(stderr, "hemotree: out of memory\n");
    for (int m = 0; m < M; ++m) copy_msg(res[m].msg, sizeof res[m].msg, "out of memory", NULL);
    rc = 1;
done:
    ht_writer_free(wr); /* what is queued is written before the files close */
    for (int m = 0; mbs && m < M; ++m) {
        if (mbs[m].out && ht_output_close(mbs[m].out, msg, sizeof msg)) {
            fprintf(stderr, "hemotree: closing output: %s\n", msg);
            res[m].code = 1;
            copy_msg(res[m].msg, sizeof res[m].msg, "closing output: ", msg);
            rc = rc ? rc : 1;
        }
        periodicity_free(&mbs[m].pr);
        ht_heart_metrics_free(&mbs[m].hm);
        ht_ws_free(&mbs[m].ws);
    }
    free(mbs);
    free(fbuf);
    free(ck_path);
    free(cnt);
    ht_solver_free(&s);
    if (stacked) ht_network_free(&stack);
    return rc;
}

int ht_run(const ht_case *c, const ht_run_opts *o)
{
    ht_network nw;
    ht_error err;
    if (ht_network_build(c, &nw, &err)) {
        fprintf(stderr, "hemotree: %s\n", err.msg);
        return 2;
    }
    /* --restart OUT.ckpt continues OUT.h5 unless -o says otherwise */
    char *out_path = o->out_path ? NULL : o->restart ? ht_ckpt_output_for(o->restart) : default_out_path(c);
    const char *path = o->out_path ? o->out_path : out_path;
    if (!path) {
        fprintf(stderr, "hemotree: out of memory\n");
        ht_network_free(&nw);
        return 1;
    }
    const ht_network *nws[1] = {&nw};
    const ht_case *cs[1] = {c};
    const char *paths[1] = {path};
    ht_member_result r;
    int rc = ht_run_members(cs, nws, 1, paths, o, &r);
    if (rc == 0 && !o->quiet) {
        double v0 = r.volume[0], v1 = r.volume[1], vin = r.volume[2], vout = r.volume[3];
        double wall = r.wall;
        printf("hemotree: %s: %ld steps, %.4g s simulated in %.3g s wall (%.3g cell updates/s)\n", c->name, r.steps,
               r.t, wall, wall > 0 ? (double)r.steps * nw.net.n_cells / wall : 0);
        printf("volume: stored %.6e -> %.6e m^3, in %.6e, out %.6e, imbalance %.3e (relative %.2e)\n", v0, v1, vin,
               vout, r.imbalance, fabs(r.imbalance) / (v0 > 0 ? v0 : 1));
        if (r.heart) {
            printf("closed loop: total blood volume %.6e -> %.6e m^3 (1D + outlet compliances + heart), relative "
                   "drift %.2e\n",
                   r.total[0], r.total[1], r.total_drift);
            if (r.beats > 0)
                printf("heart, beat %d of %d: SV %.1f mL, EF %.1f %%, CO %.2f L/min, MAP %.1f mmHg, LVEDP %.1f mmHg; "
                       "EDV change %.1e, ESV change %.1e from the previous beat\n",
                       r.beats, r.beats, r.sv / HT_ML, 100 * r.ef, r.co * 6e4, r.map / HT_MMHG, r.lvedp / HT_MMHG,
                       r.edv_change, r.esv_change);
        }
        if (isfinite(r.periodicity)) {
            if (r.periodicity <= c->conv_tol)
                printf("periodic state: reached, cycle %d differs from the previous by %.2e of the pulse pressure "
                       "(%.3g mmHg) <= %.1e\n",
                       r.periodic_cycle, r.periodicity, r.periodic_change_abs / 133.322387415, c->conv_tol);
            else
                printf("periodic state: not reached after %d cycles: change %.2e of the pulse pressure (%.3g mmHg) "
                       "> %.1e\n",
                       r.periodic_cycle, r.periodicity, r.periodic_change_abs / 133.322387415, c->conv_tol);
        }
        printf("output: %s\n", path);
    }
    ht_network_free(&nw);
    free(out_path);
    return rc;
}
