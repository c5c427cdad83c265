/* n-way junction (n = 2 conjunction, 3 bifurcation, more allowed up to HT_JUNCTION_MAX).
 *
 * Unknowns: the areas A_k at the n vessel ends meeting at the junction. The characteristic
 * that leaves each vessel towards the junction fixes u_k(A_k):
 *     u_k = W_k - 4 s_k c(A_k),   W_k = u + 4 s_k c from the vessel's face state,
 * with s_k = +1 where the vessel ends at the junction and -1 where it starts there. Then
 *     sum_k s_k A_k u_k = 0                                   (mass)
 *     p_k + rho u_k^2 / 2 = p_1 + rho u_1^2 / 2,   k = 2..n   (total pressure)
 * is n equations in n unknowns, solved by Newton with the analytic Jacobian until the
 * largest relative update is below junction_tol; failure to converge is reported, never
 * ignored. The tracer leaving the junction is the flow-weighted mix of the inflows. */
#ifndef HT_JUNCTION_H
#define HT_JUNCTION_H
#include "net.h"
#include "tubelaw.h"
#include "flux.h"
#include "boundary.h"

/* Gaussian elimination with partial pivoting on an m x m system (m <= HT_JUNCTION_MAX);
 * J is destroyed, the solution overwrites b. Returns 0, or 1 if singular. */
HT_HD int ht_dense_solve(int m, real J[HT_JUNCTION_MAX][HT_JUNCTION_MAX], real *b)
{
    for (int col = 0; col < m; ++col) {
        int piv = col;
        for (int r = col + 1; r < m; ++r)
            if (fabs(J[r][col]) > fabs(J[piv][col])) piv = r;
        if (J[piv][col] == 0) return 1;
        if (piv != col) {
            for (int c = 0; c < m; ++c) {
                real tmp = J[col][c];
                J[col][c] = J[piv][c];
                J[piv][c] = tmp;
            }
            real tb = b[col];
            b[col] = b[piv];
            b[piv] = tb;
        }
        for (int r = col + 1; r < m; ++r) {
            real f = J[r][col] / J[col][col];
            for (int c = col; c < m; ++c) J[r][c] -= f * J[col][c];
            b[r] -= f * b[col];
        }
    }
    for (int r = m - 1; r >= 0; --r) {
        real s = b[r];
        for (int c = r + 1; c < m; ++c) s -= J[r][c] * b[c];
        b[r] = s / J[r][r];
    }
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
        real J[HT_JUNCTION_MAX][HT_JUNCTION_MAX];
        real F[HT_JUNCTION_MAX];
        real u[HT_JUNCTION_MAX], c[HT_JUNCTION_MAX], H[HT_JUNCTION_MAX], dH[HT_JUNCTION_MAX];
        for (int k = 0; k < m; ++k) {
            c[k] = ht_wave_speed(A[k], K[k], rho);
            u[k] = W[k] - 4 * s[k] * c[k];
            real sA = sqrt(A[k]);
            H[k] = p0[k] + K[k] * (sA - s0[k]) + 0.5 * rho * u[k] * u[k];
            /* du/dA = -s c / A */
            dH[k] = K[k] / (2 * sA) - rho * u[k] * s[k] * c[k] / A[k];
        }
        for (int r = 0; r < m; ++r)
            for (int k = 0; k < m; ++k) J[r][k] = 0;
        F[0] = 0;
        for (int k = 0; k < m; ++k) {
            F[0] += s[k] * A[k] * u[k];
            J[0][k] = s[k] * u[k] - c[k];   /* d(s A u)/dA = s (u - s c) */
        }
        for (int k = 1; k < m; ++k) {
            F[k] = H[k] - H[0];
            J[k][0] = -dH[0];
            J[k][k] = dH[k];
        }
        for (int k = 0; k < m; ++k) F[k] = -F[k];
        if (ht_dense_solve(m, J, F)) return -1;
        real worst = 0;
        for (int k = 0; k < m; ++k) {
            real dA = F[k];
            if (A[k] + dA < 0.5 * A[k]) dA = -0.5 * A[k];
            A[k] += dA;
            worst = ht_max(worst, fabs(dA) / A[k]);
        }
        if (worst <= tol) {
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
