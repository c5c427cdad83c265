/* Heart valves (docs/heart.md).
 *
 * Mynard valve: Mynard JP, Davidson MR, Penny DJ, Smolich JJ, "A simple, versatile valve
 * model for use in lumped parameter and one-dimensional cardiovascular models", Int J Numer
 * Meth Biomed Eng 2012;28:626-641.
 *
 *   dp = p_up - p_down = B Q|Q| + L dQ/dt,   B = rho / (2 A_eff^2),   L = rho l_eff / A_eff
 *   A_eff = (A_max - A_min) zeta + A_min
 *   dzeta/dt = (1 - zeta) K_vo (dp - dp_open)    if dp > dp_open     (opening)
 *   dzeta/dt =      zeta  K_vc (dp - dp_close)   if dp < dp_close    (closing)
 *
 * zeta in [0, 1] is the opening state. A_min > 0 is a regurgitant leak; A_min = 0 is ideal
 * closure: zeta decays exponentially while the valve is shut (rate K_vc |dp|, ~1000/s for
 * the aortic valve in diastole) and is set to 0 below HT_VALVE_ZETA_MIN, so the shut valve's
 * flow falls from the closing backflow to exactly 0 within a few tens of ms (test_heart).
 *
 * Ideal diode with resistance: Q = max(0, dp / R), no inertia, no regurgitation (R > 0).
 *
 * Discretisation over a step dt (used by circulation.h and heart_root.h):
 *  - zeta: backward Euler of its linear ODE with dp frozen at the step start (Mynard's
 *    explicit driving pressure). The update is a convex combination, so zeta stays in
 *    [0, 1] for any dt:  opening  zeta' = (zeta + r) / (1 + r),  r = dt K_vo (dp - dp_open)
 *                        closing  zeta' = zeta / (1 + r),        r = dt K_vc (dp_close - dp)
 *  - Q: backward Euler of the momentum equation with A_eff(zeta'). Multiplying by A_eff^2
 *    keeps every coefficient finite as the valve shuts:
 *        w dp = a Q|Q| + b Q - c,   w = A_eff^2, a = rho/2, b = rho l_eff A_eff / dt,
 *                                   c = rho l_eff A_eff Q_prev / dt
 *    (a closed ideal valve has w = b = c = 0, hence Q = 0 exactly).
 *    A diode has w = 1, a = 0, b = R, c = 0 and one_way set (Q >= 0).
 *  - With the end-of-step pressure difference linearised in Q, dp = dp0 - G Q (G >= 0
 *    gathers the compliances of the two chambers, G = dt (E_up + E_down), and any resistance
 *    in series), the step is one quadratic with a unique root because both sides are
 *    monotone in Q; ht_valve_solve_affine evaluates it in a cancellation-free closed form.
 * Units: SI (Pa, m^3, m^2, s; K_vo, K_vc in 1/(Pa s): 1 cm^2/(dyn s) = 10 /(Pa s)). */
#ifndef HT_VALVE_H
#define HT_VALVE_H
#include "ht_common.h"

enum { HT_VALVE_MYNARD = 0, HT_VALVE_DIODE = 1 };

/* A closing valve's zeta decays like exp(-K_vc |dp| t): ~e^-600 over one diastole, which
 * would reach the subnormal range (slow on CPUs) within a long diastole. Below this value it
 * is set to 0 (A_eff = A_min exactly; with A_min = 0 that is the shut ideal valve, Q = 0). The
 * flow this drops is < 1e-20 A_max sqrt(2 dp / rho) ~ 1e-23 m^3/s. */
#define HT_VALVE_ZETA_MIN 1e-20

typedef struct {
    int kind;           /* HT_VALVE_MYNARD | HT_VALVE_DIODE */
    real A_max, A_min;  /* m^2, effective orifice area open / shut (Mynard) */
    real l_eff;         /* m, effective length (inertance L = rho l_eff / A_eff) */
    real K_vo, K_vc;    /* 1/(Pa s), opening and closing rate coefficients */
    real dp_open;       /* Pa, opening threshold (0 in the presets) */
    real dp_close;      /* Pa, closing threshold (0 in the presets) */
    real R;             /* Pa s/m^3, diode resistance (> 0) */
} ht_valve;

/* The valve over one step: w dp = a Q|Q| + b Q - c; one_way: Q >= 0 (diode). */
typedef struct {
    real w, a, b, c;
    int one_way;
} ht_valve_lin;

HT_HD real ht_valve_zeta_step(const ht_valve *v, real zeta, real dp, real dt)
{
    if (v->kind == HT_VALVE_DIODE) return zeta;
    if (dp > v->dp_open) {
        real r = dt * v->K_vo * (dp - v->dp_open);
        return (zeta + r) / (1 + r);
    }
    if (dp < v->dp_close) {
        real r = dt * v->K_vc * (v->dp_close - dp);
        real z = zeta / (1 + r);
        return z < HT_VALVE_ZETA_MIN ? 0 : z;
    }
    return zeta;
}

/* Effective orifice area (m^2) at opening state zeta. */
HT_HD real ht_valve_area(const ht_valve *v, real zeta)
{
    return (v->A_max - v->A_min) * zeta + v->A_min;
}

/* Bernoulli coefficient B (Pa s^2/m^6) and inertance L (Pa s^2/m^3) at zeta (Mynard);
 * infinite when A_eff = 0. For output and tests: the solvers use ht_valve_discretise. */
HT_HD void ht_valve_BL(const ht_valve *v, real zeta, real rho, real *B, real *L)
{
    real A = ht_valve_area(v, zeta);
    *B = rho / (2 * A * A);
    *L = rho * v->l_eff / A;
}

/* The step's coefficients at the (already updated) opening state zeta, previous flow Q0. */
HT_HD ht_valve_lin ht_valve_discretise(const ht_valve *v, real zeta, real Q0, real rho, real dt)
{
    ht_valve_lin L;
    if (v->kind == HT_VALVE_DIODE) {
        L.w = 1;
        L.a = 0;
        L.b = v->R;
        L.c = 0;
        L.one_way = 1;
    } else {
        real A = ht_valve_area(v, zeta);
        real m = rho * v->l_eff * A / dt;
        L.w = A * A;
        L.a = 0.5 * rho;
        L.b = m;
        L.c = m * Q0;
        L.one_way = 0;
    }
    return L;
}

/* Solves w (dp0 - G Q) = a Q|Q| + b Q - c for Q (G >= 0). With bb = b + w G and
 * cc = w dp0 + c the equation is a Q|Q| + bb Q = cc, whose left side is increasing in Q, so
 * the root is unique and has the sign of cc:
 *     Q = 2 cc / (bb + sqrt(bb^2 + 4 a |cc|))
 * (the rationalised quadratic formula: no cancellation, finite as a -> 0 or bb -> 0). A one-way
 * valve returns 0 when cc <= 0. Returns 0 for the degenerate a = bb = 0 (nothing drives or
 * admits flow: a shut ideal valve). */
HT_HD real ht_valve_solve_affine(const ht_valve_lin *L, real dp0, real G)
{
    real bb = L->b + L->w * G;
    real cc = L->w * dp0 + L->c;
    if (L->one_way && !(cc > 0)) return 0;
    if (cc == 0) return 0;
    real den = bb + sqrt(bb * bb + 4 * L->a * fabs(cc));
    if (!(den > 0)) return 0;
    return 2 * cc / den;
}

/* Residual of the discretised valve law at flow Q and end-of-step pressure difference dp:
 * w dp - a Q|Q| - b Q + c (Pa m^4). Zero at the solution; decreasing in Q. */
HT_HD real ht_valve_residual(const ht_valve_lin *L, real dp, real Q)
{
    return L->w * dp - L->a * Q * fabs(Q) - L->b * Q + L->c;
}

#endif
