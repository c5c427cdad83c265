/* Viscoelastic (Kelvin-Voigt) wall: the viscous part of the tube law,
 *
 *   p = p0 + K (sqrt(A) - sqrt(A0)) + g dA/dt,   g = Gamma / (A0 sqrt(A)),
 *   Gamma = (2/3) sqrt(pi) phi h          (phi the wall viscosity, Pa s; h the thickness),
 *
 * treated by operator splitting (Montecinos, Mueller & Toro 2014; the same Kelvin-Voigt
 * law as Alastruey et al. 2011): after each full SSP-RK2 step of the elastic system, with A
 * frozen at its end-of-step value and dA/dt = -dQ/dx, the momentum equation keeps only
 *
 *   dQ/dt = -(A/rho) d/dx (g dA/dt) = (A/rho) d/dx (g dQ/dx),
 *
 * a diffusion of Q. It is stiff (rate ~ g A / (rho dx^2), which grows as 1/dx^2 while the
 * CFL step shrinks only as dx), so it is solved backward-Euler in time, central in space on
 * the cells of one vessel: one tridiagonal system per vessel, diagonally dominant, solved
 * by the Thomas algorithm without pivoting. The face coefficient is the mean of the two
 * cells' g. At both vessel ends the viscous flux g dQ/dx is zero (Neumann): the viscous
 * term is not coupled across junctions, inlets or outlets (those see the elastic tube law
 * only). The error this makes is confined to the end cells: in the damping of a standing
 * wave it is O(dx / L) (tests/test_viscoelastic.c).
 *
 * Both backends call ht_visco_vessel: the CPU loop (OpenMP over vessels) and the CUDA
 * kernel (one thread per vessel), so the arithmetic and its order are the same. */
#ifndef HT_VISCOELASTIC_H
#define HT_VISCOELASTIC_H
#include "net.h"

/* Gamma (Pa s m) of a wall of viscosity phi (Pa s) and thickness h (m). */
HT_HD real ht_visco_gamma(real phi, real h)
{
    return (2.0 / 3.0) * sqrt(HT_PI) * phi * h;
}

/* g = Gamma / (A0 sqrt(A)) of cell i (Pa s / m^3): the coefficient of dA/dt in p. */
HT_HD real ht_visco_coeff(const ht_net *n, const real *A, int i)
{
    real s0 = n->sqrtA0[i];
    return n->Gamma[i] / (s0 * s0 * sqrt(A[i]));
}

/* Row j of the backward-Euler system of vessel v (m cells, first cell i0):
 *   lo Q[j-1] + di Q[j] + up Q[j+1] = Q_old[j],
 * lo = -r gl, up = -r gr, di = 1 + r (gl + gr), r = dt A_j / (rho dx^2), gl and gr the
 * face coefficients (0 at the vessel ends: Neumann). Exposed so that the test can build
 * the same matrix independently of the solve. */
HT_HD void ht_visco_row(const ht_net *n, const real *A, int v, int j, real dt, real *lo, real *di,
                        real *up)
{
    int i0 = n->vessel_first[v], m = n->vessel_n[v], i = i0 + j;
    real dx = n->vessel_dx[v];
    real r = dt * A[i] / (n->rho * dx * dx);
    real gi = ht_visco_coeff(n, A, i);
    real gl = j > 0 ? 0.5 * (ht_visco_coeff(n, A, i - 1) + gi) : 0;
    real gr = j < m - 1 ? 0.5 * (gi + ht_visco_coeff(n, A, i + 1)) : 0;
    *lo = -r * gl;
    *up = -r * gr;
    *di = 1 + r * (gl + gr);
}

/* One backward-Euler step of length dt of the viscous wall term in vessel v: U->Q of its
 * cells is replaced by the solution of the tridiagonal system whose right-hand side is the
 * current Q; U->A is only read. cp is scratch of the vessel's size (the Thomas sweep's
 * modified upper diagonal), indexed like the cells. Forward sweep: cp_j = up_j / den_j,
 * Q_j <- (Q_j - lo_j Q_{j-1}) / den_j, den_j = di_j - lo_j cp_{j-1}; back substitution:
 * Q_j <- Q_j - cp_j Q_{j+1}. No pivoting is needed: di > |lo| + |up| (strict diagonal
 * dominance), so den_j >= 1. */
HT_HD void ht_visco_vessel(const ht_net *n, ht_state *U, real *cp, int v, real dt)
{
    int i0 = n->vessel_first[v], m = n->vessel_n[v];
    real *Q = U->Q;
    const real *A = U->A;
    real lo, di, up;
    ht_visco_row(n, A, v, 0, dt, &lo, &di, &up);
    cp[i0] = up / di;
    Q[i0] = Q[i0] / di;
    for (int j = 1; j < m; ++j) {
        int i = i0 + j;
        ht_visco_row(n, A, v, j, dt, &lo, &di, &up);
        real den = di - lo * cp[i - 1];
        cp[i] = up / den;
        Q[i] = (Q[i] - lo * Q[i - 1]) / den;
    }
    for (int j = m - 2; j >= 0; --j) {
        int i = i0 + j;
        Q[i] = Q[i] - cp[i] * Q[i + 1];
    }
}

#endif
