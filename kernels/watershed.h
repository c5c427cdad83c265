/* Watershed (mixing-zone) metrics on the ECMO fraction c: the watershed position along the
 * aortic path and the ECMO fraction delivered to a branch, the outputs compared with CFD
 * (Nezami et al., ASAIO J 2021;67:276-283; Stevens et al., J Biomech 2018;79:39-44; see
 * docs/devices.md sections 3 and 4.5). Pure functions on plain arrays, for the host
 * (post-processing of the HDF5 fields, metrics per cycle) or the device (an on-line metric
 * per member).
 *
 * Front position. The path is an ordered list of cells from the aortic root to the ECMO
 * cannula tip (it crosses vessels: the caller gathers c at the cell centres and their
 * distances x from the path start, ascending, 0 <= x[i] <= length). The watershed is where
 * native blood (c < 1/2, coming from the root) meets ECMO blood (c >= 1/2, coming from the
 * cannula). ht_watershed_front returns the distal end of the native region connected to the
 * root: the first i (from the root side) with c[i] < 1/2 <= c[i+1], the position linearly
 * interpolated between the two cell centres,
 *     x_f = x[i] + (1/2 - c[i]) / (c[i+1] - c[i]) (x[i+1] - x[i]).
 * Conventions when there is no such crossing:
 *   c[0] >= 1/2 (ECMO blood already at the root; in particular c >= 1/2 everywhere):
 *       returns -1: the front lies proximal to the path start (a marker below 0; map it to 0
 *       for a clamped position);
 *   c < 1/2 everywhere (native blood down to the cannula tip):
 *       returns `length`: the front lies at or beyond the path end.
 * Both markers keep the order "more ECMO support, smaller value", so a per-cycle mean of the
 * clamped values max(x_f, 0) stays meaningful. A native pocket distal to the front (another
 * crossing further down) does not move it.
 *
 * Delivered fraction. For a branch (an arch vessel, a coronary) the ECMO fraction delivered
 * over a beat is the flow-weighted mean of c at the branch inlet over forward flow only:
 *     f = sum_{Q_n > 0} Q_n c_n dt_n / sum_{Q_n > 0} Q_n dt_n
 * Backward flow (Q <= 0, out of the branch) delivers nothing and is not counted: blood that
 * leaves the branch and re-enters is counted once per entry, with its c at re-entry. When no
 * forward flow occurs over the interval the result is -1 (undefined). The saturation
 * delivered follows from linearity: S = f S_oxy + (1 - f) S_native (ht_saturation_mix). */
#ifndef HT_WATERSHED_H
#define HT_WATERSHED_H
#include "ht_common.h"

#define HT_WATERSHED_C 0.5

/* Front position (m from the path start); see the conventions above. n >= 1 cells. */
HT_HD real ht_watershed_front(const real *c, const real *x, int n, real length)
{
    if (n < 1) return length;
    if (!(c[0] < HT_WATERSHED_C)) return -1;
    for (int i = 0; i + 1 < n; ++i) {
        if (c[i + 1] >= HT_WATERSHED_C) {
            real s = (HT_WATERSHED_C - c[i]) / (c[i + 1] - c[i]); /* in (0, 1] */
            return x[i] + s * (x[i + 1] - x[i]);
        }
    }
    return length;
}

/* Forward-flow accumulator of one branch. */
typedef struct {
    real qc;   /* m^3: sum of Q c dt over forward flow */
    real q;    /* m^3: sum of Q dt over forward flow */
} ht_delivered;

HT_HD void ht_delivered_reset(ht_delivered *d)
{
    d->qc = 0;
    d->q = 0;
}

/* Adds one sample: flow Q (m^3/s, positive into the branch), fraction c, duration dt (s). */
HT_HD void ht_delivered_add(ht_delivered *d, real Q, real c, real dt)
{
    if (Q > 0) {
        d->qc += Q * c * dt;
        d->q += Q * dt;
    }
}

/* The delivered ECMO fraction, or -1 when no forward flow was accumulated. */
HT_HD real ht_delivered_fraction(const ht_delivered *d)
{
    return d->q > 0 ? d->qc / d->q : -1;
}

/* The same over arrays of n samples with a constant dt. */
HT_HD real ht_delivered_fraction_series(const real *Q, const real *c, int n, real dt)
{
    ht_delivered d;
    ht_delivered_reset(&d);
    for (int k = 0; k < n; ++k) ht_delivered_add(&d, Q[k], c[k], dt);
    return ht_delivered_fraction(&d);
}

#endif
