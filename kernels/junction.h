/* n-way junction (n = 2 conjunction, 3 bifurcation, more allowed up to HT_JUNCTION_MAX).
 *
 * Unknowns: the areas A_k at the n vessel ends meeting at the junction. The characteristic
 * that leaves each vessel towards the junction fixes u_k(A_k):
 *     u_k = W_k - 4 s_k c(A_k),   W_k = u + 4 s_k c from the vessel's face state,
 * with s_k = +1 where the vessel ends at the junction and -1 where it starts there. Then
 *     sum_k s_k A_k u_k = 0                                   (mass)
 *     p_k + rho u_k^2 / 2 = p_1 + rho u_1^2 / 2,   k = 2..n   (total pressure)
 * is n equations in n unknowns, solved by Newton with the analytic Jacobian (its arrow
 * shape solved in closed form, ht_junction_newton_step) until the largest relative update
 * is below junction_tol; failure to converge is reported, never ignored. The tracer leaving the junction is the flow-weighted mix of the inflows. */
#ifndef HT_JUNCTION_H
#define HT_JUNCTION_H
#include "net.h"
#include "tubelaw.h"
#include "flux.h"
#include "boundary.h"

/* The Newton system has an arrow shape: row 0 (mass) is full, row k >= 1 (total pressure
 * of end k against end 0) has entries only in columns 0 and k:
 *     sum_k a_k x_k = f_0,        -d_0 x_0 + d_k x_k = f_k   (k >= 1)
 * with a_k = d(s_k A_k u_k)/dA_k = s_k u_k - c_k and d_k = dH_k/dA_k. Eliminating x_k from
 * row 0 gives x_0 in closed form and then every x_k, with two divisions in a row (1/d_k, all
 * independent, then x_0) where Gaussian elimination with pivoting chained ~2m of them
 * through a matrix indexed at run time (local memory on a GPU). For subsonic ends
 * (|u| < c) a_k < 0 and d_k = (rho c / A)(c - s u) > 0, so every term of the pivot
 * a_0 + d_0 sum_k a_k / d_k is negative: no cancellation, no pivoting needed. Returns 0;
 * or 1, f left as it is, outside that range: a d_k (k >= 1) zero or not finite (an end at
 * exactly sonic speed: the system may still be solvable, but the model is not meant to
 * go there, and the junction then reports a failure) or a pivot zero or not finite. */
HT_HD int ht_junction_newton_step(int m, const real *a, const real *d, real *f)
{
    real rd[HT_JUNCTION_MAX];
    real num = f[0], den = a[0];
    for (int k = 1; k < m; ++k) {
        if (!(d[k] != 0 && isfinite(d[k]))) return 1;
        rd[k] = 1 / d[k];
        real g = a[k] * rd[k];
        num -= g * f[k];
        den += d[0] * g;
    }
    if (!(den != 0 && isfinite(den))) return 1;
    real x0 = num / den;
    for (int k = 1; k < m; ++k) f[k] = (f[k] + d[0] * x0) * rd[k];
    f[0] = x0;
    return 0;
}

/* The junction solve on plain arrays, so unit tests can call it without a network.
 * In: m ends, sign s[k], tube-law params (s0[k], K[k], p0[k]), face states (A[k], Q[k]).
 * Out: A[k], Q[k] overwritten with the junction states. Returns the Newton iterations used,
 * or -1 when it did not converge within maxit. */
HT_HD int ht_junction_solve(int m, const int *s, const real *s0, const real *K, const real *p0,
                            real *A, real *Q, real rho, real tol, int maxit)
{
    real W[HT_JUNCTION_MAX];
    for (int k = 0; k < m; ++k)
        W[k] = Q[k] / A[k] + 4 * s[k] * ht_wave_speed(A[k], K[k], rho);
    for (int it = 1; it <= maxit; ++it) {
        real F[HT_JUNCTION_MAX], a[HT_JUNCTION_MAX], d[HT_JUNCTION_MAX], H[HT_JUNCTION_MAX];
        F[0] = 0;
        for (int k = 0; k < m; ++k) {
            real sA = sqrt(A[k]);
            real c = ht_wave_speed_s(sA, K[k], rho);
            real u = W[k] - 4 * s[k] * c;
            H[k] = p0[k] + K[k] * (sA - s0[k]) + 0.5 * rho * u * u;
            /* du/dA = -s c / A */
            d[k] = K[k] / (2 * sA) - rho * u * s[k] * c / A[k];
            F[0] -= s[k] * A[k] * u;
            a[k] = s[k] * u - c; /* d(s A u)/dA = s (u - s c) */
        }
        for (int k = 1; k < m; ++k) F[k] = -(H[k] - H[0]);
        if (ht_junction_newton_step(m, a, d, F)) return -1;
        int done = 1;
        for (int k = 0; k < m; ++k) {
            real dA = F[k];
            if (A[k] + dA < 0.5 * A[k]) dA = -0.5 * A[k];
            A[k] += dA;
            /* |dA| / A <= tol without the division */
            done &= fabs(dA) <= tol * A[k];
        }
        if (done) {
            for (int k = 0; k < m; ++k)
                Q[k] = A[k] * (W[k] - 4 * s[k] * ht_wave_speed(A[k], K[k], rho));
            return it;
        }
    }
    return -1;
}

/* Junction j of the network: solve, then write the boundary fluxes of every end. */
HT_HD int ht_junction_apply(const ht_net *n, ht_work *w, int j)
{
    int e0 = n->junc_off[j], m = n->junc_off[j + 1] - e0;
    int s[HT_JUNCTION_MAX];
    real s0[HT_JUNCTION_MAX], K[HT_JUNCTION_MAX], p0[HT_JUNCTION_MAX];
    real A[HT_JUNCTION_MAX], Q[HT_JUNCTION_MAX], c[HT_JUNCTION_MAX];
    for (int k = 0; k < m; ++k) {
        int e = e0 + k, i = n->jend_cell[e];
        s[k] = n->jend_sign[e];
        s0[k] = n->sqrtA0[i];
        K[k] = n->K[i];
        p0[k] = n->vessel_p0[n->cell_vessel[i]];
        A[k] = s[k] > 0 ? w->fA_p[i] : w->fA_m[i];
        Q[k] = s[k] > 0 ? w->fQ_p[i] : w->fQ_m[i];
        c[k] = s[k] > 0 ? w->fc_p[i] : w->fc_m[i];
    }
    if (ht_junction_solve(m, s, s0, K, p0, A, Q, n->rho, n->junction_tol, n->junction_maxit) < 0)
        return HT_FAIL_JUNCTION;
    /* flow-weighted mix of what enters the junction */
    real qin = 0, qcin = 0;
    for (int k = 0; k < m; ++k) {
        real into = s[k] * Q[k];
        if (into > 0) {
            qin += into;
            qcin += into * c[k];
        }
    }
    real cmix = qin > 0 ? qcin / qin : 0;
    for (int k = 0; k < m; ++k) {
        real ck = s[k] * Q[k] > 0 ? c[k] : cmix;
        ht_set_boundary_flux(n, w, n->jend_face[e0 + k], A[k], Q[k], K[k], ck);
    }
    return 0;
}

#endif
