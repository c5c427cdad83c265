/* Prescribed boundary waveforms v(t): a periodic table (linear interpolation), a Fourier
 * series, or a Gaussian pulse. Evaluated inside the time step, so it lives with the kernels
 * and the struct holds only numbers and pointers the device can read. */
#ifndef HT_WAVEFORM_H
#define HT_WAVEFORM_H
#include "ht_common.h"

typedef enum { HT_WAVE_CONSTANT = 0, HT_WAVE_TABLE, HT_WAVE_FOURIER, HT_WAVE_GAUSSIAN } ht_wave_kind;

typedef struct {
    ht_wave_kind kind;
    real period;      /* s; 0 for a non-periodic signal (Gaussian pulse, constant) */
    real scale;       /* multiplies the result (unit conversion of tables, --set scaling) */
    /* constant */
    real value;
    /* table: n samples t[i] (ascending, t[0] = 0 by convention), v[i]; periodic in `period` */
    int n;
    const real *t, *v;
    /* Fourier: mean + sum_k amp[k] sin(2 pi (k+1) t / period + phase[k]) */
    real mean;
    int n_harm;
    const real *amp, *phase;
    /* Gaussian: amplitude exp(-k (t - t0)^2) */
    real amplitude, t0, k;
} ht_waveform;

HT_HD real ht_wave_eval(const ht_waveform *w, real t)
{
    real v = 0;
    switch (w->kind) {
    case HT_WAVE_CONSTANT:
        v = w->value;
        break;
    case HT_WAVE_TABLE: {
        real tt = t;
        if (w->period > 0) {
            tt = fmod(t, w->period);
            if (tt < 0) tt += w->period;
        }
        if (tt <= w->t[0]) { v = w->v[0]; break; }
        if (tt >= w->t[w->n - 1]) {
            /* wrap between the last sample and the first of the next period */
            if (w->period > w->t[w->n - 1]) {
                real s = (tt - w->t[w->n - 1]) / (w->period + w->t[0] - w->t[w->n - 1]);
                v = w->v[w->n - 1] + s * (w->v[0] - w->v[w->n - 1]);
            } else {
                v = w->v[w->n - 1];
            }
            break;
        }
        /* binary search: tables are small but this runs every step on every inlet */
        int lo = 0, hi = w->n - 1;
        while (hi - lo > 1) {
            int mid = (lo + hi) / 2;
            if (w->t[mid] <= tt) lo = mid; else hi = mid;
        }
        real s = (tt - w->t[lo]) / (w->t[hi] - w->t[lo]);
        v = w->v[lo] + s * (w->v[hi] - w->v[lo]);
        break;
    }
    case HT_WAVE_FOURIER: {
        real om = 2 * HT_PI / w->period;
        v = w->mean;
        for (int k = 0; k < w->n_harm; ++k)
            v += w->amp[k] * sin(om * (real)(k + 1) * t + w->phase[k]);
        break;
    }
    case HT_WAVE_GAUSSIAN:
        v = w->amplitude * exp(-w->k * (t - w->t0) * (t - w->t0));
        break;
    }
    return w->scale * v;
}

#endif
