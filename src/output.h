/* HDF5 + XDMF output of one run (layout: README "Output"). The writer owns the file; every
 * append is flushed so a run that fails later leaves a readable file up to its last sample.
 * Only the driver calls this; kernels never see HDF5.
 *
 * Layout of OUT.h5 (float64 unless said; every dataset has a string attribute "units"):
 *   /                       attributes format = "hemotree-output 1", status ("running" from
 *                           open until ht_output_attr changes it)
 *   /time                   [n_t] s; its length is the number of complete output times
 *   /fields/<f>             [n_t, n_cells], f = pressure Pa, flow m^3/s, area m^2,
 *                           velocity m/s, ecmo_fraction 1 (tracer only); chunked [rows, all
 *                           cells], shuffle + deflate, unlimited along time
 *   /xdmf/<f>/<k>           [n_cells] virtual dataset = row k of /fields/<f> (source file
 *                           "."), what OUT.xdmf points at; made in batches just before each
 *                           XDMF rewrite, so an unclosed file may have fewer than n_t
 *   /mesh/points            [n_points, 3] m
 *   /mesh/segments          [n_cells, 2] int32, point indices of each cell ("1")
 *   /mesh/vessel_id         [n_cells] int32 ("1"); /mesh/x [n_cells] m
 *   /mesh/vessel_names      [n_vessels] variable-length UTF-8 strings ("1")
 *   /probes/<name>/{time,pressure,flow,area}   [n_samples] s, Pa, m^3/s, m^2, unlimited
 *   /heart/<var>            [n_samples] the 0D heart every step (runs with a heart; see
 *                           ht_output_heart), unlimited
 *   /config/input           scalar UTF-8 string, the resolved input ("1"); /config has
 *                           attributes version, git_hash, case_name
 *   /metrics/... (any path ht_output_table is given)   one [n_rows] dataset per column,
 *                           group attribute "columns" (names in order)
 * Sidecar: OUT.xdmf beside OUT.h5 (OUT.h5/.hdf5/.hdf -> OUT.xdmf, any other name gets
 * ".xdmf" appended). A Temporal collection of Uniform grids, one per output time: Polyline
 * NodesPerElement=2 over /mesh/segments, XYZ over /mesh/points, cell attributes vessel_id,
 * x and each field (through /xdmf/<f>/<k>), HDF paths relative to the XDMF. It is rewritten
 * atomically (OUT.xdmf.tmp, fsync, rename) at open, when the number of output times has
 * doubled, every 64 output times at most once per 10 s, and at close; it never names a row
 * that is not flushed. */
#ifndef HT_OUTPUT_H
#define HT_OUTPUT_H
#include <stddef.h>

typedef struct ht_output ht_output;

typedef struct {
    const char *path;               /* OUT.h5; the sidecar is OUT.xdmf */
    int n_cells, n_vessels, n_points;
    const double *points;           /* [n_points*3] m */
    const int *segments;            /* [n_cells*2] point indices of each cell */
    const int *vessel_id;           /* [n_cells] */
    const double *x;                /* [n_cells] m, cell centre from vessel start */
    const char *const *vessel_names;/* [n_vessels] */
    int tracer;                     /* also write /fields/ecmo_fraction */
    int saturation;                 /* with tracer: also /fields/saturation (ht_output_fields_sat) */
    int n_probes;
    const char *const *probe_names; /* [n_probes] */
    int heart;                      /* the run has a 0D heart: create /heart (ht_output_heart) */
    double heart_lv[5];             /* its LV: Ees (Pa/m^3), V0 (m^3), Emin (Pa/m^3), P0 (Pa),
                                     * lambda (1/m^3), attributes lv_* of /heart (the ESPVR and
                                     * EDPVR that PV-loop plots draw) */
    const char *config_text;        /* resolved input */
    const char *case_name;
    const char *version, *git_hash;
    double flush_seconds;           /* appends flush at most this often in wall time;
                                       0 flushes every append (tests) */
} ht_output_desc;

/* All functions return 0 on success, nonzero on failure with a message in err, which names
 * the file and the dataset. HDF5's own error printing is off during these calls.
 * open creates (truncates) d->path, and only that path and its sidecar; a missing output
 * directory is reported as such. Probe names must be usable as HDF5 group names. */
int ht_output_open(const ht_output_desc *d, ht_output **out, char *err, size_t errlen);

/* Checkpoint/restart (src/checkpoint.h, driver.c). sync flushes the file to disk and gives
 * the sample counts written so far: output times, heart rows and each probe's samples
 * (probe_n [n_probes], may be NULL). reopen opens an existing OUT.h5 of the same case (the
 * same desc as its open) for append, cuts /time, /fields, /heart and /probes back to those
 * counts (what a killed run wrote after its checkpoint is dropped), removes /xdmf rows past
 * them, sets status "running" and rewrites the XDMF. A file with fewer samples than the
 * counts is refused. */
int ht_output_sync(ht_output *o, unsigned long long *n_t, unsigned long long *heart_n, unsigned long long *probe_n,
                   char *err, size_t errlen);
int ht_output_reopen(const ht_output_desc *d, unsigned long long n_t, unsigned long long heart_n,
                     const unsigned long long *probe_n, ht_output **out, char *err, size_t errlen);

/* Append one output time: each array [n_cells]; c may be NULL when tracer is off. */
int ht_output_fields(ht_output *o, double t, const double *p, const double *q,
                     const double *a, const double *u, const double *c,
                     char *err, size_t errlen);
/* The same with the oxygen saturation sat [n_cells] (desc.saturation; NULL otherwise). */
int ht_output_fields_sat(ht_output *o, double t, const double *p, const double *q,
                         const double *a, const double *u, const double *c, const double *sat,
                         char *err, size_t errlen);

/* Append n samples to /probes/<name>/{time,pressure,flow,area}; n = 0 does nothing. */
int ht_output_probe(ht_output *o, int probe, size_t n, const double *t, const double *p,
                    const double *q, const double *a, char *err, size_t errlen);

/* Append n samples of the 0D heart to /heart/{time, lv_pressure, lv_volume, la_pressure,
 * aortic_valve_flow, mitral_valve_flow, aortic_valve_state, rv_pressure, rv_volume,
 * ra_pressure, pa_pressure, sv_pressure, root_pressure, impella_flow, ecmo_flow,
 * bronchial_flow} (SI: s, Pa, m^3, m^3/s, 1): t [n], rows [n][15] in that order after the time (kernels/heart_stage.h, HT_HS_*). Only for an
 * output opened with heart = 1; n = 0 does nothing. */
int ht_output_heart(ht_output *o, size_t n, const double *t, const double *rows, char *err, size_t errlen);

/* Write (replace) a table: one 1D dataset per column under group `path` (e.g.
 * "/metrics/convergence"), each with a units attribute. data is row-major [n_rows*n_cols].
 * Missing parent groups are created. A path inside /time, /fields, /mesh, /probes, /config
 * or /xdmf, or an existing object that is not a table, is refused. */
int ht_output_table(ht_output *o, const char *path, size_t n_rows, int n_cols,
                    const char *const *names, const char *const *units, const double *data,
                    char *err, size_t errlen);

/* Write a 1D dataset of n strings at `path` (its group must exist, e.g. a table's). */
int ht_output_strings(ht_output *o, const char *path, size_t n, const char *const *v, char *err, size_t errlen);

/* Set (replace) a string attribute on the root (e.g. status = "failed: ..."), flushed. */
int ht_output_attr(ht_output *o, const char *name, const char *value);

/* Flush, finish the XDMF, close. Safe on NULL. Returns 0 on success. */
int ht_output_close(ht_output *o, char *err, size_t errlen);

#endif

/* ------------------------------------------------------------------------------------------
 * Standalone table files and reading back: for tools that summarise many runs (ensembles).
 * They live here so that HDF5 stays inside the output layer. */

typedef struct {
    const char *name;       /* dataset name inside the group (no '/') */
    const char *units;
    char kind;              /* 'd' double, 'i' int, 's' UTF-8 string */
    const void *data;       /* [n_rows] of double, int or const char * */
    const char *key;        /* optional string attribute "key" on the column (NULL: none) */
} ht_column;

typedef struct {
    const char *name;
    const char *text;       /* a string attribute, or NULL for the number below */
    double number;
} ht_attr;

/* Create (truncate) `path` with root attributes and one group of columns; the group gets a
 * `columns` attribute listing the names in order, as /metrics tables have. 0 or -1 + err. */
int ht_table_file_write(const char *path, const ht_attr *attrs, int n_attrs, const char *group,
                        const ht_column *cols, int n_cols, size_t n_rows, char *err, size_t errlen);

/* The last element of a 1D dataset (e.g. "/metrics/periodicity/relative_change") of an
 * output file; NaN when the file, the dataset or its data are missing. */
double ht_output_read_last(const char *path, const char *dataset);

/* The last row of a /metrics table of an output file (e.g. "/metrics/cycles"): its column
 * names in the table's order, their units and values (NaN where a column has no data). A
 * missing file or table gives n = 0. 0, or -1 out of memory. */
typedef struct {
    int n;
    char **names, **units;
    double *v;
} ht_table_row;
int ht_output_read_row(const char *path, const char *group, ht_table_row *row);
void ht_table_row_free(ht_table_row *r);
