/* Mechanical circulatory support coupled to the closed loop (docs/devices.md section 4): the
 * per-member device parameters the kernels read (ht_net.dev, [n_members], NULL when no member
 * has a device). Impella: kernels/impella.h, in the root solve (heart_stage.h,
 * ht_heart_root_apply). VA-ECMO: kernels/ecmo.h; its pump flow leaves the member's systemic
 * veins and enters the 1D tree as a point source in the cell holding the return cannula tip
 * (ht_ecmo_source_apply), with ECMO fraction 1. Units: SI, speeds in rpm. */
#ifndef HT_DEVICES_H
#define HT_DEVICES_H
#include "net.h"
#include "impella.h"
#include "ecmo.h"

typedef struct ht_devices_s {
    int impella;          /* 1: an Impella from the LV to the root */
    ht_impella imp;       /* its preset */
    real imp_rpm;         /* rpm, the speed of its P-level (or given) */
    int ecmo;             /* 1: femoral VA-ECMO */
    ht_ecmo ecmo_par;     /* prescribed or pump mode; distal perfusion cannula none or a
                           * fixed fraction of the pump flow (HT_DPC_FRACTION) */
    int ecmo_cell;        /* the cell holding the return cannula tip (global index) */
    int dpc_cell;         /* the cell the distal perfusion cannula feeds (global), or -1 */
} ht_devices;

#endif
