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

/* The blood constants of a flux, with the reciprocals it multiplies by (net.h). */
typedef struct {
    real alpha, inv2rho, inv3rho;
} ht_blood;

HT_HD ht_blood ht_blood_of(real rho, real alpha)
{
    ht_blood b;
    b.alpha = alpha;
    b.inv2rho = 1 / (2 * rho);
    b.inv3rho = 1 / (3 * rho);
    return b;
}

/* One side of a face as the HLL solver takes it: the state with sqrt(A), u = Q / A and the
 * pressure flux Pi, each needed several times and computed once. */
typedef struct {
    real A, Q, sA, u, Pi;
} ht_side;

HT_HD_INLINE ht_side ht_side_of(real A, real Q, real sA, real u, real K, real inv3rho)
{
    ht_side s;
    s.A = A;
    s.Q = Q;
    s.sA = sA;
    s.u = u;
    s.Pi = ht_pressure_flux_r(A, sA, K, inv3rho);
    return s;
}

/* Physical flux F = (Q, alpha Q u + Pi). */
HT_HD_INLINE void ht_phys_flux_s(const ht_side *s, real alpha, real *fa, real *fq)
{
    *fa = s->Q;
    *fq = alpha * s->Q * s->u + s->Pi;
}

/* The same from (A, Q) alone, for the boundaries (their arithmetic as it always was). */
HT_HD void ht_phys_flux(real A, real Q, real K, real rho, real alpha, real *fa, real *fq)
{
    *fa = Q;
    *fq = alpha * Q * Q / A + ht_pressure_flux(A, K, rho);
}

/* HLL flux between two sides that share the tube-law parameter K. */
HT_HD_INLINE void ht_hll_s(const ht_side *L, const ht_side *R, real K, ht_blood b, real *fa, real *fq)
{
    real lmL, lpL, lmR, lpR;
    ht_eigen_uc(L->u, ht_wave_speed_r(L->sA, K, b.inv2rho), b.alpha, &lmL, &lpL);
    ht_eigen_uc(R->u, ht_wave_speed_r(R->sA, K, b.inv2rho), b.alpha, &lmR, &lpR);
    real sL = ht_min(lmL, lmR);
    real sR = ht_max(lpL, lpR);
    real faL, fqL, faR, fqR;
    ht_phys_flux_s(L, b.alpha, &faL, &fqL);
    ht_phys_flux_s(R, b.alpha, &faR, &fqR);
    /* All three candidates, then a selection: the same values the branches would give, but
     * a loop of faces without branches vectorises (kernels/cpu) and a warp does not diverge.
     * sR - sL >= 2c > 0, so the division is always defined. */
    real inv = 1 / (sR - sL);
    real ha = (sR * faL - sL * faR + sL * sR * (R->A - L->A)) * inv;
    real hq = (sR * fqL - sL * fqR + sL * sR * (R->Q - L->Q)) * inv;
    *fa = sL >= 0 ? faL : sR <= 0 ? faR : ha;
    *fq = sL >= 0 ? fqL : sR <= 0 ? fqR : hq;
}

/* HLL flux between two states that share the tube-law parameter K. */
HT_HD void ht_hll(ht_uq L, ht_uq R, real K, real rho, real alpha, real *fa, real *fq)
{
    ht_blood b = ht_blood_of(rho, alpha);
    real sAL = sqrt(L.A), sAR = sqrt(R.A);
    ht_side l = ht_side_of(L.A, L.Q, sAL, L.Q / L.A, K, b.inv3rho);
    ht_side r = ht_side_of(R.A, R.Q, sAR, R.Q / R.A, K, b.inv3rho);
    ht_hll_s(&l, &r, K, b, fa, fq);
}

/* A reconstructed face value and the tube law of its cell: A with its square root (the
 * reconstruction has it: A = sA^2, see step.h), Q, and sqrt(A0), K and 1/K. */
typedef struct {
    real A, sA, Q;
    real s0, K, invK;
} ht_face_in;

/* Well-balanced flux at an interior face. L, R: the reconstructed face values of the left
 * and right cells, each with its own tube law; p0 is shared (one vessel).
 * Cost per face: 2 square roots (the wave speeds) and 5 divisions (the face velocities, the
 * re-expressed states' velocities, the HLL denominator); every other quotient is a product
 * with a reciprocal of net.h. */
HT_HD_INLINE ht_face_flux ht_flux_hr(ht_face_in L, ht_face_in R, real p0, ht_blood b)
{
    real pL = ht_pressure_s(L.sA, L.s0, L.K, p0);
    real pR = ht_pressure_s(R.sA, R.s0, R.K, p0);
    real Ks = ht_max(L.K, R.K);
    /* 1 / max(KL, KR) == min(1 / KL, 1 / KR) exactly: rounding is monotonic */
    real invKs = ht_min(L.invK, R.invK);
    real s0s = ht_max(L.s0, R.s0);
    /* A tiny floor instead of 0 keeps u = Q/A finite when a face would collapse. */
    real sL = ht_max(ht_sqrtA_from_p_r(pL, s0s, invKs, p0), 1e-12 * s0s);
    real sR = ht_max(ht_sqrtA_from_p_r(pR, s0s, invKs, p0), 1e-12 * s0s);
    real uL = L.Q / L.A, uR = R.Q / R.A;
    real ALs = sL * sL, ARs = sR * sR;
    real QLs = ALs * uL, QRs = ARs * uR;
    /* each re-expressed state's own velocity Q* / A* (equal to uL, uR up to rounding): with
     * uL, uR themselves a one-ulp input change grew further (tests/test_roundoff.c) */
    ht_side Ls = ht_side_of(ALs, QLs, sL, QLs / ALs, Ks, b.inv3rho);
    ht_side Rs = ht_side_of(ARs, QRs, sR, QRs / ARs, Ks, b.inv3rho);
    real fa, fq;
    ht_hll_s(&Ls, &Rs, Ks, b, &fa, &fq);
    ht_face_flux f;
    f.fa = fa;
    f.fq_left = fq + ht_pressure_flux_r(L.A, L.sA, L.K, b.inv3rho) - Ls.Pi;
    f.fq_right = fq + ht_pressure_flux_r(R.A, R.sA, R.K, b.inv3rho) - Rs.Pi;
    return f;
}

/* Upwind tracer flux, consistent with the mass flux: keeps c inside the range of its
 * neighbours under the CFL condition, so c stays in [0, 1]. */
HT_HD_INLINE real ht_tracer_flux(real fa, real cL, real cR)
{
    return fa >= 0 ? fa * cL : fa * cR;
}

#endif
