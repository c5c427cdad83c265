/* Coronary outlet: the lumped coronary-bed model of Mantero, Pietrabissa & Fumero 1992
 * (J Biomed Eng 14:109) in the form used by Kim et al. 2010 (Ann Biomed Eng 38:3195,
 * "Patient-specific modeling of blood flow and pressure in human coronary arteries"):
 *
 *   face --Ra--+--Ram--+--Rv-- p_out
 *              |       |
 *              Ca      Cim
 *              |       |
 *             (0)    P_im(t)   intramyocardial pressure, e.g. scale * P_LV(t)
 *
 * States: p1, the pressure of the arterial compliance Ca, and p2, the pressure on the vessel
 * side of the intramyocardial compliance Cim (whose outer plate is at P_im(t)):
 *     Ca  dp1/dt            = Q - (p1 - p2) / Ram
 *     Cim d(p2 - P_im)/dt   = (p1 - p2) / Ram - (p2 - p_out) / Rv
 * Myocardial contraction raises P_im in systole, squeezes the intramyocardial compartment
 * and impedes (or reverses) inflow: coronary flow is mainly diastolic.
 *
 * Coupling (as the windkessel of boundary.h): over a stage the inflow Q through Ra is held
 * and the two compartments advance by backward Euler over dt, a 2x2 linear system whose
 * solution is affine in Q:  p1' = a1 + b1 Q,  p2' = a2 + b2 Q.  The face then satisfies
 * p(A) = a1 + (Ra + b1) Q: the windkessel's scalar Newton in A with pfix = a1 and
 * Reff = Ra + b1. Backward Euler is L-stable, so stiff compliances (C/dt -> 0) are safe;
 * in steady state (constant Q, constant P_im) it is exact: p_face = p_out + (Ra+Ram+Rv) Q.
 * Requires Ram > 0 and Rv > 0 (the loader checks); Ca or Cim may be zero. */
#ifndef HT_CORONARY_H
#define HT_CORONARY_H
#include "net.h"

/* The affine map Q -> (p1', p2') of one backward-Euler step of length dt from (p1, p2),
 * with dpim = P_im(t + dt) - P_im(t) and venous pressure p_out (o->p_out, or the systemic
 * venous pressure of the 0D heart in closed-loop mode). Coronary parameters of o: Ca, Ram,
 * Cim, Rv. */
HT_HD void ht_coronary_affine(const ht_outlet *o, real p1, real p2, real dpim, real p_out, real dt,
                              real *a1, real *b1, real *a2, real *b2)
{
    real g1 = o->Ca / dt, g2 = o->Cim / dt;
    real G = 1 / o->Ram, Gv = 1 / o->Rv;
    /* [g1 + G, -G; -G, g2 + G + Gv] (p1', p2') = (g1 p1 + Q, g2 (p2 + dpim) + Gv p_out) */
    real d11 = g1 + G, d22 = g2 + G + Gv;
    real D = d11 * d22 - G * G;
    real r1 = g1 * p1, r2 = g2 * (p2 + dpim) + Gv * p_out;
    *a1 = (d22 * r1 + G * r2) / D;
    *b1 = d22 / D;
    *a2 = (d11 * r2 + G * r1) / D;
    *b2 = G / D;
}

/* The intramyocardial pressure at time t (Pa). */
HT_HD real ht_coronary_pim(const ht_outlet *o, real t)
{
    return ht_wave_eval(&o->pim, t);
}

#endif
