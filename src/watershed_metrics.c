#include "watershed_metrics.h"
#include "ecmo.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const BRANCHES[] = {"brachiocephalic_trunk", "common_carotid_L", "subclavian_L_I",
                                       "left_main_coronary", "right_coronary", "renal_L", "renal_R"};

int ht_ws_init(ht_ws_metrics *m, const ht_case *c, const ht_network *nw, double T)
{
    memset(m, 0, sizeof *m);
    if (!c->heart.enabled || !c->devices.ecmo) return 0;
    int nv = c->n_vessels, root = c->heart.vessel, tipv = c->devices.ecmo_vessel;
    int *chain = calloc((size_t)nv + 1, sizeof *chain), nch = 0;
    if (!chain) return -1;
    for (int v = tipv; v >= 0 && nch <= nv;) {
        chain[nch++] = v;
        if (v == root) break;
        int p = -1;
        for (int u = 0; u < nv; ++u)
            if (c->vessels[u].node_to == c->vessels[v].node_from) p = u;
        v = p;
    }
    if (nch == 0 || chain[nch - 1] != root) {
        free(chain);
        return 0; /* the tip is not downstream of the root: no path */
    }
    int tip = nw->net.dev[0].ecmo_cell, ncell = 0;
    for (int k = 0; k < nch; ++k) ncell += nw->vessel_n[chain[k]];
    m->cells = calloc((size_t)ncell, sizeof *m->cells);
    m->pv = calloc((size_t)ncell, sizeof *m->pv);
    m->x = calloc((size_t)ncell, sizeof *m->x);
    m->cbuf = calloc((size_t)ncell, sizeof *m->cbuf);
    if (!m->cells || !m->pv || !m->x || !m->cbuf) {
        free(chain);
        return -1;
    }
    double off = 0;
    for (int k = nch - 1; k >= 0; --k) {
        int v = chain[k], f = nw->vessel_first[v];
        double dx = nw->vessel_dx[v];
        for (int j = 0; j < nw->vessel_n[v]; ++j) {
            if (k == 0 && f + j > tip) break;
            m->cells[m->n_path] = f + j;
            m->pv[m->n_path] = v;
            m->x[m->n_path] = off + (j + 0.5) * dx;
            m->n_path++;
        }
        off += k == 0 ? c->devices.ecmo_x : c->vessels[v].length;
    }
    free(chain);
    m->length = off;
    m->vessel_names = nw->vessel_names;
    for (size_t b = 0; b < sizeof BRANCHES / sizeof *BRANCHES && m->n_br < HT_WS_MAXBR; ++b)
        for (int v = 0; v < nv; ++v)
            if (!strcmp(c->vessels[v].name, BRANCHES[b])) {
                m->br_cell[m->n_br] = nw->vessel_first[v];
                m->br_name[m->n_br] = c->vessels[v].name;
                m->n_br++;
            }
    static const char *const fixed[HT_WS_NFIX] = {"beat", "t_start", "front_mean", "front_min", "front_max",
                                                  "front_vessel_id"};
    m->n_cols = HT_WS_NFIX + 2 * m->n_br;
    m->S_oxy = c->devices.S_oxy;
    m->S_native = c->devices.S_native;
    for (int k = 0; k < m->n_cols; ++k) {
        char buf[128];
        int b = k - HT_WS_NFIX;
        if (k < HT_WS_NFIX) snprintf(buf, sizeof buf, "%s", fixed[k]);
        else if (b < m->n_br) snprintf(buf, sizeof buf, "delivered_%s", m->br_name[b]);
        else snprintf(buf, sizeof buf, "saturation_%s", m->br_name[b - m->n_br]);
        m->col_names[k] = malloc(strlen(buf) + 1);
        if (!m->col_names[k]) return -1;
        strcpy(m->col_names[k], buf);
    }
    m->T = T;
    m->on = 1;
    return 0;
}

static long ws_boundary(double T, double t)
{
    double r = t / T;
    long k = lround(r);
    return fabs(r - (double)k) < 1e-9 ? k : -1;
}

static double front_at(ht_ws_metrics *m, const double *c)
{
    for (int i = 0; i < m->n_path; ++i) m->cbuf[i] = c[m->cells[i]];
    double f = ht_watershed_front(m->cbuf, m->x, m->n_path, m->length);
    return f < 0 ? 0 : f > m->length ? m->length : f;
}

static void ws_start(ht_ws_metrics *m, long k, double t, double f)
{
    m->started = 1;
    m->beat = k;
    m->t0 = m->t_prev = t;
    m->f_prev = m->f_min = m->f_max = f;
    m->f_int = 0;
    for (int b = 0; b < m->n_br; ++b) ht_delivered_reset(&m->d[b]);
}

static int ws_close(ht_ws_metrics *m, double t)
{
    if (m->n_rows == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 64;
        double *r = realloc(m->rows, cap * (size_t)m->n_cols * sizeof *r);
        if (!r) return -1;
        m->rows = r;
        const char **fv = realloc(m->front_vessel, cap * sizeof *fv);
        if (!fv) return -1;
        m->front_vessel = fv;
        m->cap = cap;
    }
    double *r = &m->rows[m->n_rows * (size_t)m->n_cols];
    double len = t - m->t0, mean = len > 0 ? m->f_int / len : NAN;
    r[HT_WS_BEAT] = (double)m->beat;
    r[HT_WS_T_START] = m->t0;
    r[HT_WS_MEAN] = mean;
    r[HT_WS_MIN] = m->f_min;
    r[HT_WS_MAX] = m->f_max;
    /* the vessel holding the mean position: the path cell nearest to it */
    int best = 0;
    for (int i = 1; i < m->n_path; ++i)
        if (fabs(m->x[i] - mean) < fabs(m->x[best] - mean)) best = i;
    r[HT_WS_VESSEL] = m->pv[best];
    m->front_vessel[m->n_rows] = m->vessel_names[m->pv[best]];
    for (int b = 0; b < m->n_br; ++b) {
        double f = ht_delivered_fraction(&m->d[b]);
        r[HT_WS_NFIX + b] = f < 0 ? NAN : f;
        r[HT_WS_NFIX + m->n_br + b] = f < 0 ? NAN : ht_saturation_mix(f, m->S_oxy, m->S_native);
    }
    m->n_rows++;
    return 0;
}

int ht_ws_sample(ht_ws_metrics *m, double t, const double *q, const double *c)
{
    if (!m->on) return 0;
    long k = ws_boundary(m->T, t);
    double f = front_at(m, c);
    if (!m->started) {
        if (k >= 0) ws_start(m, k, t, f);
        return 0;
    }
    double dt = t - m->t_prev;
    if (!(dt > 0)) return 0;
    m->f_int += 0.5 * (f + m->f_prev) * dt;
    if (f < m->f_min) m->f_min = f;
    if (f > m->f_max) m->f_max = f;
    for (int b = 0; b < m->n_br; ++b) ht_delivered_add(&m->d[b], q[m->br_cell[b]], c[m->br_cell[b]], dt);
    m->t_prev = t;
    m->f_prev = f;
    if (k == m->beat + 1) {
        if (ws_close(m, t)) return -1;
        ws_start(m, k, t, f);
    }
    return 0;
}

void ht_ws_free(ht_ws_metrics *m)
{
    free(m->cells);
    free(m->pv);
    free(m->x);
    free(m->cbuf);
    for (int k = 0; k < HT_WS_NFIX + 2 * HT_WS_MAXBR; ++k) free(m->col_names[k]);
    free(m->rows);
    free(m->front_vessel);
    memset(m, 0, sizeof *m);
}
