/* Per-beat metrics of a run with a 0D heart (/metrics/cycles, docs/heart.md "Metrics"),
 * computed on the host from the heart rows the solver samples every step
 * (kernels/heart_stage.h, ht_heart_sample) and from the volume accounts at output times.
 *
 * Beats start at multiples of the heart period T from t = 0 (the onset of ventricular
 * activation: the cycle starts there, heart_presets.h). The driver feeds the rows in time
 * order (ht_heart_metrics_feed) and, at each output time, the cumulative volumes that entered
 * the root and left through the coronary outlets (ht_heart_metrics_volumes); output times
 * include every beat boundary, so the flows of a beat are exact volume differences. */
#ifndef HT_HEART_METRICS_H
#define HT_HEART_METRICS_H
#include <stddef.h>

enum {
    HT_CYC_BEAT = 0,     /* 1, 0-based */
    HT_CYC_T_START,      /* s */
    HT_CYC_SV,           /* m^3, EDV - ESV */
    HT_CYC_EF,           /* 1, SV / EDV */
    HT_CYC_CO,           /* m^3/s, volume through the root over the beat / T */
    HT_CYC_LVEDP,        /* Pa, LV pressure at the beat start */
    HT_CYC_LVESP,        /* Pa, LV pressure at the LV volume minimum */
    HT_CYC_EDV,          /* m^3, LV volume at the beat start */
    HT_CYC_ESV,          /* m^3, LV volume minimum */
    HT_CYC_SW,           /* J, stroke work: PV-loop area, -sum (p + p') / 2 (V' - V) */
    HT_CYC_PVA,          /* J, SW + PE, PE = 0.5 LVESP (ESV - V0) */
    HT_CYC_EA,           /* Pa/m^3, LVESP / SV */
    HT_CYC_AV_OPEN,      /* s, time with aortic valve flow > 1 mL/s */
    HT_CYC_MAP,          /* Pa, mean root pressure (trapezoid in time) */
    HT_CYC_PP,           /* Pa, max - min root pressure */
    HT_CYC_CORONARY,     /* m^3/s, mean total coronary outflow (0 without coronary outlets) */
    HT_CYC_EDV_CHANGE,   /* 1, |EDV - EDV of the previous beat| / EDV (NaN for the first) */
    HT_CYC_ESV_CHANGE,   /* 1, the same for ESV */
    HT_CYC_IMPELLA_Q,    /* m^3/s, mean Impella flow over the beat (0 without one) */
    HT_CYC_ECMO_Q,       /* m^3/s, mean VA-ECMO flow over the beat (0 without one) */
    HT_CYC_BRONCHIAL_Q,  /* m^3/s, mean bronchial flow root -> pulmonary veins (0 without) */
    HT_CYC_NCOL
};

extern const char *const ht_cycle_names[HT_CYC_NCOL];
extern const char *const ht_cycle_units[HT_CYC_NCOL];

typedef struct {
    double T, V0;                 /* s, m^3 (LV V0 of the ESPVR) */
    int started;                  /* a beat is open */
    long beat;                    /* the open beat */
    double t0, edv, edp;          /* its start */
    double t_prev, p_prev, v_prev, r_prev;
    double vmin, p_vmin, sw, map_int, rmin, rmax, open;
    double imp_int, ecmo_int, qi_prev, qe_prev; /* device flow integrals over the beat */
    double br_int, qb_prev;       /* bronchial flow integral over the beat */
    double vin_prev, vcor_prev;   /* cumulative volumes at the last beat start */
    size_t n_rows, cap;
    double *rows;                 /* [n_rows][HT_CYC_NCOL] */
} ht_heart_metrics;

void ht_heart_metrics_init(ht_heart_metrics *hm, double T, double V0);
/* n heart rows (t [n], rows [n][HT_HEART_NSAMP]). Returns 0, or -1 out of memory. */
int ht_heart_metrics_feed(ht_heart_metrics *hm, size_t n, const double *t, const double *rows);
/* At output time t: cumulative volume into the root (m^3) and out through the coronary
 * outlets (m^3); at a beat boundary they complete the beat just closed (CO, coronary flow). */
void ht_heart_metrics_volumes(ht_heart_metrics *hm, double t, double vin, double vcor);
void ht_heart_metrics_free(ht_heart_metrics *hm);

#endif
