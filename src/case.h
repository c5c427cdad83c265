/* The resolved input of one run: what the YAML case (and its mesh) say, in SI units,
 * validated. Built by case_load.c (own format) or openbf.c (openBF networks); read by
 * network.c to lay out the flat arrays the kernels use. Owns every pointer it holds:
 * release with ht_case_free(). */
#ifndef HT_CASE_H
#define HT_CASE_H
#include <stddef.h>
#include "../kernels/waveform.h"

#define HT_NAME_MAX 64
#define HT_ERR_MAX 1024

/* Every input error is reported as "FILE:LINE: key 'a.b': what was expected". */
typedef struct {
    char msg[HT_ERR_MAX];
} ht_error;

typedef struct {
    char name[HT_NAME_MAX];
    int node_from, node_to;    /* indices into ht_case.node_names */
    double length;             /* m */
    double r_prox, r_dist;     /* m, lumen radius at the reference pressure, linear taper */
    double E;                  /* Pa, Young's modulus */
    double h;                  /* m, wall thickness; <= 0: empirical h(r) (see network.c) */
    double phi;                /* Pa s, Kelvin-Voigt wall viscosity; 0: elastic wall */
    double p_ref;              /* Pa, pressure at which the radius equals r_prox/r_dist */
    int n_cells;               /* 0: from numerics.dx */
    int n_points;              /* centreline points (0: generated layout) */
    double *points;            /* [n_points*3] m */
    char file[256];            /* where it was defined, for messages after loading */
    int line;
} ht_vessel_spec;

/* HT_INLET_HEART: made by the loader from a `heart:` section (the aortic root), never written
 * as an inlet in a case file. */
typedef enum { HT_INLET_FLOW = 0, HT_INLET_PRESSURE, HT_INLET_HEART } ht_inlet_kind;
typedef struct {
    int vessel;                /* inflow enters at the vessel's start (node_from) */
    ht_inlet_kind kind;
    ht_waveform wave;          /* m^3/s or Pa; table/coefficient arrays owned by the case */
    double tracer;             /* ECMO fraction of the inflowing blood, [0, 1] */
} ht_inlet_spec;

typedef enum { HT_OUTLET_WINDKESSEL = 0, HT_OUTLET_RESISTANCE, HT_OUTLET_REFLECTION,
               HT_OUTLET_CORONARY } ht_outlet_kind;
typedef struct {
    int vessel;                /* outflow leaves at the vessel's end (node_to) */
    ht_outlet_kind kind;
    double R1, C, R2;          /* Pa s/m^3, m^3/Pa, Pa s/m^3 (resistance: R1 = R, C = R2 = 0) */
    double p_out;              /* Pa, downstream (venous) pressure */
    double Rt;                 /* reflection coefficient, [-1, 1] */
    /* coronary (kernels/coronary.h): Ra is R1; Pa s/m^3 and m^3/Pa; P_im(t) in Pa
     * (its table/coefficient arrays owned by the case) */
    double Ca, Ram, Cim, Rv;
    ht_waveform pim;
} ht_outlet_spec;

typedef struct {
    char name[HT_NAME_MAX];
    int vessel;
    double x;                  /* m from the vessel start */
} ht_probe_spec;

/* The 0D heart and closed loop (`heart:`; kernels/heart_presets.h, docs/heart.md). With it
 * the case has one inlet, of kind HT_INLET_HEART at `vessel`, and every outlet drains into
 * the systemic veins (its p_out is not used). */
enum { HT_CH_LV = 0, HT_CH_RV, HT_CH_LA, HT_CH_RA, HT_CH_N };
enum { HT_CHP_EES = 0, HT_CHP_V0, HT_CHP_EMIN, HT_CHP_P0, HT_CHP_LAMBDA, HT_CHP_N };
typedef struct {
    int enabled;
    int preset;                /* HT_HEART_HEALTHY | HT_HEART_SHOCK (heart_presets.h) */
    int vessel;                /* its start is the aortic root */
    double heart_rate;         /* 1/s; 0: the preset's */
    double period;             /* s, the cardiac cycle (resolved: 1 / heart_rate or the preset's) */
    double chamber[HT_CH_N][HT_CHP_N]; /* SI (Pa/m^3, m^3, Pa/m^3, Pa, 1/m^3); NaN: the preset's */
    int valve;                 /* -1: the preset's (Mynard), else HT_VALVE_MYNARD | HT_VALVE_DIODE */
    double diode_R;            /* Pa s/m^3, resistance of diode valves */
    int bronchial_given;       /* 0: the preset's bronchial resistance */
    double bronchial_R;        /* Pa s/m^3, root -> pulmonary veins, if given; 0: none */
    double volume_change;      /* m^3 added to (< 0: taken from) the systemic veins */
    double total_volume;       /* m^3 of blood in the whole loop at t = 0; 0: not given */
    char file[256];            /* where the section is, for messages after loading */
    int line;
} ht_heart_spec;

/* A named anatomical site of the mesh (`sites:`), resolved to a vessel and a position. */
typedef struct {
    char name[HT_NAME_MAX];    /* free text as written ("aortic root") */
    int vessel;
    double x;                  /* m from the vessel start, in [0, length] */
    char file[256];            /* where it was defined, for messages after loading */
    int line;
} ht_site_spec;

/* Mechanical circulatory support (`devices:`; kernels/devices.h, docs/devices.md). Only in a
 * case with a heart. */
typedef struct {
    int impella;               /* 1: an Impella */
    int impella_model;         /* HT_IMPELLA_25 | _CP | _55 (kernels/impella.h) */
    int impella_level;         /* P-level 0..9; -1 when a speed is given */
    double impella_rpm;        /* rpm when given (level -1) */
    int ecmo;                  /* 1: femoral VA-ECMO */
    int ecmo_pump;             /* 0: prescribed flow; 1: pump model at ecmo_rpm */
    double ecmo_flow;          /* m^3/s (prescribed) */
    double ecmo_rpm;           /* rpm (pump) */
    int ecmo_vessel;           /* the vessel holding the return cannula tip */
    double ecmo_x;             /* m from its start */
    double S_oxy, S_native;    /* oxygen saturation of ECMO and native blood */
    int dpc;                   /* 1: a distal perfusion cannula */
    int dpc_vessel;            /* where it enters (antegrade, into the leg) */
    double dpc_x;              /* m from the vessel's start */
    double dpc_frac;           /* its share of the pump flow */
    char file[256];            /* where the section is, for messages after loading */
    int line;
} ht_devices_spec;

typedef enum { HT_LIMITER_MINMOD = 0, HT_LIMITER_MC, HT_LIMITER_SUPERBEE, HT_LIMITER_NONE } ht_limiter_kind;

typedef struct {
    char name[HT_NAME_MAX];
    char path[512];            /* the case file as given */

    /* blood */
    double rho;                /* kg/m^3 */
    double mu;                 /* Pa s */
    double zeta;               /* velocity-profile exponent (9 default, 2 Poiseuille) */
    double alpha;              /* momentum-flux correction (1 default) */

    /* network */
    int n_nodes;
    char (*node_names)[HT_NAME_MAX];
    int n_vessels;
    ht_vessel_spec *vessels;

    /* boundaries */
    int n_inlets;
    ht_inlet_spec *inlets;
    int n_outlets;
    ht_outlet_spec *outlets;

    /* numerics */
    double cfl;                /* (0, 1], default 0.9 */
    double dx;                 /* m, target cell size when a vessel gives no n_cells */
    int min_cells;             /* per vessel, default 4 */
    ht_limiter_kind limiter;   /* for A and Q, default mc (see tests/test_roundoff.c) */
    ht_limiter_kind tracer_limiter; /* default superbee: keeps the watershed front sharp */
    double junction_tol;       /* relative residual, default 1e-12 */
    int junction_maxit;        /* default 50 */
    int tracer;                /* 1: transport the ECMO fraction (default 1) */
    double p_init;             /* Pa, initial pressure everywhere (default: p_ref of vessel 0) */

    /* run */
    double period;             /* s, cardiac period (from the inlet waveform if not given) */
    int cycles;                /* default 10 */
    double t_end;              /* s; > 0 overrides cycles * period */
    double conv_tol;           /* periodic-state tolerance (relative), default 1e-3 */
    int stop_periodic;         /* 1: end the run at the first cycle within conv_tol (default 0) */

    /* output */
    double out_interval;       /* s between field samples, default period/100 */
    int n_probes;
    ht_probe_spec *probes;

    /* the resolved input (case + mesh + inlet files as read), stored in /config */
    char *config_text;

    /* named sites (the mesh's `sites:` table), in file order; see ht_case_site() */
    int n_sites;
    ht_site_spec *sites;

    /* the 0D heart (heart.enabled = 0 without a `heart:` section) */
    ht_heart_spec heart;

    /* devices (both flags 0 without a `devices:` section) */
    ht_devices_spec devices;
} ht_case;

/* Load a case file (own format, or an openBF network recognised by its `network:` list).
 * `sets` are "key.path=value" overrides applied before interpretation.
 * Returns 0 on success; on error fills err and returns 2 (the CLI's bad-input status). */
int ht_case_load(const char *path, const char *const *sets, int n_sets, ht_case *c, ht_error *err);
void ht_case_free(ht_case *c);

/* The vessel index and position (m from its start) of the named site. Names match ignoring
 * ASCII case, with ' ', '_' and '-' taken as the same character ("aortic root" =
 * "Aortic_Root"). Returns 0, or -1 (outputs untouched) when the case has no such site. */
int ht_case_site(const ht_case *c, const char *site, int *vessel, double *x);

/* Parse a quantity with units ("12 cm", "80 mmHg", "3.5 L/min"; a bare number is SI) into SI.
 * `dim` names the expected dimension: "length", "pressure", "flow", "time", "density",
 * "viscosity", "resistance", "compliance", "area", "volume", "velocity", "dimensionless",
 * "frequency", "elastance" (Pa/m^3, "2 mmHg/mL"), "inverse_volume" (1/m^3, "0.02 /mL").
 * Returns 0 on success; on failure writes a message naming what was expected into msg. */
int ht_units_parse(const char *text, const char *dim, double *value, char *msg, size_t msglen);

/* The dimensions `text` parses as, one bit per dimension ht_units_parse knows (a bare number
 * parses as every one), and its SI value (the same for all of them: the unit fixes the
 * factor); 0 when it parses as none. For values whose dimension the key path decides later
 * (ensembles, sweeps). */
unsigned ht_units_parse_any(const char *text, double *value);

#endif
