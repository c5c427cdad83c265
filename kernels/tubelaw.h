/* Elastic tube law and the quantities derived from it.
 *   p = p0 + K (sqrt(A) - sqrt(A0)),   K = beta / A0,   beta = (4/3) sqrt(pi) E h
 * p0 is the reference pressure at which A = A0 (openBF calls it Pext). K and A0 vary
 * along x (tapering); they are constant inside one cell, which is what the hydrostatic
 * reconstruction in flux.h relies on. */
#ifndef HT_TUBELAW_H
#define HT_TUBELAW_H
#include "ht_common.h"

/* The _s forms take sA = sqrt(A) where the caller already has it: the flux needs each square
 * root several times, and sqrt dominates its cost. Same operations in the same order, so the
 * results are bitwise those of the plain forms.
 * The _r forms take a reciprocal (1/K, 1/(2 rho), 1/(3 rho): net.h) and multiply; the
 * per-cell and per-face work of step.h and flux.h uses them, since a division costs several
 * multiplications. The boundary, junction and heart solves keep the dividing forms: they run
 * a few times per step, and their results stay bitwise those of earlier releases. */
HT_HD real ht_pressure_s(real sA, real sqrtA0, real K, real p0)
{
    return p0 + K * (sA - sqrtA0);
}

HT_HD real ht_pressure(real A, real sqrtA0, real K, real p0)
{
    return ht_pressure_s(sqrt(A), sqrtA0, K, p0);
}

/* Inverse tube law; returns sqrt(A), which is <= 0 when p is below the collapse pressure.
 * The _r form takes invK = 1 / K (net.h), as the per-cell and per-face work does. */
HT_HD real ht_sqrtA_from_p_r(real p, real sqrtA0, real invK, real p0)
{
    return sqrtA0 + (p - p0) * invK;
}

HT_HD real ht_sqrtA_from_p(real p, real sqrtA0, real K, real p0)
{
    return sqrtA0 + (p - p0) / K;
}

/* c^2 = (A / rho) dp/dA = K sqrt(A) / (2 rho). The _r form takes inv2rho = 1 / (2 rho)
 * (net.h), so that the per-face work multiplies instead of dividing. */
HT_HD real ht_wave_speed_r(real sA, real K, real inv2rho)
{
    return sqrt(K * sA * inv2rho);
}

HT_HD real ht_wave_speed_s(real sA, real K, real rho)
{
    return sqrt(K * sA / (2 * rho));
}

HT_HD real ht_wave_speed(real A, real K, real rho)
{
    return ht_wave_speed_s(sqrt(A), K, rho);
}

/* Pressure part of the momentum flux, Pi = int (A/rho) dp/dA dA = K A^(3/2) / (3 rho).
 * With K constant, d(Pi)/dx = (A/rho) dp/dx, so the momentum equation is conservative
 * inside a cell. */
HT_HD real ht_pressure_flux_r(real A, real sA, real K, real inv3rho)
{
    return K * A * sA * inv3rho;
}

HT_HD real ht_pressure_flux_s(real A, real sA, real K, real rho)
{
    return K * A * sA / (3 * rho);
}

HT_HD real ht_pressure_flux(real A, real K, real rho)
{
    return ht_pressure_flux_s(A, sqrt(A), K, rho);
}

/* Characteristic speeds of (A, Q) with momentum coefficient alpha, from u = Q / A and c:
 *   lambda = alpha u +- sqrt(c^2 + alpha (alpha - 1) u^2) */
HT_HD void ht_eigen_uc(real u, real c, real alpha, real *lm, real *lp)
{
    /* alpha = 1 (flat profile): the root is sqrt(c * c) = c exactly in IEEE arithmetic, so
     * skipping it changes no bit */
    real s = alpha == 1 ? c : sqrt(c * c + alpha * (alpha - 1) * u * u);
    *lm = alpha * u - s;
    *lp = alpha * u + s;
}

HT_HD void ht_eigen_s(real A, real sA, real Q, real K, real rho, real alpha, real *lm, real *lp)
{
    ht_eigen_uc(Q / A, ht_wave_speed_s(sA, K, rho), alpha, lm, lp);
}

HT_HD void ht_eigen(real A, real Q, real K, real rho, real alpha, real *lm, real *lp)
{
    ht_eigen_s(A, sqrt(A), Q, K, rho, alpha, lm, lp);
}

/* Riemann invariants for constant K, A0 (alpha = 1): W = u +- 4 c. The forward one leaves
 * a vessel at its end (x = L), the backward one at its start (x = 0). The boundary and
 * junction solvers use these with alpha != 1 as well, as is usual in 1D arterial codes. */
HT_HD real ht_w_forward(real u, real c) { return u + 4 * c; }
HT_HD real ht_w_backward(real u, real c) { return u - 4 * c; }

/* A from the wave speed c: c^2 = K sqrt(A) / (2 rho) */
HT_HD real ht_area_from_c(real c, real K, real rho)
{
    real s = 2 * rho * c * c / K;
    return s * s;
}

/* Empirical wall thickness (m) from the reference radius (m), the fit openBF uses when a
 * network gives no thickness: h = r (0.2802 e^{-505.3 r} + 0.1324 e^{-11.14 r}). */
HT_HD real ht_empirical_thickness(real r)
{
    return r * (0.2802 * exp(-505.3 * r) + 0.1324 * exp(-11.14 * r));
}

/* K = beta / A0 with beta = (4/3) sqrt(pi) E h */
HT_HD real ht_stiffness(real E, real h, real A0)
{
    return (4.0 / 3.0) * sqrt(HT_PI) * E * h / A0;
}

#endif
