/* The interface flux: hydrostatic reconstruction (Audusse et al. 2004, adapted to blood
 * flow by Delestre & Lagree 2013) around an HLL approximate Riemann solver.
 *
 * Why the reconstruction: K and A0 jump between cells of a tapered vessel. A plain flux
 * difference then pushes a fluid at rest. Both face states are re-expressed with common
 * parameters (K*, A0*) at their own pressure; at rest the two pressures are equal, so the
 * two reconstructed states are identical and the correction terms below cancel the flux
 * difference exactly: the scheme keeps rest to round-off. Away from rest the correction
 * is the consistent discretisation of the taper source term (A/rho) dp/dK dK/dx + ....
 *
 * Conserved variables U = (A, Q); flux F = (Q, alpha Q^2/A + Pi(A, K)). */
#ifndef HT_FLUX_H
#define HT_FLUX_H
#include "tubelaw.h"

typedef struct {
    real A, Q;         /* a face state */
} ht_uq;

typedef struct {
    real fa;           /* mass flux */
    real fq_left;      /* momentum flux seen by the cell left of the face */
    real fq_right;     /* momentum flux seen by the cell right of the face */
} ht_face_flux;

/* Physical flux F = (Q, alpha Q^2/A + Pi), with the pressure flux Pi given. */
HT_HD void ht_phys_flux_s(real A, real Q, real Pi, real alpha, real *fa, real *fq)
{
    *fa = Q;
    *fq = alpha * Q * Q / A + Pi;
}

HT_HD void ht_phys_flux(real A, real Q, real K, real rho, real alpha, real *fa, real *fq)
{
    ht_phys_flux_s(A, Q, ht_pressure_flux(A, K, rho), alpha, fa, fq);
}

/* HLL flux between two states that share the tube-law parameter K, given each state's
 * sqrt(A) and pressure flux Pi (the caller has them; see ht_flux_hr). */
HT_HD void ht_hll_s(ht_uq L, real sAL, real PiL, ht_uq R, real sAR, real PiR, real K, real rho,
                    real alpha, real *fa, real *fq)
{
    real lmL, lpL, lmR, lpR;
    ht_eigen_s(L.A, sAL, L.Q, K, rho, alpha, &lmL, &lpL);
    ht_eigen_s(R.A, sAR, R.Q, K, rho, alpha, &lmR, &lpR);
    real sL = ht_min(lmL, lmR);
    real sR = ht_max(lpL, lpR);
    real faL, fqL, faR, fqR;
    ht_phys_flux_s(L.A, L.Q, PiL, alpha, &faL, &fqL);
    ht_phys_flux_s(R.A, R.Q, PiR, alpha, &faR, &fqR);
    if (sL >= 0) {
        *fa = faL;
        *fq = fqL;
    } else if (sR <= 0) {
        *fa = faR;
        *fq = fqR;
    } else {
        real inv = 1 / (sR - sL);
        *fa = (sR * faL - sL * faR + sL * sR * (R.A - L.A)) * inv;
        *fq = (sR * fqL - sL * fqR + sL * sR * (R.Q - L.Q)) * inv;
    }
}

/* HLL flux between two states that share the tube-law parameter K. */
HT_HD void ht_hll(ht_uq L, ht_uq R, real K, real rho, real alpha, real *fa, real *fq)
{
    real sAL = sqrt(L.A), sAR = sqrt(R.A);
    ht_hll_s(L, sAL, ht_pressure_flux_s(L.A, sAL, K, rho), R, sAR, ht_pressure_flux_s(R.A, sAR, K, rho),
             K, rho, alpha, fa, fq);
}

/* Well-balanced flux at an interior face. L, R: reconstructed face states of the left and
 * right cells, each with its own (sqrtA0, K); p0 is shared (one vessel).
 * Square roots: 4 (6 with alpha != 1) instead of the 14 of the plain composition. The
 * reconstructed states have A = s^2 with s known, and sqrt(s * s) == s exactly in IEEE
 * arithmetic (s > 0, no overflow), so passing s on changes no bit of the result. */
HT_HD ht_face_flux ht_flux_hr(ht_uq L, real s0L, real KL, ht_uq R, real s0R, real KR, real p0,
                              real rho, real alpha)
{
    real sAL = sqrt(L.A), sAR = sqrt(R.A);
    real pL = ht_pressure_s(sAL, s0L, KL, p0);
    real pR = ht_pressure_s(sAR, s0R, KR, p0);
    real Ks = ht_max(KL, KR);
    real s0s = ht_max(s0L, s0R);
    /* A tiny floor instead of 0 keeps u = Q/A finite when a face would collapse. */
    real sL = ht_max(ht_sqrtA_from_p(pL, s0s, Ks, p0), 1e-12 * s0s);
    real sR = ht_max(ht_sqrtA_from_p(pR, s0s, Ks, p0), 1e-12 * s0s);
    ht_uq Ls, Rs;
    Ls.A = sL * sL;
    Ls.Q = Ls.A * (L.Q / L.A);
    Rs.A = sR * sR;
    Rs.Q = Rs.A * (R.Q / R.A);
    real PiLs = ht_pressure_flux_s(Ls.A, sL, Ks, rho);
    real PiRs = ht_pressure_flux_s(Rs.A, sR, Ks, rho);
    real fa, fq;
    ht_hll_s(Ls, sL, PiLs, Rs, sR, PiRs, Ks, rho, alpha, &fa, &fq);
    ht_face_flux f;
    f.fa = fa;
    f.fq_left = fq + ht_pressure_flux_s(L.A, sAL, KL, rho) - PiLs;
    f.fq_right = fq + ht_pressure_flux_s(R.A, sAR, KR, rho) - PiRs;
    return f;
}

/* Upwind tracer flux, consistent with the mass flux: keeps c inside the range of its
 * neighbours under the CFL condition, so c stays in [0, 1]. */
HT_HD real ht_tracer_flux(real fa, real cL, real cR)
{
    return fa >= 0 ? fa * cL : fa * cR;
}

#endif
