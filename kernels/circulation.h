/* The 0D closed loop around the 1D systemic arterial tree (docs/heart.md).
 *
 *   1D outlets --drain--> SV --R_sv--> RA --tri--> RV --pul--> PA --R_pul--> PVN --R_pvn--> LA
 *                                                                                        |
 *   1D root <------------------------------- aortic valve (heart_root.h) <-- LV <--mit--+
 *
 * Compartments: systemic veins SV and pulmonary arteries PA and veins PVN are linear
 * compliances with an unstressed volume, p = (V - Vu) / C; the four chambers RA, RV, LA, LV are
 * time-varying elastances (elastance.h; the atria contract with their own, earlier,
 * activation: the atrial kick that completes ventricular filling). Valves: tricuspid,
 * pulmonary, mitral and aortic (valve.h, Mynard or diode). The systemic arteries are NOT
 * here: they are the 1D tree, which receives the aortic valve flow at its root and drains
 * into SV through its outlets (in closed-loop mode the outlet windkessels see p_out = p_SV).
 *
 * State (ht_heart_state, 19 reals): the 7 volumes, the 7 connection flows (the 4 valve flows
 * are states of the inertial valves; the 3 resistor flows are kept for output), the 4 valve
 * opening states, and the last aortic-root pressure (it drives the aortic valve's opening
 * state in the next stage). Total blood volume = sum of V + the 1D tree (+ windkessels);
 * every flow moves exactly dt Q from one compartment to the next, so it is conserved to
 * round-off (test_heart checks 1e-9 over 50 cycles; see heart_root.h for the 1D side).
 *
 * One RK stage of length dt starting at time ts (the 1D solver's SSP-RK2 calls stage 0 at t
 * and stage 1 at t + dt, each advancing the 0D state over the full dt from its input; stage
 * 1 then averages with the step-start state, exactly as the windkessel outlets of boundary.h):
 *
 * ht_heart_stage_begin (everything but the aortic valve):
 *   1. Valve opening states from the pressure differences at the stage input (Mynard: explicit
 *      driving pressure, implicit zeta: stays in [0, 1]). The aortic one uses p_lv(ts, V_lv)
 *      and the stored root pressure.
 *   2. The six flows SV->RA ... LA->LV, linearly implicit (backward Euler with every
 *      compartment pressure linearised about the stage input: p(V') = p(ts + dt, V) +
 *      E (V' - V), E = dp/dV > 0). Each flow's law depends on its two neighbours only
 *      (tridiagonal), and each row is strictly diagonally dominant and monotone, so
 *      nonlinear Gauss-Seidel converges (Ortega & Rheinboldt, M-functions); it runs to a
 *      relative tolerance (1e-12), 3-4 sweeps in the presets, since the coupling per sweep is
 *      dt E / (R or L/dt) ~ 1e-3 at dt = 1e-4 s. Failure -> HT_FAIL_BOUNDARY.
 *      SV's pressure is taken before this stage's drain (the drain arrives in stage_end; the
 *      lag changes p_SV by drain / C_sv ~ 1e-4 mmHg at dt = 1e-4 s).
 *   3. Volumes moved by these flows; the LV gets the mitral inflow. Returns the LV pressure
 *      and dp/dV at ts + dt at that volume, and the aortic valve's step coefficients.
 * root solve: ht_heart_root_solve (1D) or ht_valve_solve_affine (a 0D load), giving Q_ao.
 * ht_heart_stage_end: V_lv -= dt Q_ao, V_sv += drain (the volume the 1D outlets passed to
 *   the veins over this stage, computed like the stage's flows over the full dt), records
 *   Q_ao and p_root; stage 1 averages with the step-start state.
 * The mitral and aortic flows are solved one after the other within a stage (the aortic
 * solve sees the LV after the mitral inflow); both valves are open together only for
 * a few ms of valve motion, where this splitting is first order like the rest of the step.
 *
 * Time accuracy: each stage is a (linearly implicit) backward-Euler step and stage 1
 * averages, so the 0D part is first order in dt (the windkessel coupling of boundary.h is
 * built the same way); test_heart shows the metrics change by < 0.1% between dt = 1e-4 s
 * and 5e-5 s.
 * Units: SI (Pa, m^3, m^3/s, s). */
#ifndef HT_CIRCULATION_H
#define HT_CIRCULATION_H
#include "net.h"
#include "elastance.h"
#include "valve.h"

enum { HT_HC_SV = 0, HT_HC_RA, HT_HC_RV, HT_HC_PA, HT_HC_PVN, HT_HC_LA, HT_HC_LV,
       HT_HEART_NCOMP };
/* connection j joins compartment j (upstream) and j + 1 (downstream); the last one, the
 * aortic valve, joins the LV and the 1D root */
enum { HT_HQ_SV_RA = 0, HT_HQ_TRI, HT_HQ_PUL, HT_HQ_PA_PVN, HT_HQ_PVN_LA, HT_HQ_MIT, HT_HQ_AO,
       HT_HEART_NFLOW };
enum { HT_HV_TRI = 0, HT_HV_PUL, HT_HV_MIT, HT_HV_AO, HT_HEART_NVALVE };

#define HT_HEART_NX (HT_HEART_NCOMP + HT_HEART_NFLOW + HT_HEART_NVALVE + 2)
#define HT_HEART_GS_MAXIT 100
#define HT_HEART_GS_TOL 1e-12
#define HT_HEART_QSCALE 1e-6 /* m^3/s (1 mL/s): the flow below which tolerances are absolute */

typedef struct ht_heart_state_s {
    real V[HT_HEART_NCOMP];    /* m^3 */
    real Q[HT_HEART_NFLOW];    /* m^3/s, positive downstream */
    real zeta[HT_HEART_NVALVE];/* valve opening states in [0, 1] (diode: 1 open, 0 shut) */
    real p_root;               /* Pa, last aortic-root pressure */
    real Q_br;                 /* m^3/s, bronchial flow root -> PVN (kept for output) */
} ht_heart_state;

typedef struct ht_heart_par_s {
    real rho;                  /* kg/m^3, blood density of the valve laws */
    real T;                    /* s, cycle length (60 / HR); the chambers' activations use it */
    ht_chamber ra, rv, la, lv; /* elastance chambers */
    real C_sv, Vu_sv;          /* systemic veins: m^3/Pa, m^3 */
    real C_pa, Vu_pa;          /* pulmonary arteries (with the arterioles) */
    real C_pvn, Vu_pvn;        /* pulmonary veins */
    real R_sv;                 /* Pa s/m^3, SV -> RA (venous return resistance) */
    real R_pul;                /* Pa s/m^3, PA -> PVN (pulmonary vascular resistance) */
    real R_pvn;                /* Pa s/m^3, PVN -> LA */
    real R_br;                 /* Pa s/m^3, bronchial: aortic root -> PVN; 0: no bronchial flow */
    ht_valve tri, pul, mit, ao;
} ht_heart_par;

/* The LV side of the aortic valve for the root solve of one stage. */
typedef struct ht_heart_lv_link_s {
    real p_lv;       /* Pa, LV pressure at ts + dt after the mitral inflow, before ejection */
    real dpdV;       /* Pa/m^3, its volume derivative */
    ht_valve_lin av; /* the aortic valve over the stage */
    real G_br;       /* m^3/(Pa s), bronchial conductance over the stage (0: none) */
    real p_br;       /* Pa, PVN pressure at ts + dt before the bronchial inflow */
} ht_heart_lv_link;

HT_HD const ht_valve *ht_heart_valve(const ht_heart_par *P, int v)
{
    switch (v) {
    case HT_HV_TRI: return &P->tri;
    case HT_HV_PUL: return &P->pul;
    case HT_HV_MIT: return &P->mit;
    default: return &P->ao;
    }
}

/* Pressure (Pa) and dp/dV (Pa/m^3) of compartment k at time t and volume V. */
HT_HD void ht_heart_comp(const ht_heart_par *P, int k, real t, real V, real *p, real *E)
{
    switch (k) {
    case HT_HC_SV: *p = (V - P->Vu_sv) / P->C_sv; *E = 1 / P->C_sv; break;
    case HT_HC_PA: *p = (V - P->Vu_pa) / P->C_pa; *E = 1 / P->C_pa; break;
    case HT_HC_PVN: *p = (V - P->Vu_pvn) / P->C_pvn; *E = 1 / P->C_pvn; break;
    case HT_HC_RA: ht_chamber_eval(&P->ra, t, V, p, E); break;
    case HT_HC_RV: ht_chamber_eval(&P->rv, t, V, p, E); break;
    case HT_HC_LA: ht_chamber_eval(&P->la, t, V, p, E); break;
    default: ht_chamber_eval(&P->lv, t, V, p, E); break;
    }
}

/* All compartment pressures at time t (for output). */
HT_HD void ht_heart_pressures(const ht_heart_par *P, const ht_heart_state *X, real t,
                              real p[HT_HEART_NCOMP])
{
    for (int k = 0; k < HT_HEART_NCOMP; ++k) {
        real E;
        ht_heart_comp(P, k, t, X->V[k], &p[k], &E);
    }
}

/* Systemic venous pressure (Pa): the p_out of the 1D outlets in closed-loop mode. */
HT_HD real ht_heart_venous_pressure(const ht_heart_par *P, const ht_heart_state *X)
{
    return (X->V[HT_HC_SV] - P->Vu_sv) / P->C_sv;
}

/* Total 0D blood volume (m^3). */
HT_HD real ht_heart_volume(const ht_heart_state *X)
{
    real s = 0;
    for (int k = 0; k < HT_HEART_NCOMP; ++k) s += X->V[k];
    return s;
}

/* Sets T and re-derives the activations with Mynard's fractions of T (elastance.h):
 * ventricles onset 0, atria onset atrial_lead_frac * T before the ventricles. */
HT_HD void ht_heart_set_rate(ht_heart_par *P, real T, real atrial_lead_frac)
{
    P->T = T;
    ht_activation_set(&P->lv.act, T, 0, 0.269, 0.452, 1.32, 27.4);
    ht_activation_set(&P->rv.act, T, 0, 0.269, 0.452, 1.32, 27.4);
    ht_activation_set(&P->la.act, T, 1 - atrial_lead_frac, 0.11, 0.18, 1.32, 13.1);
    ht_activation_set(&P->ra.act, T, 1 - atrial_lead_frac, 0.11, 0.18, 1.32, 13.1);
}

/* Stage part 1 (see the header comment). Xin and Xout may alias. */
HT_HD int ht_heart_stage_begin(const ht_heart_par *P, const ht_heart_state *Xin,
                               ht_heart_state *Xout, real ts, real dt, ht_heart_lv_link *link)
{
    ht_heart_state Y = *Xin;
    real pin[HT_HEART_NCOMP] = {0}, pe[HT_HEART_NCOMP] = {0}, E[HT_HEART_NCOMP] = {0}, dum = 0;
    for (int k = 0; k < HT_HEART_NCOMP; ++k) {
        ht_heart_comp(P, k, ts, Y.V[k], &pin[k], &dum);       /* stage input: valve drive */
        ht_heart_comp(P, k, ts + dt, Y.V[k], &pe[k], &E[k]);  /* linearisation at ts + dt */
    }
    /* 1. valve opening states */
    Y.zeta[HT_HV_TRI] = ht_valve_zeta_step(&P->tri, Y.zeta[HT_HV_TRI],
                                           pin[HT_HC_RA] - pin[HT_HC_RV], dt);
    Y.zeta[HT_HV_PUL] = ht_valve_zeta_step(&P->pul, Y.zeta[HT_HV_PUL],
                                           pin[HT_HC_RV] - pin[HT_HC_PA], dt);
    Y.zeta[HT_HV_MIT] = ht_valve_zeta_step(&P->mit, Y.zeta[HT_HV_MIT],
                                           pin[HT_HC_LA] - pin[HT_HC_LV], dt);
    Y.zeta[HT_HV_AO] = ht_valve_zeta_step(&P->ao, Y.zeta[HT_HV_AO],
                                          pin[HT_HC_LV] - Y.p_root, dt);
    /* 2. the six flows SV->RA .. LA->LV: connection j between compartments j and j + 1 */
    ht_valve_lin law[HT_HQ_AO];
    for (int j = 0; j < HT_HQ_AO; ++j) {
        real R = j == HT_HQ_SV_RA ? P->R_sv : j == HT_HQ_PA_PVN ? P->R_pul : P->R_pvn;
        int v = j == HT_HQ_TRI ? HT_HV_TRI : j == HT_HQ_PUL ? HT_HV_PUL : j == HT_HQ_MIT ? HT_HV_MIT : -1;
        if (v >= 0) {
            law[j] = ht_valve_discretise(ht_heart_valve(P, v), Y.zeta[v], Xin->Q[j], P->rho, dt);
        } else {
            law[j].w = 1;
            law[j].a = 0;
            law[j].b = R;
            law[j].c = 0;
            law[j].one_way = 0;
        }
    }
    real q[HT_HQ_AO];
    for (int j = 0; j < HT_HQ_AO; ++j) q[j] = Xin->Q[j];
    int ok = 0;
    for (int it = 0; it < HT_HEART_GS_MAXIT && !ok; ++it) {
        ok = 1;
        for (int j = 0; j < HT_HQ_AO; ++j) {
            real qm = j > 0 ? q[j - 1] : 0;           /* inflow of compartment j (SV: none here) */
            real qp = j < HT_HQ_AO - 1 ? q[j + 1] : 0; /* outflow of compartment j+1 (LV: none) */
            real dp0 = pe[j] + E[j] * dt * qm - pe[j + 1] + E[j + 1] * dt * qp;
            real G = dt * (E[j] + E[j + 1]);
            real qn = ht_valve_solve_affine(&law[j], dp0, G);
            if (!isfinite(qn)) return HT_FAIL_BOUNDARY;
            if (fabs(qn - q[j]) > HT_HEART_GS_TOL * ht_max(fabs(qn), HT_HEART_QSCALE)) ok = 0;
            q[j] = qn;
        }
    }
    if (!ok) return HT_FAIL_BOUNDARY;
    /* 3. volumes: each flow moves exactly dt q from compartment j to j + 1 */
    for (int j = 0; j < HT_HQ_AO; ++j) {
        Y.V[j] -= dt * q[j];
        Y.V[j + 1] += dt * q[j];
        Y.Q[j] = q[j];
    }
    if (P->tri.kind == HT_VALVE_DIODE) Y.zeta[HT_HV_TRI] = q[HT_HQ_TRI] > 0;
    if (P->pul.kind == HT_VALVE_DIODE) Y.zeta[HT_HV_PUL] = q[HT_HQ_PUL] > 0;
    if (P->mit.kind == HT_VALVE_DIODE) Y.zeta[HT_HV_MIT] = q[HT_HQ_MIT] > 0;
    ht_chamber_eval(&P->lv, ts + dt, Y.V[HT_HC_LV], &link->p_lv, &link->dpdV);
    link->av = ht_valve_discretise(&P->ao, Y.zeta[HT_HV_AO], Xin->Q[HT_HQ_AO], P->rho, dt);
    /* bronchial flow Q = (p_root - p_pvn') / R_br with the PVN pressure linearised in its own
     * inflow, p_pvn' = p_br + dt Q / C_pvn, so Q = G_br (p_root - p_br) */
    link->G_br = P->R_br > 0 ? 1 / (P->R_br + dt / P->C_pvn) : 0;
    link->p_br = (Y.V[HT_HC_PVN] - P->Vu_pvn) / P->C_pvn;
    *Xout = Y;
    return HT_OK;
}

/* Stage part 2: the LV outflow Q_ao + Q_br leaves the LV over dt: Q_ao (m^3/s) is the root
 * face flow into the 1D tree, Q_br (m^3/s) the bronchial flow that leaves the root for the
 * pulmonary veins (the root solve's split: valve + Impella = Q_ao + Q_br); the aortic
 * valve's flow state (and a diode's opening flag) is the valve's own flow Q_valve; the root
 * pressure p_root (Pa) is recorded, and vol_drain (m^3, the stage's venous return from the
 * 1D outlets over the full dt, less what a VA-ECMO drained) enters SV. Stage 1 averages X
 * with the step-start state X0 (except p_root, which keeps the latest value). */
HT_HD void ht_heart_stage_end(const ht_heart_par *P, const ht_heart_state *X0, ht_heart_state *X,
                              real Q_ao, real Q_valve, real Q_br, real p_root, real vol_drain,
                              real dt, int stage)
{
    X->V[HT_HC_LV] -= dt * (Q_ao + Q_br);
    X->V[HT_HC_PVN] += dt * Q_br;
    X->V[HT_HC_SV] += vol_drain;
    X->Q[HT_HQ_AO] = Q_valve;
    X->Q_br = Q_br;
    X->p_root = p_root;
    if (P->ao.kind == HT_VALVE_DIODE) X->zeta[HT_HV_AO] = Q_valve > 0;
    if (stage == 1) {
        for (int k = 0; k < HT_HEART_NCOMP; ++k) X->V[k] = 0.5 * (X0->V[k] + X->V[k]);
        for (int k = 0; k < HT_HEART_NFLOW; ++k) X->Q[k] = 0.5 * (X0->Q[k] + X->Q[k]);
        for (int k = 0; k < HT_HEART_NVALVE; ++k) X->zeta[k] = 0.5 * (X0->zeta[k] + X->zeta[k]);
        X->Q_br = 0.5 * (X0->Q_br + X->Q_br);
        /* a shut ideal valve (averaging would only halve its remnants each step, down to
         * subnormals): zeta and its inertial flow state are exactly 0 */
        for (int k = 0; k < HT_HEART_NVALVE; ++k) {
            const ht_valve *v = ht_heart_valve(P, k);
            if (v->kind != HT_VALVE_MYNARD || X->zeta[k] >= HT_VALVE_ZETA_MIN) continue;
            X->zeta[k] = 0;
            if (v->A_min == 0) X->Q[k == HT_HV_TRI ? HT_HQ_TRI : k == HT_HV_PUL ? HT_HQ_PUL
                                    : k == HT_HV_MIT ? HT_HQ_MIT : HT_HQ_AO] = 0;
        }
    }
}

/* ---- a 0D arterial load: the closed loop without the 1D tree ----
 * A 3-element windkessel Zc - (C || R) between the aortic valve and SV, for tests, preset
 * calibration, and a periodic initial state before the 1D run. Over a stage the valve flow
 * is held and the compliance follows its exact solution (as ht_outlet_apply):
 *   pc' = p_sv + (pc - p_sv) E + R (1 - E) Q,  E = exp(-dt / (R C)),  p_root = pc' + Zc Q,
 * and the volume through R to SV over the stage is dt Q - C (pc' - pc). */
typedef struct {
    real Zc;   /* Pa s/m^3, characteristic impedance */
    real C;    /* m^3/Pa, arterial compliance */
    real R;    /* Pa s/m^3, peripheral resistance */
} ht_heart_wk;

/* One step of the loop with the windkessel load: two stages, exactly the sequence of
 * heart_root.h with the root solve replaced by the affine load. The bronchial branch leaves
 * at the root pressure p_root = pc' + Zc Q (Q the windkessel's inflow): with the valve flow
 * Qv = Q + G_br (p_root - p_br) the root pressure is affine in Qv, p_root = pfix' + Reff' Qv,
 * so the valve step stays one closed-form solve. pc: windkessel pressure (Pa), in/out.
 * Returns HT_OK or HT_FAIL_BOUNDARY. */
HT_HD int ht_heart_step_wk(const ht_heart_par *P, const ht_heart_wk *W, ht_heart_state *X,
                           real *pc, real t, real dt)
{
    ht_heart_state X0 = *X;
    real pc0 = *pc;
    real E = exp(-dt / (W->R * W->C));
    for (int s = 0; s < 2; ++s) {
        real ts = t + s * dt;
        real pc_in = s == 0 ? pc0 : *pc;
        real psv = ht_heart_venous_pressure(P, X); /* stage input (X is X0 in stage 0) */
        ht_heart_lv_link link;
        int code = ht_heart_stage_begin(P, X, X, ts, dt, &link);
        if (code) return code;
        real pfix = psv + (pc_in - psv) * E;
        real Reff = W->Zc + W->R * (1 - E);
        real den = 1 + Reff * link.G_br;
        real Qv = ht_valve_solve_affine(&link.av, link.p_lv - (pfix + Reff * link.G_br * link.p_br) / den,
                                        link.dpdV * dt + Reff / den);
        if (!isfinite(Qv)) return HT_FAIL_BOUNDARY;
        /* the windkessel's share from the same affine relation; the bronchial flow is the rest,
         * so Q + Q_br = Qv exactly as the LV loses it */
        real Q = (Qv - link.G_br * (pfix - link.p_br)) / den;
        real Qbr = Qv - Q;
        real pc_new = pfix + W->R * (1 - E) * Q;
        real drain = dt * Q - W->C * (pc_new - pc_in);
        ht_heart_stage_end(P, &X0, X, Q, Qv, Qbr, pc_new + W->Zc * Q, drain, dt, s);
        *pc = s == 0 ? pc_new : 0.5 * (pc0 + pc_new);
    }
    return HT_OK;
}

#endif
