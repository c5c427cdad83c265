/* From a validated case to the flat arrays of kernels/net.h, plus the output geometry
 * (points, segments, cell centres). Owns every array; ht_network_free releases them. */
#ifndef HT_NETWORK_H
#define HT_NETWORK_H
#include "case.h"
#include "net.h"
#include "circulation.h"
#include "devices.h"

typedef struct {
    ht_net net;                 /* pointers below, viewed const by the kernels */

    int *cell_vessel, *vessel_first, *vessel_n;
    real *vessel_dx, *vessel_fric, *vessel_p0, *sqrtA0, *K;
    real *vessel_rdx, *invK;    /* 1 / vessel_dx, 1 / K (derived: ht_network_reciprocals) */
    real *Gamma;                /* [n_cells] NULL when every wall is elastic */
    ht_inlet *inlets;
    ht_outlet *outlets;
    int *junc_off, *jend_cell, *jend_face, *jend_sign;
    int *probe_cell;
    real *probe_w;

    /* output geometry */
    int n_points;
    double *points;             /* [n_points*3] */
    int *segments;              /* [n_cells*2] */
    double *x;                  /* [n_cells] */
    const char **vessel_names;  /* [n_vessels], pointing into the case */
    const char **probe_names;   /* [n_probes] */

    /* initial condition */
    double *A_init;             /* [n_cells] area at the initial pressure */
    double *pc_init;            /* [n_outlets] */
    double *pcim_init;          /* [n_outlets] coronary intramyocardial compartment */

    /* closed loop (case heart:): NULL without a heart */
    ht_heart_par *heart_par;    /* [n_members] */
    ht_heart_state *heart_init; /* [n_members] initial 0D state */
    ht_devices *dev;            /* [n_members] (case devices:), else NULL */
} ht_network;

/* Returns 0, or 2 with a message in err (an input the loader let through but that cannot
 * form a network, e.g. a junction with more ends than HT_JUNCTION_MAX). */
int ht_network_build(const ht_case *c, ht_network *nw, ht_error *err);
void ht_network_free(ht_network *nw);

/* An ensemble's members in one network (net.h, "Ensembles"): member m's arrays follow
 * member m-1's, indices shifted. Only the kernel arrays and the initial state are filled
 * (output geometry stays with each member). Inlet and coronary waveforms point into the
 * members' networks, which must outlive the stack. Returns 0, or 2 with a message when the
 * members do not share one shape (counts, connectivity, blood and numerics settings). */
int ht_network_stack(const ht_network *const *members, int M, ht_network *out, ht_error *err);

/* 1 when b can share a launch with a (ht_network_stack would accept them); else 0 and *why
 * says what differs. */
int ht_network_same_shape(const ht_network *a, const ht_network *b, const char **why);

/* Name the place of cell i: "vessel 'aorta' at x = 4.30 cm". */
void ht_network_where(const ht_network *nw, const ht_case *c, int cell, char *buf, size_t len);

#endif
