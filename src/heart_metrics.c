/* Per-beat metrics from the sampled heart rows (heart_metrics.h). Definitions and their
 * sources: docs/heart.md, "Metrics per beat". */
#include "heart_metrics.h"
#include "heart_stage.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const ht_cycle_names[HT_CYC_NCOL] = {
    "beat", "t_start", "stroke_volume", "ejection_fraction", "cardiac_output", "lvedp", "lvesp", "edv", "esv",
    "stroke_work", "pressure_volume_area", "arterial_elastance", "aortic_valve_open_time", "map", "pulse_pressure",
    "coronary_flow", "edv_change", "esv_change", "impella_flow", "ecmo_flow",
    "bronchial_flow"};
const char *const ht_cycle_units[HT_CYC_NCOL] = {"1",   "s", "m^3", "1", "m^3/s", "Pa",  "Pa", "m^3",   "m^3",
                                                 "J",   "J", "Pa/m^3", "s", "Pa", "Pa", "m^3/s", "1", "1",
                                                 "m^3/s", "m^3/s", "m^3/s"};

/* forward aortic flow above this counts as the valve being open (ejection) */
#define HT_AV_OPEN_Q 1e-6 /* m^3/s = 1 mL/s */

void ht_heart_metrics_init(ht_heart_metrics *hm, double T, double V0)
{
    memset(hm, 0, sizeof *hm);
    hm->T = T;
    hm->V0 = V0;
}

void ht_heart_metrics_free(ht_heart_metrics *hm)
{
    free(hm->rows);
    memset(hm, 0, sizeof *hm);
}

/* the beat boundary index of time t, or -1 when t is not one */
static long boundary(const ht_heart_metrics *hm, double t)
{
    double r = t / hm->T;
    long k = lround(r);
    return fabs(r - (double)k) < 1e-9 ? k : -1;
}

static void start_beat(ht_heart_metrics *hm, long k, double t, const double *h)
{
    hm->started = 1;
    hm->beat = k;
    hm->t0 = t;
    hm->edv = h[HT_HS_LV_V];
    hm->edp = h[HT_HS_LV_P];
    hm->t_prev = t;
    hm->p_prev = h[HT_HS_LV_P];
    hm->v_prev = h[HT_HS_LV_V];
    hm->r_prev = h[HT_HS_ROOT_P];
    hm->vmin = h[HT_HS_LV_V];
    hm->p_vmin = h[HT_HS_LV_P];
    hm->sw = hm->map_int = hm->open = 0;
    hm->imp_int = hm->ecmo_int = hm->br_int = 0;
    hm->qi_prev = h[HT_HS_IMP_Q];
    hm->qe_prev = h[HT_HS_ECMO_Q];
    hm->qb_prev = h[HT_HS_BR_Q];
    hm->rmin = hm->rmax = h[HT_HS_ROOT_P];
}

static int close_beat(ht_heart_metrics *hm, double t)
{
    if (hm->n_rows == hm->cap) {
        size_t cap = hm->cap ? 2 * hm->cap : 64;
        double *r = realloc(hm->rows, cap * HT_CYC_NCOL * sizeof *r);
        if (!r) return -1;
        hm->rows = r;
        hm->cap = cap;
    }
    double *r = &hm->rows[hm->n_rows * HT_CYC_NCOL];
    double len = t - hm->t0;
    double sv = hm->edv - hm->vmin;
    r[HT_CYC_BEAT] = (double)hm->beat;
    r[HT_CYC_T_START] = hm->t0;
    r[HT_CYC_SV] = sv;
    r[HT_CYC_EF] = sv / hm->edv;
    r[HT_CYC_CO] = NAN;       /* from the volume accounts (ht_heart_metrics_volumes) */
    r[HT_CYC_LVEDP] = hm->edp;
    r[HT_CYC_LVESP] = hm->p_vmin;
    r[HT_CYC_EDV] = hm->edv;
    r[HT_CYC_ESV] = hm->vmin;
    r[HT_CYC_SW] = hm->sw;
    r[HT_CYC_PVA] = hm->sw + 0.5 * hm->p_vmin * (hm->vmin - hm->V0);
    r[HT_CYC_EA] = sv > 0 ? hm->p_vmin / sv : NAN;
    r[HT_CYC_AV_OPEN] = hm->open;
    r[HT_CYC_MAP] = len > 0 ? hm->map_int / len : NAN;
    r[HT_CYC_PP] = hm->rmax - hm->rmin;
    r[HT_CYC_CORONARY] = NAN;
    r[HT_CYC_IMPELLA_Q] = len > 0 ? hm->imp_int / len : NAN;
    r[HT_CYC_ECMO_Q] = len > 0 ? hm->ecmo_int / len : NAN;
    r[HT_CYC_BRONCHIAL_Q] = len > 0 ? hm->br_int / len : NAN;
    if (hm->n_rows > 0) {
        const double *q = &hm->rows[(hm->n_rows - 1) * HT_CYC_NCOL];
        r[HT_CYC_EDV_CHANGE] = fabs(r[HT_CYC_EDV] - q[HT_CYC_EDV]) / r[HT_CYC_EDV];
        r[HT_CYC_ESV_CHANGE] = fabs(r[HT_CYC_ESV] - q[HT_CYC_ESV]) / r[HT_CYC_ESV];
    } else {
        r[HT_CYC_EDV_CHANGE] = r[HT_CYC_ESV_CHANGE] = NAN;
    }
    hm->n_rows++;
    return 0;
}

int ht_heart_metrics_feed(ht_heart_metrics *hm, size_t n, const double *t, const double *rows)
{
    for (size_t j = 0; j < n; ++j) {
        const double *h = &rows[j * HT_HEART_NSAMP];
        double tj = t[j];
        long k = boundary(hm, tj);
        if (!hm->started) {
            if (k >= 0) start_beat(hm, k, tj, h);
            continue;
        }
        double dt = tj - hm->t_prev;
        if (!(dt > 0)) continue; /* a repeated sample */
        double p = h[HT_HS_LV_P], v = h[HT_HS_LV_V], pr = h[HT_HS_ROOT_P];
        hm->sw -= 0.5 * (p + hm->p_prev) * (v - hm->v_prev);
        hm->map_int += 0.5 * (pr + hm->r_prev) * dt;
        hm->imp_int += 0.5 * (h[HT_HS_IMP_Q] + hm->qi_prev) * dt;
        hm->ecmo_int += 0.5 * (h[HT_HS_ECMO_Q] + hm->qe_prev) * dt;
        hm->qi_prev = h[HT_HS_IMP_Q];
        hm->qe_prev = h[HT_HS_ECMO_Q];
        hm->br_int += 0.5 * (h[HT_HS_BR_Q] + hm->qb_prev) * dt;
        hm->qb_prev = h[HT_HS_BR_Q];
        if (pr < hm->rmin) hm->rmin = pr;
        if (pr > hm->rmax) hm->rmax = pr;
        if (v < hm->vmin) {
            hm->vmin = v;
            hm->p_vmin = p;
        }
        if (h[HT_HS_AO_Q] > HT_AV_OPEN_Q) hm->open += dt;
        hm->t_prev = tj;
        hm->p_prev = p;
        hm->v_prev = v;
        hm->r_prev = pr;
        if (k == hm->beat + 1) {
            if (close_beat(hm, tj)) return -1;
            start_beat(hm, k, tj, h);
        }
    }
    return 0;
}

void ht_heart_metrics_volumes(ht_heart_metrics *hm, double t, double vin, double vcor)
{
    long k = boundary(hm, t);
    if (k < 0) return;
    if (hm->n_rows > 0) {
        double *r = &hm->rows[(hm->n_rows - 1) * HT_CYC_NCOL];
        /* the beat that ends at t (and has not had its volumes yet) */
        if (lround(r[HT_CYC_BEAT]) == k - 1 && isnan(r[HT_CYC_CO])) {
            r[HT_CYC_CO] = (vin - hm->vin_prev) / hm->T;
            r[HT_CYC_CORONARY] = (vcor - hm->vcor_prev) / hm->T;
        }
    }
    hm->vin_prev = vin;
    hm->vcor_prev = vcor;
}
