/* Per-beat watershed metrics of a run with a VA-ECMO (/metrics/watershed; docs/devices.md
 * section 4.3), on the host from the fields at output times (kernels/watershed.h):
 *  - the c = 1/2 front along the aortic path, the chain of vessels from the heart's root
 *    vessel to the vessel of the return cannula tip, ending at the tip cell: its distance
 *    from the root (m; ht_watershed_front, clamped to [0, length]), mean (trapezoid in time),
 *    min and max over the output samples of the beat, and the vessel holding the mean;
 *  - the ECMO fraction delivered over the beat to the arch branches, the coronaries and the
 *    renal arteries (those of ADAN56's names the network has): forward-flow-weighted c at the
 *    first cell of each branch (ht_delivered_*, one sample per output time), and the oxygen
 *    saturation that fraction carries (linear in it: ht_saturation_mix of ecmo.h).
 * Beats start at multiples of the heart period, as in heart_metrics.h. */
#ifndef HT_WATERSHED_METRICS_H
#define HT_WATERSHED_METRICS_H
#include <stddef.h>
#include "case.h"
#include "network.h"
#include "watershed.h"

#define HT_WS_MAXBR 8
enum { HT_WS_BEAT = 0, HT_WS_T_START, HT_WS_MEAN, HT_WS_MIN, HT_WS_MAX, HT_WS_VESSEL, HT_WS_NFIX };

typedef struct {
    int on;
    int n_path;
    int *cells;                  /* member-local cells from the root to the tip */
    double *x, *cbuf;            /* their distances from the root (m); scratch */
    int *pv;                     /* their vessels */
    double length;               /* m, root to the tip */
    int n_br, br_cell[HT_WS_MAXBR];
    const char *br_name[HT_WS_MAXBR];
    const char *const *vessel_names;
    double T;
    int started;
    long beat;
    double t0, t_prev, f_prev, f_int, f_min, f_max;
    ht_delivered d[HT_WS_MAXBR];
    double S_oxy, S_native;      /* the case's saturations, for the delivered saturation */
    int n_cols;                  /* HT_WS_NFIX + 2 n_br: delivered_<b> then saturation_<b> */
    char *col_names[HT_WS_NFIX + 2 * HT_WS_MAXBR];
    size_t n_rows, cap;
    double *rows;                /* [n_rows][n_cols] */
    const char **front_vessel;   /* [n_rows] */
} ht_ws_metrics;

/* For member case c with its own network nw (devices.ecmo): the path and branches. Returns 0
 * (m->on = 0 when the case has no ECMO or no path), -1 out of memory. */
int ht_ws_init(ht_ws_metrics *m, const ht_case *c, const ht_network *nw, double T);
/* One output time: the member's flow q and ECMO fraction c [m_cells]. 0 or -1 (memory). */
int ht_ws_sample(ht_ws_metrics *m, double t, const double *q, const double *c);
void ht_ws_free(ht_ws_metrics *m);

#endif
