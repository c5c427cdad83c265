/* Slope limiters for the MUSCL reconstruction. dm = u_i - u_{i-1}, dp = u_{i+1} - u_i; the
 * result is the limited slope times the cell width (so faces are u_i -+ slope / 2).
 * minmod is the most dissipative; superbee is compressive and keeps a tracer front (the
 * watershed) sharp; MC (monotonised central) sits between. Every TVD limiter clips smooth
 * extrema (the slope is zeroed where the differences change sign), which is first-order
 * there: a narrow pulse loses amplitude as it travels (see docs/validation.md, single
 * pulse). `none` is the unlimited central (Fromm) slope: second order everywhere, for the
 * smooth, subsonic waves of physiology, without the guarantee against oscillations. */
#ifndef HT_LIMITER_H
#define HT_LIMITER_H
#include "ht_common.h"

enum { HT_LIM_MINMOD = 0, HT_LIM_MC = 1, HT_LIM_SUPERBEE = 2, HT_LIM_NONE = 3 };

HT_HD real ht_minmod(real a, real b)
{
    if (a * b <= 0) return 0;
    return fabs(a) < fabs(b) ? a : b;
}

HT_HD real ht_limit(int kind, real dm, real dp)
{
    switch (kind) {
    case HT_LIM_NONE:
        return 0.5 * (dm + dp);
    case HT_LIM_MC: {
        if (dm * dp <= 0) return 0;
        real s = dm > 0 ? 1 : -1;
        real m = ht_min(ht_min(2 * fabs(dm), 2 * fabs(dp)), 0.5 * fabs(dm + dp));
        return s * m;
    }
    case HT_LIM_SUPERBEE: {
        if (dm * dp <= 0) return 0;
        real s = dm > 0 ? 1 : -1;
        real a = ht_min(2 * fabs(dm), fabs(dp));
        real b = ht_min(fabs(dm), 2 * fabs(dp));
        return s * ht_max(a, b);
    }
    default:
        return ht_minmod(dm, dp);
    }
}

#endif
