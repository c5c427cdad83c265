#include "solver.h"
#include "cpu/step_cpu.h"
#include "step.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ht_solver_init(ht_solver *s, const ht_network *nw)
{
    memset(s, 0, sizeof *s);
    s->nw = nw;
    const ht_net *n = &nw->net;
    size_t nc = (size_t)n->n_cells, nf = (size_t)n->n_faces;
    size_t no = (size_t)n->n_outlets, ni = (size_t)n->n_inlets;
    size_t total = 9 * nc + 6 * nc + nc + 4 * nf + 5 * no + ni + nc + 1;
    s->buf = calloc(total, sizeof(real));
    if (!s->buf) return -1;
    real *p = s->buf;
#define TAKE(dst, count) do { (dst) = p; p += (count); } while (0)
    TAKE(s->U.A, nc); TAKE(s->U.Q, nc); TAKE(s->U.C, nc);
    TAKE(s->w.U0.A, nc); TAKE(s->w.U0.Q, nc); TAKE(s->w.U0.C, nc);
    TAKE(s->w.U1.A, nc); TAKE(s->w.U1.Q, nc); TAKE(s->w.U1.C, nc);
    TAKE(s->w.fA_m, nc); TAKE(s->w.fQ_m, nc); TAKE(s->w.fc_m, nc);
    TAKE(s->w.fA_p, nc); TAKE(s->w.fQ_p, nc); TAKE(s->w.fc_p, nc);
    TAKE(s->w.cell_rate, nc);
    TAKE(s->w.FA, nf); TAKE(s->w.FQl, nf); TAKE(s->w.FQr, nf); TAKE(s->w.FC, nf);
    TAKE(s->w.pc, no); TAKE(s->w.pc0, no); TAKE(s->w.vol_out, no);
    TAKE(s->w.pcim, no); TAKE(s->w.pcim0, no);
    TAKE(s->w.vol_in, ni);
    TAKE(s->w.visc_cp, nc);
#undef TAKE
    for (size_t i = 0; i < nc; ++i) s->U.A[i] = nw->A_init[i];
    for (size_t k = 0; k < no; ++k) s->w.pc[k] = nw->pc_init[k];
    for (size_t k = 0; k < no; ++k) s->w.pcim[k] = nw->pcim_init[k];
    s->clk.t = 0;
    return 0;
}

void ht_solver_free(ht_solver *s)
{
    if (!s) return;
#ifdef HT_HAVE_CUDA
    ht_cuda_destroy(s->gpu);
#endif
    free(s->buf);
    free(s->pt);
    free(s->pp);
    free(s->pq);
    free(s->pa);
    memset(s, 0, sizeof *s);
}

static int probe_reserve(ht_solver *s, size_t need)
{
    if (need <= s->pcap) return 0;
    size_t cap = s->pcap ? 2 * s->pcap : 1024;
    while (cap < need) cap *= 2;
    size_t np = (size_t)s->nw->net.n_probes;
    size_t per = np ? np : 1;
    double *t = realloc(s->pt, cap * sizeof *t);
    if (!t) return -1;
    s->pt = t;
    double *arr[3] = {s->pp, s->pq, s->pa};
    for (int k = 0; k < 3; ++k) {
        double *r = realloc(arr[k], cap * per * sizeof *r);
        if (!r) return -1;
        arr[k] = r;
    }
    s->pp = arr[0];
    s->pq = arr[1];
    s->pa = arr[2];
    s->pcap = cap;
    return 0;
}

static int sample_probes(ht_solver *s)
{
    const ht_net *n = &s->nw->net;
    if (n->n_probes == 0) return 0;
    if (probe_reserve(s, s->pn + 1)) return -1;
    size_t row = s->pn * (size_t)n->n_probes;
    s->pt[s->pn] = s->clk.t;
    for (int k = 0; k < n->n_probes; ++k)
        ht_probe_sample(n, &s->U, k, &s->pp[row + k], &s->pq[row + k], &s->pa[row + k]);
    s->pn++;
    return 0;
}

int ht_solver_use_cuda(ht_solver *s, char *err, size_t len)
{
#ifdef HT_HAVE_CUDA
    if (s->backend == 1) return 0;
    /* the device clock starts at t = 0 and its volume accounts at zero */
    if (s->clk.step != 0 || s->clk.t != 0) {
        snprintf(err, len, "the CUDA backend must be chosen before the first step");
        return -1;
    }
    if (!ht_cuda_available(err, len)) return -1;
    if (ht_cuda_create(&s->nw->net, &s->U, s->w.pc, s->w.pcim, &s->gpu, err, len)) return -1;
    s->backend = 1;
    return 0;
#else
    (void)s;
    snprintf(err, len, "this build has no CUDA backend");
    return -1;
#endif
}

#ifdef HT_HAVE_CUDA
/* The CUDA backend steps, chooses dt and samples probes on the device; here its probe rows
 * join the solver's buffers, and the state the driver reads (U, outlet pressures, volume
 * accounts) is copied back. */
static int advance_cuda(ht_solver *s, double t_stop)
{
    size_t np = (size_t)s->nw->net.n_probes, cnt = 0;
    const double *t = NULL, *p = NULL, *q = NULL, *a = NULL;
    char err[512];
    int code = ht_cuda_advance(s->gpu, t_stop, &s->clk, &cnt, &t, &p, &q, &a, err, sizeof err);
    if (code >= 0 && np > 0 && cnt > 0) {
        if (probe_reserve(s, s->pn + cnt)) return HT_FAIL_MEMORY;
        memcpy(s->pt + s->pn, t, cnt * sizeof *t);
        memcpy(s->pp + s->pn * np, p, cnt * np * sizeof *p);
        memcpy(s->pq + s->pn * np, q, cnt * np * sizeof *q);
        memcpy(s->pa + s->pn * np, a, cnt * np * sizeof *a);
        s->pn += cnt;
    }
    if (code >= 0 && ht_cuda_fetch(s->gpu, &s->U, s->w.pc, s->w.pcim, s->w.vol_in, s->w.vol_out, err,
                                    sizeof err))
        code = -1;
    if (code < 0) fprintf(stderr, "hemotree: CUDA backend: %s\n", err);
    return code;
}
#endif

int ht_solver_advance(ht_solver *s, double t_stop)
{
    const ht_net *n = &s->nw->net;
    if (s->clk.step == 0 && s->pn == 0 && sample_probes(s)) return HT_FAIL_MEMORY;
    s->clk.t_stop = t_stop;
#ifdef HT_HAVE_CUDA
    if (s->backend == 1) return advance_cuda(s, t_stop);
#endif
    while (s->clk.t < t_stop) {
        s->clk.dt = ht_cpu_dt(n, &s->U, &s->clk);
        if (!(s->clk.dt > 0)) {
            s->clk.fail = HT_FAIL_CFL;
            s->clk.fail_index = 0;
            s->clk.fail_t = s->clk.t;
            return HT_FAIL_CFL;
        }
        int code = ht_cpu_step(n, &s->U, &s->w, &s->clk);
        if (code) return code;
        if (s->clk.t >= t_stop) s->clk.t = t_stop; /* exact output times */
        if (sample_probes(s)) return HT_FAIL_MEMORY;
    }
    return HT_OK;
}

double ht_solver_volume(const ht_solver *s)
{
    const ht_net *n = &s->nw->net;
    double v = 0;
    for (int i = 0; i < n->n_cells; ++i) v += s->U.A[i] * n->vessel_dx[n->cell_vessel[i]];
    return v;
}

void ht_solver_probe_clear(ht_solver *s) { s->pn = 0; }
