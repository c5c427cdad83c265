/* Time-varying elastance heart chambers (docs/heart.md section 1).
 *
 * Activation: the normalised double-Hill function of Mynard et al. 2012 (Int J Numer Meth
 * Biomed Eng 28:626) and Mynard & Smolich 2015 (Ann Biomed Eng 43:1443), the
 * Stergiopulos-Meister-Westerhof 1996 shape with its own time constants per chamber:
 *
 *   g1 = (tl / tau1)^m1,   g2 = (tl / tau2)^m2,   tl = (t - onset) mod T in [0, T)
 *   e(t) = k * g1 / (1 + g1) * [ 1 / (1 + g2) - 1 / (1 + (T / tau2)^m2) ]
 *
 * tau1 sets the contraction (rise), tau2 the relaxation (fall); the larger the Hill exponent,
 * the steeper that phase. The subtracted constant makes e(T) = 0 = e(0) exactly, so the
 * activation has no jump at the cycle boundary (the trick of seongwoohan/HeartModel,
 * elastance.m); k = 1 / max so that max e = 1, reached at t_peak
 * after the onset. ht_activation_init computes k and t_peak once, on the host or the device.
 *
 * Chamber pressure (the linear-active / exponential-passive blend of Ursino 1998, with the
 * passive curve written about V0 where Ursino writes exp(kE V), plus an optional linear passive
 * elastance):
 *
 *   p = e Ees (V - V0) + (1 - e) [ Emin (V - V0) + P0 (exp(lambda (V - V0)) - 1) ]
 *
 * With Emin = 0 this is exactly that blend; with P0 = 0 it is the linear
 * Emin + (Emax - Emin) e(t) model of Suga-Sagawa / Mynard (used here for the atria, whose
 * published parameters are linear). At e = 1 (t = t_peak) p = Ees (V - V0): the end-systolic
 * pressure-volume relation. dp/dV > 0 for every e in [0, 1] and every V, which the implicit
 * 0D solver (circulation.h) relies on.
 *
 * Units: SI throughout (Pa, m^3, s). */
#ifndef HT_ELASTANCE_H
#define HT_ELASTANCE_H
#include "ht_common.h"

typedef struct {
    real T;       /* s, cardiac cycle length (60 / heart rate) */
    real onset;   /* s, start of activation within the cycle (ventricles 0; atria earlier) */
    real tau1;    /* s, contraction time constant */
    real tau2;    /* s, relaxation time constant */
    real m1, m2;  /* Hill exponents of contraction and relaxation */
    real k;       /* normalisation 1 / max(shape): set by ht_activation_init */
    real t_peak;  /* s after onset where e = 1: set by ht_activation_init */
} ht_activation;

typedef struct {
    real Ees;     /* Pa/m^3, end-systolic (maximal active) elastance */
    real V0;      /* m^3, volume intercept of the ESPVR (and origin of the passive curve) */
    real Emin;    /* Pa/m^3, linear passive elastance (0 for a purely exponential EDPVR) */
    real P0;      /* Pa, scale of the exponential EDPVR */
    real lambda;  /* 1/m^3, stiffness exponent of the EDPVR */
    ht_activation act;
} ht_chamber;

/* Time within the activation cycle, in [0, T). */
HT_HD real ht_activation_local_time(const ht_activation *a, real t)
{
    real tl = fmod(t - a->onset, a->T);
    if (tl < 0) tl += a->T;
    if (tl >= a->T) tl = 0; /* fmod round-off at an exact multiple */
    return tl;
}

/* The un-normalised double-Hill shape at local time tl in [0, T]. */
HT_HD real ht_activation_shape(const ht_activation *a, real tl)
{
    if (tl <= 0) return 0;
    real g1 = pow(tl / a->tau1, a->m1);
    real g2 = pow(tl / a->tau2, a->m2);
    real gT = pow(a->T / a->tau2, a->m2);
    return g1 / (1 + g1) * (1 / (1 + g2) - 1 / (1 + gT));
}

/* Finds the maximum of the shape on (0, T): a scan on 2000 points brackets it (the shape is
 * unimodal: rising Hill times falling Hill), golden-section search refines it to 1e-13 T.
 * Sets k = 1 / max and t_peak. Call after setting T, tau1, tau2, m1, m2. */
HT_HD void ht_activation_init(ht_activation *a)
{
    const int n = 2000;
    real h = a->T / n, best = -1;
    int ib = 1;
    for (int i = 1; i < n; ++i) {
        real s = ht_activation_shape(a, i * h);
        if (s > best) {
            best = s;
            ib = i;
        }
    }
    real lo = (ib - 1) * h, hi = (ib + 1) * h;
    const real gr = 0.61803398874989484820;
    real x1 = hi - gr * (hi - lo), x2 = lo + gr * (hi - lo);
    real f1 = ht_activation_shape(a, x1), f2 = ht_activation_shape(a, x2);
    for (int it = 0; it < 200 && hi - lo > 1e-13 * a->T; ++it) {
        if (f1 < f2) {
            lo = x1;
            x1 = x2;
            f1 = f2;
            x2 = lo + gr * (hi - lo);
            f2 = ht_activation_shape(a, x2);
        } else {
            hi = x2;
            x2 = x1;
            f2 = f1;
            x1 = hi - gr * (hi - lo);
            f1 = ht_activation_shape(a, x1);
        }
    }
    real tp = 0.5 * (lo + hi);
    real smax = ht_activation_shape(a, tp);
    if (best > smax) { /* cannot happen for a unimodal shape; keep e <= 1 regardless */
        smax = best;
        tp = ib * h;
    }
    a->t_peak = tp;
    a->k = 1 / smax;
}

/* Mynard's parameterisation: time constants as fractions of the cycle length T
 * (ventricles: tau1 = 0.269 T, tau2 = 0.452 T, m1 = 1.32, m2 = 27.4; atria: 0.11 T, 0.18 T,
 * 1.32, 13.1; Mynard & Smolich 2015 as implemented in briandaniel/CardiovascularLibrary,
 * MynardLumpSystem_parameters.cpp). onset_frac: onset as a fraction of T. */
HT_HD void ht_activation_set(ht_activation *a, real T, real onset_frac, real tau1_frac,
                             real tau2_frac, real m1, real m2)
{
    a->T = T;
    a->onset = onset_frac * T;
    a->tau1 = tau1_frac * T;
    a->tau2 = tau2_frac * T;
    a->m1 = m1;
    a->m2 = m2;
    ht_activation_init(a);
}

/* e(t) in [0, 1]. */
HT_HD real ht_activation_eval(const ht_activation *a, real t)
{
    real e = a->k * ht_activation_shape(a, ht_activation_local_time(a, t));
    return ht_min(ht_max(e, 0), 1);
}

HT_HD real ht_chamber_passive(const ht_chamber *c, real V)
{
    real x = V - c->V0;
    return c->Emin * x + c->P0 * (exp(c->lambda * x) - 1);
}

/* Pressure (Pa) at activation e and volume V (m^3). */
HT_HD real ht_chamber_pressure(const ht_chamber *c, real e, real V)
{
    return e * c->Ees * (V - c->V0) + (1 - e) * ht_chamber_passive(c, V);
}

/* dp/dV (Pa/m^3) at activation e and volume V; always > 0 when Ees > 0 and Emin or P0
 * lambda > 0. */
HT_HD real ht_chamber_dpdv(const ht_chamber *c, real e, real V)
{
    real x = V - c->V0;
    return e * c->Ees + (1 - e) * (c->Emin + c->P0 * c->lambda * exp(c->lambda * x));
}

/* Both at time t. */
HT_HD void ht_chamber_eval(const ht_chamber *c, real t, real V, real *p, real *dpdV)
{
    real e = ht_activation_eval(&c->act, t);
    *p = ht_chamber_pressure(c, e, V);
    *dpdV = ht_chamber_dpdv(c, e, V);
}

#endif
