#include "solver.h"
#include "cpu/step_cpu.h"
#include "step.h"
#include "heart_stage.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ht_solver_init(ht_solver *s, const ht_network *nw)
{
    memset(s, 0, sizeof *s);
    s->nw = nw;
    const ht_net *n = &nw->net;
    s->M = n->n_members;
    size_t nc = (size_t)n->n_cells, nf = (size_t)n->n_faces;
    size_t no = (size_t)n->n_outlets, ni = (size_t)n->n_inlets;
    size_t total = ht_work_layout(NULL, NULL, NULL, nc, nf, no, ni);
    s->buf = calloc(total, sizeof(real));
    s->clk = calloc((size_t)s->M, sizeof *s->clk);
    s->rows = calloc((size_t)s->M, sizeof *s->rows);
    if (!s->buf || !s->clk || !s->rows) {
        ht_solver_free(s);
        return -1;
    }
    ht_work_layout(&s->U, &s->w, s->buf, nc, nf, no, ni);
    for (size_t i = 0; i < nc; ++i) s->U.A[i] = nw->A_init[i];
    for (size_t k = 0; k < no; ++k) s->w.pc[k] = nw->pc_init[k];
    for (size_t k = 0; k < no; ++k) s->w.pcim[k] = nw->pcim_init[k];
    if (n->heart) {
        size_t M = (size_t)s->M;
        s->hbuf = calloc(ht_heart_layout(NULL, NULL, M, no), sizeof(real));
        s->w.hX = calloc(M, sizeof *s->w.hX);
        s->w.hX0 = calloc(M, sizeof *s->w.hX0);
        s->w.hlink = calloc(M, sizeof *s->w.hlink);
        s->w.h_fail = calloc(M, sizeof *s->w.h_fail);
        if (!s->hbuf || !s->w.hX || !s->w.hX0 || !s->w.hlink || !s->w.h_fail) {
            ht_solver_free(s);
            return -1;
        }
        ht_heart_layout(&s->w, s->hbuf, M, no);
        for (size_t m = 0; m < M; ++m) {
            s->w.hX[m] = s->w.hX0[m] = nw->heart_init[m];
            s->w.h_plv_ref[m] = s->w.h_plv_ref0[m] = ht_heart_lv_pressure0(&n->heart_par[m], &nw->heart_init[m]);
        }
    }
    return 0;
}

void ht_solver_free(ht_solver *s)
{
    if (!s) return;
#ifdef HT_HAVE_CUDA
    ht_cuda_destroy(s->gpu);
#endif
    free(s->buf);
    free(s->hbuf);
    free(s->w.hX);
    free(s->w.hX0);
    free(s->w.hlink);
    free(s->w.h_fail);
    free(s->clk);
    if (s->rows)
        for (int m = 0; m < s->M; ++m) {
            free(s->rows[m].t);
            free(s->rows[m].p);
            free(s->rows[m].q);
            free(s->rows[m].a);
            free(s->rows[m].h);
        }
    free(s->rows);
    memset(s, 0, sizeof *s);
}

static int rows_reserve(ht_probe_rows *r, size_t need, size_t per, int heart)
{
    if (need <= r->cap) return 0;
    size_t cap = r->cap ? 2 * r->cap : 1024;
    while (cap < need) cap *= 2;
    if (per == 0) per = 1;
    double *t = realloc(r->t, cap * sizeof *t);
    if (!t) return -1;
    r->t = t;
    if (heart) {
        double *h = realloc(r->h, cap * HT_HEART_NSAMP * sizeof *h);
        if (!h) return -1;
        r->h = h;
    }
    double *arr[3] = {r->p, r->q, r->a};
    for (int k = 0; k < 3; ++k) {
        double *x = realloc(arr[k], cap * per * sizeof *x);
        if (!x) return -1;
        arr[k] = x;
        /* keep what realloc moved, also when a later one fails */
        if (k == 0) r->p = x;
        if (k == 1) r->q = x;
        if (k == 2) r->a = x;
    }
    r->cap = cap;
    return 0;
}

static int sample_probes(ht_solver *s, int m)
{
    const ht_net *n = &s->nw->net;
    int np = n->m_probes;
    if (np == 0 && !n->heart) return 0;
    ht_probe_rows *r = &s->rows[m];
    if (rows_reserve(r, r->n + 1, (size_t)np, n->heart)) return -1;
    size_t row = r->n * (size_t)np;
    r->t[r->n] = s->clk[m].t;
    for (int k = 0; k < np; ++k)
        ht_probe_sample(n, &s->U, m * np + k, &r->p[row + k], &r->q[row + k], &r->a[row + k]);
    if (n->heart) ht_heart_sample(n, &s->w, m, s->clk[m].t, &r->h[r->n * HT_HEART_NSAMP]);
    r->n++;
    return 0;
}

int ht_solver_use_cuda(ht_solver *s, char *err, size_t len)
{
#ifdef HT_HAVE_CUDA
    if (s->backend == 1) return 0;
    /* the device clock starts at t = 0 and its volume accounts at zero */
    for (int m = 0; m < s->M; ++m)
        if (s->clk[m].step != 0 || s->clk[m].t != 0) {
            snprintf(err, len, "the CUDA backend must be chosen before the first step");
            return -1;
        }
    /* HEMOTREE_CUDA_AHEAD=0: every interval waits for the last output's copy and writes
     * (the overlap's cost and gain, measured by scripts/gpu-check.sh) */
    const char *ahead = getenv("HEMOTREE_CUDA_AHEAD");
    if (ahead && *ahead && strcmp(ahead, "0") != 0 && strcmp(ahead, "1") != 0) {
        snprintf(err, len, "HEMOTREE_CUDA_AHEAD: expected 0 or 1, got '%.100s'", ahead);
        return -1;
    }
    s->no_ahead = ahead && strcmp(ahead, "0") == 0;
    if (!ht_cuda_available(err, len)) return -1;
    if (ht_cuda_create(&s->nw->net, &s->U, s->w.pc, s->w.pcim, s->w.hX, s->w.h_plv_ref, &s->gpu, err, len))
        return -1;
    /* what every output time copies back, page-locked (ht_work_layout puts A .. C side by
     * side, and the outlet and inlet arrays pc .. vol_in); where that fails, it stays
     * pageable and the copies are only slower */
    {
        const ht_net *n = &s->nw->net;
        size_t nc = (size_t)n->n_cells, no = (size_t)n->n_outlets, ni = (size_t)n->n_inlets;
        ht_cuda_pin(s->gpu, s->U.A, (size_t)(s->U.C + nc - s->U.A) * sizeof(real));
        if (no + ni > 0) ht_cuda_pin(s->gpu, s->w.pc, (size_t)(s->w.vol_in + ni - s->w.pc) * sizeof(real));
        if (n->heart) {
            ht_cuda_pin(s->gpu, s->hbuf, ht_heart_layout(NULL, NULL, (size_t)s->M, no) * sizeof(real));
            ht_cuda_pin(s->gpu, s->w.hX, (size_t)s->M * sizeof *s->w.hX);
        }
    }
    s->backend = 1;
    return 0;
#else
    (void)s;
    snprintf(err, len, "this build has no CUDA backend");
    return -1;
#endif
}

static int first_failure(const ht_solver *s)
{
    for (int m = 0; m < s->M; ++m)
        if (s->clk[m].fail && s->clk[m].fail != HT_STOPPED) return s->clk[m].fail;
    return HT_OK;
}

#ifdef HT_HAVE_CUDA
/* The CUDA backend steps, chooses dt and samples probes on the device; here its probe rows
 * join the solver's buffers, and the state the driver reads (U, outlet pressures, volume
 * accounts) is copied back. With t_next > t_stop the next interval is begun before the
 * copy is waited for, so the device steps on while the copy runs and while the driver
 * writes this output. */
static int advance_cuda(ht_solver *s, double t_stop, double t_next)
{
    size_t np = (size_t)s->nw->net.m_probes;
    int heart = s->nw->net.heart;
    char err[512];
    const ht_cuda_rows *got = NULL;
    int code = ht_cuda_advance(s->gpu, t_stop, s->clk, &got, err, sizeof err);
    for (int m = 0; code >= 0 && (np > 0 || heart) && m < s->M; ++m) {
        ht_probe_rows *r = &s->rows[m];
        size_t cnt = got[m].n;
        if (cnt == 0) continue;
        if (rows_reserve(r, r->n + cnt, np, heart)) {
            code = HT_FAIL_MEMORY;
            break;
        }
        memcpy(r->t + r->n, got[m].t, cnt * sizeof *r->t);
        if (np > 0) {
            memcpy(r->p + r->n * np, got[m].p, cnt * np * sizeof *r->p);
            memcpy(r->q + r->n * np, got[m].q, cnt * np * sizeof *r->q);
            memcpy(r->a + r->n * np, got[m].a, cnt * np * sizeof *r->a);
        }
        if (heart) memcpy(r->h + r->n * HT_HEART_NSAMP, got[m].h, cnt * HT_HEART_NSAMP * sizeof *r->h);
        r->n += cnt;
    }
    /* got[] is the backend's, overwritten by the next interval: taken above, before it begins */
    if (code >= 0) {
        int bad = ht_cuda_fetch_start(s->gpu, &s->U, s->w.pc, s->w.pcim, s->w.vol_in, s->w.vol_out, s->w.hX,
                                      s->hbuf, err, sizeof err);
        /* a next interval that fails to begin leaves this output good: the next call begins
         * it again and reports the error there, as without beginning ahead */
        if (!bad && t_next > t_stop) (void)ht_cuda_begin(s->gpu, t_next, s->clk, NULL, 0);
        if (!bad) bad = ht_cuda_fetch_wait(s->gpu, err, sizeof err);
        if (bad) code = -1;
    }
    if (code < 0) fprintf(stderr, "hemotree: CUDA backend: %s\n", err);
    return code;
}
#endif

int ht_solver_state_sync(ht_solver *s, int to_device, char *err, size_t len)
{
#ifdef HT_HAVE_CUDA
    if (s->backend == 1)
        return ht_cuda_state(s->gpu, to_device, s->buf, s->hbuf, s->w.hX, s->w.hX0, s->w.hlink, s->w.h_fail,
                             s->clk, err, len);
#else
    (void)s;
#endif
    (void)to_device;
    (void)err;
    (void)len;
    return 0;
}

/* Out of memory for member m's probe rows: a failure of the member like any other. */
static int fail_memory(ht_solver *s, int m)
{
    ht_clock *clk = &s->clk[m];
    clk->fail = HT_FAIL_MEMORY;
    clk->fail_index = m * s->nw->net.m_cells;
    clk->fail_t = clk->t;
    return HT_FAIL_MEMORY;
}

/* The probe row of the initial state, before member m's first step (both backends). */
static int first_sample(ht_solver *s, int m)
{
    if (s->clk[m].fail || s->clk[m].step != 0 || s->rows[m].n != 0) return 0;
    return sample_probes(s, m) ? fail_memory(s, m) : 0;
}

/* Member m from its clock to t_stop: the whole time loop of one run. */
static void advance_member(ht_solver *s, int m, double t_stop)
{
    const ht_net *n = &s->nw->net;
    ht_clock *clk = &s->clk[m];
    if (clk->fail) return;
    clk->t_stop = t_stop;
    if (first_sample(s, m)) return;
    while (clk->t < t_stop) {
        if (ht_cpu_step(n, &s->U, &s->w, clk, m)) return;
        if (clk->t >= t_stop) clk->t = t_stop; /* exact output times */
        if (sample_probes(s, m)) {
            fail_memory(s, m);
            return;
        }
    }
}

int ht_solver_advance(ht_solver *s, double t_stop) { return ht_solver_advance_ahead(s, t_stop, 0); }

int ht_solver_advance_ahead(ht_solver *s, double t_stop, double t_next)
{
#ifdef HT_HAVE_CUDA
    if (s->backend == 1) {
        for (int m = 0; m < s->M; ++m)
            if (first_sample(s, m)) return HT_FAIL_MEMORY;
        int code = advance_cuda(s, t_stop, s->no_ahead ? 0 : t_next);
        return code < 0 ? code : first_failure(s);
    }
#else
    (void)t_next;
#endif
    /* A single run splits its cell loops over the threads (step_cpu.c); it must not sit
     * inside a parallel region, even an inactive one: libgomp would then build a fresh
     * nested team for every loop (measured: 30x slower on 2 threads). */
    if (s->M == 1) {
        advance_member(s, 0, t_stop);
        return first_failure(s);
    }
    /* members are independent: one thread each (dynamic: their step counts differ) */
#pragma omp parallel for schedule(dynamic, 1)
    for (int m = 0; m < s->M; ++m) advance_member(s, m, t_stop);
    return first_failure(s);
}

double ht_solver_volume(const ht_solver *s, int m)
{
    const ht_net *n = &s->nw->net;
    double v = 0;
    for (int i = m * n->m_cells; i < (m + 1) * n->m_cells; ++i) v += s->U.A[i] * n->vessel_dx[n->cell_vessel[i]];
    return v;
}

double ht_solver_total_volume(const ht_solver *s, int m)
{
    const ht_net *n = &s->nw->net;
    double v = ht_solver_volume(s, m) + ht_outlet_stored_volume(n, &s->w, m, s->clk[m].t);
    if (n->heart) v += ht_heart_volume(&s->w.hX[m]);
    return v;
}

void ht_solver_probe_clear(ht_solver *s)
{
    for (int m = 0; m < s->M; ++m) s->rows[m].n = 0;
}
