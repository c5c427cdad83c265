/* Heart and closed-loop presets: `healthy` and `cardiogenic-shock`. Every value, its unit and
 * its source are in docs/heart.md (the table there is the reference; keep the two in step).
 * Values are written in clinical units and converted to SI here.
 *
 * Sources (tags as in docs/devices.md: [V] checked against the source
 * or public code implementing it, [R] literature value not re-read, [D] derived/tuned here):
 *  - Mynard & Smolich 2015 / Mynard et al. 2012 parameter set as implemented in
 *    briandaniel/CardiovascularLibrary (MynardLumpSystem_parameters.cpp) [V]: activation
 *    shapes, valves, atria, RV active elastance, pulmonary circulation, R_pvn.
 *  - Ursino 1998 (Am J Physiol 275:H1733) as implemented in matthiaszeller/VAD-0D-DNN
 *    (ModelParametersNH / ModelParametersSHF) [V]: exponential EDPVRs, systemic venous
 *    compliance and unstressed volume, venous return resistance, pulmonary venous compliance.
 *  - Simaan et al. 2009 LVAD control model, as in public code [V]: LV V0 = 10 mL, 75 bpm.
 *  - Cardiogenic-shock targets: a suggested CS baseline [D] (Ees 0.4-0.8 mmHg/mL,
 *    V0 20-40 mL, HR 90-110 bpm; CO 2-3 L/min, MAP 55-65 mmHg, LVEDP 20-30 mmHg) inside the
 *    SCAI/SHOCK definitions [R] (docs/heart.md "Targets"); ventricular parameters tuned
 *    within its ranges [D].
 * The windkessel that stands for the 1D tree in tests and calibration is in docs/heart.md too. */
#ifndef HT_HEART_PRESETS_H
#define HT_HEART_PRESETS_H
#include "circulation.h"

#define HT_MMHG 133.322387415             /* Pa */
#define HT_ML 1e-6                        /* m^3 */
#define HT_MMHG_PER_ML (HT_MMHG / HT_ML)  /* Pa/m^3: elastance, mmHg/mL */
#define HT_ML_PER_MMHG (HT_ML / HT_MMHG)  /* m^3/Pa: compliance, mL/mmHg */
#define HT_MMHG_S_PER_ML (HT_MMHG / HT_ML)/* Pa s/m^3: resistance, mmHg s/mL */
#define HT_CM2 1e-4                       /* m^2 */
#define HT_KV_CGS 10.0                    /* 1/(Pa s) per cm^2/(dyn s) */

enum { HT_HEART_HEALTHY = 0, HT_HEART_SHOCK = 1 };

HT_HD void ht_heart_chamber_set(ht_chamber *c, real Ees_mmHg_mL, real V0_mL, real Emin_mmHg_mL,
                                real P0_mmHg, real lambda_per_mL)
{
    c->Ees = Ees_mmHg_mL * HT_MMHG_PER_ML;
    c->V0 = V0_mL * HT_ML;
    c->Emin = Emin_mmHg_mL * HT_MMHG_PER_ML;
    c->P0 = P0_mmHg * HT_MMHG;
    c->lambda = lambda_per_mL / HT_ML;
}

HT_HD void ht_heart_valve_mynard(ht_valve *v, real Amax_cm2, real leff_cm, real Kvo_cgs,
                                 real Kvc_cgs)
{
    v->kind = HT_VALVE_MYNARD;
    v->A_max = Amax_cm2 * HT_CM2;
    v->A_min = 0; /* ideal closure */
    v->l_eff = leff_cm * 1e-2;
    v->K_vo = Kvo_cgs * HT_KV_CGS;
    v->K_vc = Kvc_cgs * HT_KV_CGS;
    v->dp_open = 0;
    v->dp_close = 0;
    v->R = 0;
}

/* Turns a valve into an ideal diode with resistance R (mmHg s/mL). */
HT_HD void ht_heart_valve_diode(ht_valve *v, real R_mmHg_s_mL)
{
    v->kind = HT_VALVE_DIODE;
    v->R = R_mmHg_s_mL * HT_MMHG_S_PER_ML;
}

/* Fills P with preset `which` and X with its initial state (a state near the periodic one:
 * volumes, zero flows, shut valves, root pressure = the windkessel pressure of
 * ht_heart_preset_wk). Returns 0, or -1 for an unknown
 * preset. The windkessel stand-in for the 1D tree (ht_heart_preset_wk) belongs to the same
 * calibration. */
HT_HD int ht_heart_preset(int which, ht_heart_par *P, ht_heart_state *X)
{
    if (which != HT_HEART_HEALTHY && which != HT_HEART_SHOCK) return -1;
    int cs = which == HT_HEART_SHOCK;
    P->rho = 1060;                                   /* Mynard 1.06 g/cm^3 [V] */
    /* chamber: Ees (mmHg/mL), V0 (mL), Emin (mmHg/mL), P0 (mmHg), lambda (1/mL) */
    ht_heart_chamber_set(&P->la, 0.17, 3, 0.08, 0, 0);  /* Mynard LA, linear [V] */
    ht_heart_chamber_set(&P->ra, 0.15, 17, 0.04, 0, 0); /* Mynard RA, linear [V] */
    if (!cs) {
        ht_heart_chamber_set(&P->rv, 0.6, 20, 0, 1.5, 0.011); /* Mynard Ees, V0; Ursino passive [V] */
    } else {
        /* RV involvement (weaker, stiffer RV): the filling pressures then split as in heart
         * failure (RAP/PCWP ~ 0.5, Drazner 2013 [R]) instead of RAP ~ 1 mmHg; docs/heart.md [D] */
        ht_heart_chamber_set(&P->rv, 0.4, 20, 0, 1.5, 0.03);
    }
    if (!cs) {
        /* Ees Mynard [V], V0 Simaan 2009 [V], P0 Ursino [V], lambda tuned [D]; 75 bpm Simaan [V] */
        ht_heart_chamber_set(&P->lv, 3.0, 10, 0, 1.5, 0.019);
        ht_heart_set_rate(P, 60.0 / 75, 0.15);
    } else {
        /* Ees, V0, HR within the suggested CS baseline (above), tuned to its targets [D] */
        ht_heart_chamber_set(&P->lv, 0.6, 20, 0, 1.5, 0.019);
        ht_heart_set_rate(P, 60.0 / 90, 0.15);
    }
    P->C_sv = 111.11 * HT_ML_PER_MMHG;      /* Ursino 61.11 + 50 [V] */
    P->Vu_sv = 2496 * HT_ML;                /* Ursino 1121 + 1375 [V] */
    P->C_pa = 3.43 * HT_ML_PER_MMHG;        /* Mynard Cpa + Cpp (0.76 + 2.67) [V] */
    P->Vu_pa = 123 * HT_ML;                 /* Mynard Vu_pa + Vu_pp [V] */
    P->C_pvn = 25.37 * HT_ML_PER_MMHG;      /* Ursino [V] */
    P->Vu_pvn = 120 * HT_ML;                /* Ursino = Mynard [V] */
    P->R_sv = 0.01126 * HT_MMHG_S_PER_ML;   /* Ursino 0.038 || 0.016 [V] */
    /* Mynard Rpa + Rpp (0.030 + 0.075) [V], 1.75 Wood units; shock: 3 WU, post-capillary
     * pulmonary hypertension of left heart failure (ESCAPE PVR 2.4-3.6 WU, Drazner 2013 [R]) */
    P->R_pul = (cs ? 0.18 : 0.105) * HT_MMHG_S_PER_ML;
    P->R_pvn = 0.0075 * HT_MMHG_S_PER_ML;   /* Mynard Rpv [V] */
    /* bronchial arteries -> pulmonary veins: about 1-2 % of CO (docs/heart.md), both presets */
    P->R_br = 65 * HT_MMHG_S_PER_ML;        /* [D] 1.5 % of CO in healthy on ADAN56 */
    /* Mynard valves [V]: A_max (cm^2), l_eff (cm), K_vo, K_vc (cm^2/(dyn s)); A_min = 0 */
    ht_heart_valve_mynard(&P->tri, 8.0, 0.8, 0.03, 0.04);
    ht_heart_valve_mynard(&P->pul, 7.1, 1.0, 0.02, 0.02);
    ht_heart_valve_mynard(&P->mit, 7.7, 0.8, 0.02, 0.04);
    ht_heart_valve_mynard(&P->ao, 6.9, 1.5, 0.012, 0.012);

    /* initial state (mL, mmHg): near the periodic state of each preset with its windkessel */
    const real V_h[HT_HEART_NCOMP] = {2829, 33, 123.5, 159, 312, 50.5, 114.5};
    const real V_s[HT_HEART_NCOMP] = {3571, 127, 109.5, 198, 573, 121, 170};
    for (int k = 0; k < HT_HEART_NCOMP; ++k) X->V[k] = (cs ? V_s[k] : V_h[k]) * HT_ML;
    for (int k = 0; k < HT_HEART_NFLOW; ++k) X->Q[k] = 0;
    for (int k = 0; k < HT_HEART_NVALVE; ++k) X->zeta[k] = 0;
    X->p_root = (cs ? 54 : 72) * HT_MMHG;
    X->Q_br = 0;
    return 0;
}

/* The 3-element windkessel that stands for the systemic arterial tree with each preset
 * (Zc, C, R), and its initial pressure (Pa). */
HT_HD void ht_heart_preset_wk(int which, ht_heart_wk *W, real *pc0)
{
    int cs = which == HT_HEART_SHOCK;
    W->Zc = 0.06 * HT_MMHG_S_PER_ML;
    W->C = 1.5 * HT_ML_PER_MMHG;
    W->R = (cs ? 1.2 : 1.0) * HT_MMHG_S_PER_ML;
    *pc0 = (cs ? 54 : 72) * HT_MMHG;
}

#endif
