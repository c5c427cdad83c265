/* The flat, backend-neutral description of a network and its state: plain numbers and
 * pointers, structure-of-arrays over all cells of all vessels. network.c fills it on the
 * host; the CPU backend uses it as is, the CUDA backend with device pointers. Nothing here
 * knows about YAML, HDF5 or the CUDA runtime.
 *
 * Indexing: the cells of vessel v are vessel_first[v] .. vessel_first[v] + vessel_n[v] - 1.
 * Each vessel has n + 1 faces; the left face of cell i is i + cell_vessel[i], its right face
 * the next one. The first and last face of a vessel are boundary faces: their fluxes come
 * from an inlet, an outlet or a junction, never from flux.h. */
#ifndef HT_NET_H
#define HT_NET_H
#include "ht_common.h"
#include <stddef.h>
#include "waveform.h"

#define HT_JUNCTION_MAX 8   /* vessel ends at one junction; the Newton system is this size */

/* HT_BC_HEART: the aortic root of a closed loop, driven by the member's 0D heart through the
 * aortic valve (heart_stage.h); the backends route it to ht_heart_root_apply, never to
 * ht_inlet_apply. */
enum { HT_BC_FLOW = 0, HT_BC_PRESSURE = 1, HT_BC_HEART = 2 };

/* The 0D heart's structs (kernels/circulation.h), by tag, so that this header stays free of
 * the heart's headers. */
struct ht_heart_par_s;
struct ht_heart_state_s;
struct ht_heart_lv_link_s;
struct ht_devices_s;   /* kernels/devices.h */
enum { HT_OUT_WINDKESSEL = 0, HT_OUT_RESISTANCE = 1, HT_OUT_REFLECTION = 2, HT_OUT_CORONARY = 3 };

typedef struct {
    int cell;             /* first cell of the vessel */
    int face;             /* its first face */
    int kind;             /* HT_BC_FLOW | HT_BC_PRESSURE | HT_BC_HEART */
    ht_waveform wave;     /* m^3/s or Pa */
    real tracer;          /* ECMO fraction of the inflow */
} ht_inlet;

typedef struct {
    int cell;             /* last cell of the vessel */
    int face;             /* its last face */
    int kind;             /* windkessel and resistance share one solve (C = R2 = 0) */
    real R1, C, R2, p_out, Rt;
    /* coronary (coronary.h): Ra is R1; arterial and intramyocardial compliances,
     * microvascular and venous resistances; P_im(t), Pa (scale * a prescribed LV pressure).
     * In closed-loop mode (ht_net.heart) P_im = pim.scale * the LV pressure of the member's
     * heart (heart_stage.h) and the table is not used. */
    real Ca, Ram, Cim, Rv;
    ht_waveform pim;
} ht_outlet;

typedef struct {
    int n_cells, n_faces, n_vessels;
    /* Ensembles: the arrays below may hold n_members copies of one network shape, member
     * after member (member m's cells are m * m_cells .. (m + 1) * m_cells - 1, and likewise
     * its faces, vessels, inlets, outlets, junctions and probes). Every index stays global,
     * so each function below works unchanged on a stacked network; the member of an index
     * matters only for its clock (ht_clock[m]: each member keeps its own dt, so member m of
     * an ensemble steps exactly as the single run of its parameters). A single run is an
     * ensemble of one. */
    int n_members;
    int m_cells, m_faces, m_vessels, m_inlets, m_outlets, m_junctions, m_probes;
    real rho, alpha, cfl;
    real inv2rho, inv3rho;         /* 1 / (2 rho), 1 / (3 rho): the interior flux multiplies */
    int limiter, tracer_limiter;   /* limiter.h kinds */
    int tracer;                    /* transport the ECMO fraction */

    const int *cell_vessel;        /* [n_cells] */
    const int *vessel_first;       /* [n_vessels] */
    const int *vessel_n;           /* [n_vessels] */
    const real *vessel_dx;         /* [n_vessels] m */
    const real *vessel_fric;       /* [n_vessels] 2 (zeta + 2) pi mu / rho, m^2/s */
    const real *vessel_p0;         /* [n_vessels] Pa, reference pressure */
    const real *sqrtA0;            /* [n_cells] sqrt(m^2) */
    const real *K;                 /* [n_cells] Pa/m */
    /* Reciprocals of the two above, so that the per-cell and per-face work multiplies
     * instead of dividing (a division costs several multiplications on every device) */
    const real *vessel_rdx;        /* [n_vessels] 1 / vessel_dx */
    const real *invK;              /* [n_cells] 1 / K */
    /* [n_cells] Pa s m, Kelvin-Voigt wall viscosity Gamma = (2/3) sqrt(pi) phi h
     * (viscoelastic.h). NULL for an elastic network: network.c leaves it NULL when every
     * Gamma is zero, and the backends then skip the viscous step entirely, so elastic
     * results do not depend on this feature at all. */
    const real *Gamma;

    int n_inlets;
    const ht_inlet *inlets;
    int n_outlets;
    const ht_outlet *outlets;

    /* junction j joins ends junc_off[j] .. junc_off[j+1]-1; end e is cell jend_cell[e], face
     * jend_face[e], sign jend_sign[e] = +1 when the vessel ends at the junction (its flow
     * enters the junction), -1 when it starts there. */
    int n_junctions;
    const int *junc_off;
    const int *jend_cell, *jend_face, *jend_sign;
    real junction_tol;
    int junction_maxit;

    /* probes: value at x interpolated between cells probe_cell and probe_cell + 1 (same
     * vessel) with weight probe_w on the second */
    int n_probes;
    const int *probe_cell;
    const real *probe_w;

    /* Closed loop (kernels/heart_stage.h): heart = 1 when every member has a 0D heart. Then
     * each member has exactly one inlet (m_inlets == 1), of kind HT_BC_HEART (the aortic
     * root), every outlet drains into the member's systemic veins (p_out = its venous
     * pressure; no reflection outlets), and heart_par[m] are member m's parameters. */
    int heart;
    const struct ht_heart_par_s *heart_par;   /* [n_members] when heart, else NULL */
    /* Devices (kernels/devices.h; closed loop only): [n_members] when the members have an
     * Impella or a VA-ECMO (every member of a stack has the array or none has), else NULL. */
    const struct ht_devices_s *dev;
} ht_net;

/* Conserved state: A (m^2), Q (m^3/s), C = A c (m^2, c the ECMO fraction). */
typedef struct {
    real *A, *Q, *C;
} ht_state;

/* Failure codes, first failure wins (cell and time recorded with it). */
enum { HT_OK = 0, HT_FAIL_NONFINITE = 1, HT_FAIL_AREA = 2, HT_FAIL_CFL = 3, HT_FAIL_JUNCTION = 4,
       HT_FAIL_BOUNDARY = 5, HT_FAIL_MEMORY = 6 /* host only: probe buffers */,
       /* not a failure: the driver stopped the member (periodic state reached); every
        * kernel skips a member whose code is nonzero, so this one simply stops stepping */
       HT_STOPPED = 7 };

typedef struct {
    real t;               /* s */
    real dt;              /* s, of the step in progress */
    real t_stop;          /* the next time a step must land on (output, end) */
    long step;
    int first_pass_done;  /* the last step left w's cp, cc and rate for the state U as it
                           * is (stage 1's update, step.h); 0 makes the next step compute
                           * them (step_cpu.c's step_begin, the CUDA backend's k_begin) */
    int fail;             /* HT_FAIL_* */
    int fail_index;       /* cell (or junction, or outlet) */
    real fail_t;
} ht_clock;

/* Everything a step writes besides the state. Sizes in brackets. */
typedef struct {
    ht_state U0;                   /* [n_cells] state at the start of the step */
    ht_state U1;                   /* [n_cells] after the first RK stage */
    real *cp, *cc;                 /* [n_cells] pressure, ECMO fraction (ht_prep_cell) */
    real *rate;                    /* [n_cells] CFL rate (1/s) of U; CPU only: stage 1's
                                    * update leaves it for the next step's dt */
    real *fA_m, *fQ_m, *fc_m;      /* [n_cells] reconstructed values at each cell's left face */
    real *fA_p, *fQ_p, *fc_p;      /* [n_cells] ... at its right face */
    real *fS_m, *fS_p;             /* [n_cells] sqrt of fA_m, fA_p (the flux needs them) */
    real *FA, *FQl, *FQr, *FC;     /* [n_faces] fluxes; FQl seen from the left cell */
    real *pc, *pc0;                /* [n_outlets] windkessel pressure now / at step start */
    real *pcim, *pcim0;            /* [n_outlets] coronary: intramyocardial compartment pressure
                                    * now / at step start (pc holds its Ca pressure) */
    real *vol_in;                  /* [n_inlets] m^3 entered, accumulated */
    real *vol_out;                 /* [n_outlets] m^3 left, accumulated */
    real *visc_cp;                 /* [n_cells] Thomas sweep scratch of the viscous wall step */
    /* closed loop only (ht_net.heart; NULL otherwise), per member m unless said: */
    struct ht_heart_state_s *hX;   /* 0D state now */
    struct ht_heart_state_s *hX0;  /* ... at the step start */
    struct ht_heart_lv_link_s *hlink; /* the stage's LV side of the aortic valve */
    real *h_psv;                   /* Pa, systemic venous pressure at the stage input */
    real *h_plv_in, *h_plv_end;    /* Pa, the coronary outlets' LV pressure at the stage input
                                    * (= h_plv_ref) and at ts + dt (the LV after the mitral
                                    * inflow, before ejection: ht_heart_lv_link.p_lv) */
    real *h_plv_ref, *h_plv_ref0;  /* Pa, the LV pressure the coronary compartments are
                                    * referred to, now / at the step start: advanced and
                                    * averaged over the stages exactly as their pressures, so
                                    * that Cim (p2 - scale h_plv_ref) is the stored volume */
    real *h_qao, *h_proot;         /* m^3/s, Pa: the stage's root solve */
    real *h_qbr;                   /* m^3/s, the stage's bronchial flow root -> PVN */
    int *h_fail;                   /* the stage's ht_heart_stage_begin code */
    real *drain;                   /* [n_outlets] m^3 the outlet passed to the veins over
                                    * the full dt of the stage */
    /* devices (kernels/devices.h), per member, closed loop only (0 without the device): */
    real *d_qimp, *d_qimp0;        /* m^3/s, Impella flow state now / at the step start */
    real *d_qecmo, *d_qecmo0;      /* m^3/s, ECMO pump flow state now / at the step start */
    real *d_qimp_s, *d_qvalve_s;   /* m^3/s, the stage's Impella and aortic valve flows */
    real *d_qecmo_s;               /* m^3/s, the stage's ECMO flow (drained = returned) */
    real *d_vol_ecmo;              /* m^3 returned into the 1D tree, accumulated */
} ht_work;

/* The one layout of the real-valued state and work arrays in a single buffer, shared by the
 * host solver and the CUDA backend (so both agree on it by construction). With p == NULL
 * only the count of reals is returned; otherwise the pointers of U and w are set into p. */
static inline size_t ht_work_layout(ht_state *U, ht_work *w, real *p, size_t nc, size_t nf, size_t no, size_t ni)
{
    size_t total = 9 * nc + 8 * nc + 3 * nc + 4 * nf + 5 * no + ni + nc + 1;
    if (!p) return total;
#define HT_TAKE(dst, count) do { (dst) = p; p += (count); } while (0)
    HT_TAKE(U->A, nc); HT_TAKE(U->Q, nc); HT_TAKE(U->C, nc);
    HT_TAKE(w->U0.A, nc); HT_TAKE(w->U0.Q, nc); HT_TAKE(w->U0.C, nc);
    HT_TAKE(w->U1.A, nc); HT_TAKE(w->U1.Q, nc); HT_TAKE(w->U1.C, nc);
    HT_TAKE(w->fA_m, nc); HT_TAKE(w->fQ_m, nc); HT_TAKE(w->fc_m, nc);
    HT_TAKE(w->fA_p, nc); HT_TAKE(w->fQ_p, nc); HT_TAKE(w->fc_p, nc);
    HT_TAKE(w->fS_m, nc); HT_TAKE(w->fS_p, nc);
    HT_TAKE(w->cp, nc); HT_TAKE(w->cc, nc); HT_TAKE(w->rate, nc);
    HT_TAKE(w->FA, nf); HT_TAKE(w->FQl, nf); HT_TAKE(w->FQr, nf); HT_TAKE(w->FC, nf);
    HT_TAKE(w->pc, no); HT_TAKE(w->pc0, no); HT_TAKE(w->vol_out, no);
    HT_TAKE(w->pcim, no); HT_TAKE(w->pcim0, no);
    HT_TAKE(w->vol_in, ni);
    HT_TAKE(w->visc_cp, nc);
#undef HT_TAKE
    return total;
}

/* The heart's real-valued per-member and per-outlet work arrays (closed loop), the same way. */
static inline size_t ht_heart_layout(ht_work *w, real *p, size_t M, size_t no)
{
    size_t total = 16 * M + no + 1;
    if (!p) return total;
    w->h_psv = p; p += M;
    w->h_plv_in = p; p += M;
    w->h_plv_end = p; p += M;
    w->h_qao = p; p += M;
    w->h_proot = p; p += M;
    w->h_qbr = p; p += M;
    w->h_plv_ref = p; p += M;
    w->h_plv_ref0 = p; p += M;
    w->d_qimp = p; p += M;
    w->d_qimp0 = p; p += M;
    w->d_qecmo = p; p += M;
    w->d_qecmo0 = p; p += M;
    w->d_qimp_s = p; p += M;
    w->d_qvalve_s = p; p += M;
    w->d_qecmo_s = p; p += M;
    w->d_vol_ecmo = p; p += M;
    w->drain = p;
    return total;
}

#endif
