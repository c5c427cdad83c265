/* HDF5 + XDMF output of one run (layout: README "Output"). The writer owns the file; every
 * append is flushed so a run that fails later leaves a readable file up to its last sample.
 * Only the driver calls this; kernels never see HDF5. */
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
    int n_probes;
    const char *const *probe_names; /* [n_probes] */
    const char *config_text;        /* resolved input */
    const char *case_name;
    const char *version, *git_hash;
} ht_output_desc;

/* All functions return 0 on success, nonzero on failure with a message in err. */
int ht_output_open(const ht_output_desc *d, ht_output **out, char *err, size_t errlen);

/* Append one output time: each array [n_cells]; c may be NULL when tracer is off. */
int ht_output_fields(ht_output *o, double t, const double *p, const double *q,
                     const double *a, const double *u, const double *c,
                     char *err, size_t errlen);

/* Append n samples to /probes/<name>/{time,pressure,flow,area}. */
int ht_output_probe(ht_output *o, int probe, size_t n, const double *t, const double *p,
                    const double *q, const double *a, char *err, size_t errlen);

/* Write (replace) a table: one 1D dataset per column under group `path` (e.g.
 * "/metrics/convergence"), each with a units attribute. data is row-major [n_rows*n_cols]. */
int ht_output_table(ht_output *o, const char *path, size_t n_rows, int n_cols,
                    const char *const *names, const char *const *units, const double *data,
                    char *err, size_t errlen);

/* Set a string attribute on the root (e.g. status = "failed: ..."). */
int ht_output_attr(ht_output *o, const char *name, const char *value);

/* Flush, finish the XDMF, close. Safe on NULL. Returns 0 on success. */
int ht_output_close(ht_output *o, char *err, size_t errlen);

#endif
