/* Parameter ensembles: a case's `ensemble:` section names values (by --set key path) that
 * vary per member, as lists or ranges, combined as a Cartesian product or zipped. Member k
 * is by construction the single run `hemotree run CASE --set <the command's sets>...
 * --set key=value...`: it is loaded through ht_case_load with its overrides appended. This
 * module enumerates members, runs them in launches of stacked members (ht_run_members: one
 * launch on the GPU, one member per thread on the CPU) and writes the summary
 * OUT_summary.csv / OUT_summary.h5. Syntax: docs/input.md, "Ensembles". */
#ifndef HT_ENSEMBLE_H
#define HT_ENSEMBLE_H
#include "case.h"
#include "driver.h"
#include <stdio.h>

#define HT_ENS_MAX_MEMBERS 100000L
#define HT_ENS_BATCH 256   /* members per launch by default: a GPU's worth, and open files */

/* rows: member k takes row k of a CSV file (sweeps, ht_ensemble_rows) */
typedef enum { HT_ENS_PRODUCT = 0, HT_ENS_ZIP, HT_ENS_ROWS } ht_ens_combine;

typedef struct {
    char *key;          /* the key path, as under ensemble.parameters */
    int line;           /* where it is written, for messages */
    int n;              /* number of values (>= 1) */
    char **text;        /* [n] the value handed to --set: as written for lists, "%.17g" SI for ranges */
    double *si;         /* [n] the value in SI units */
} ht_ens_param;

typedef struct {
    char *path;                 /* the case file */
    ht_ens_combine combine;
    int n_params;
    ht_ens_param *params;
    long n_members;             /* 0: the case declares no ensemble */
    int n_sets;                 /* the command's own --set overrides, applied to every member first */
    char **sets;
} ht_ensemble;

/* Reads the `ensemble:` section of `path` (after the `ensemble.*` entries of `sets`) and
 * checks it: every value a number (optionally with a unit), ranges, counts, zip lengths,
 * at most HT_ENS_MAX_MEMBERS members, the base case loads, and every key path can be set
 * (at least one of its values loads on the base case: a typo is reported as an unknown key).
 * Returns 0 with n_members == 0 when the file has no ensemble (or cannot be parsed, or is
 * an openBF network: ht_case_load then reports why); 0 with n_members > 0 for an ensemble;
 * 2 with "FILE:LINE: key 'ensemble.parameters.X': ..." in err. */
int ht_ensemble_load(const char *path, const char *const *sets, int n_sets, ht_ensemble *e, ht_error *err);
void ht_ensemble_free(ht_ensemble *e);

/* The same checks on an ensemble-style map `ens` (its combine: and parameters:; other keys
 * are the caller's to check) for the case file `path`: messages name keys
 * "<section>.parameters.X" ("parameters.X" when section is ""). The case needs no
 * `ensemble:` section (sweeps: docs/input.md, "Sweeps"). 0 or 2 (e is then empty). */
struct yt_node;
int ht_ensemble_parse(const char *path, const struct yt_node *ens, const char *section, const char *const *sets,
                      int n_sets, ht_ensemble *e, ht_error *err);

/* Members from the rows of a CSV file: the header names key paths, each following line is
 * one member's values (numbers with optional units, as --set takes them; blank lines and
 * lines starting with # skipped). combine is HT_ENS_ROWS; the same checks as above
 * ("CSV:LINE: key 'KEY': ..."). 0 or 2. */
int ht_ensemble_rows(const char *path, const char *csv_path, const char *const *sets, int n_sets, ht_ensemble *e,
                     ht_error *err);

/* Index into params[p].text/si of member k's value (k in row-major order of the product,
 * the first parameter varying slowest; for zip and rows, k itself). */
int ht_ensemble_value_index(const ht_ensemble *e, long k, int p);

/* The overrides of member k: the command's sets, then "key=value" for each parameter.
 * *out is an array of n_out malloc'ed strings; release with ht_ensemble_sets_free. 0 or -1
 * (out of memory). */
int ht_ensemble_member_sets(const ht_ensemble *e, long k, char ***out, int *n_out);
void ht_ensemble_sets_free(char **sets, int n);

/* Loads member k as ht_case_load would with its overrides (returns its status, 0 or 2). */
int ht_ensemble_load_member(const ht_ensemble *e, long k, ht_case *c, ht_error *err);

/* Members ks[0..count-1] in-process, in launches (ht_run_members) of consecutive members
 * that share a network shape and an output schedule; member ks[i] writes out[i] and ends
 * as res[i] (code 2 with the message when it does not load). Returns 0, or -1 when out of
 * memory. A crash in a launch takes the calling process down: ht_ensemble_run runs each
 * chunk in a child process. */
int ht_ensemble_run_chunk(const ht_ensemble *e, const long *ks, long count, const ht_run_opts *o,
                          const char *const *out, ht_member_result *res);

/* "<dir><prefix><k>.h5", k zero-padded to the digits of M - 1 */
void ht_ensemble_member_path(char *out, size_t len, const char *dir, const char *prefix, long k, long M);

/* One row of the summary per member. */
typedef struct {
    int code;               /* the member's exit status: 0 ok, 1 failed run, 2 bad input */
    double imbalance;       /* m^3, /metrics/volume imbalance; NaN when not written */
    double periodicity;     /* last /metrics/periodicity relative_change; NaN when none */
} ht_ens_outcome;

typedef struct {
    ht_ens_outcome *r;      /* [M] */
    char **msg;             /* [M] NULL when none */
    char **out;             /* [M] member output files ("" when none) */
    double *wall;           /* [M] s */
} ht_ens_results;

/* CSV cells: the shortest decimal that reads back as exactly x; a double-quoted text
 * ("" for ", newlines as spaces) */
void ht_csv_num(FILE *f, double x);
void ht_csv_text(FILE *f, const char *s);
/* One CSV field from *p into out (double quotes optional, "" inside them is one ", spaces
 * around it trimmed, cut to len - 1 bytes); *p is left after the field's comma, or at the
 * line's end. 0, or -1 for an unterminated quote or text after a closing one. */
int ht_csv_next(const char **p, char *out, size_t len);

/* The summary table (docs/input.md, "Ensembles") to csv and h5. 0, or -1 (said on stderr). */
int ht_ensemble_write_summary(const ht_ensemble *e, const ht_ens_results *R, const char *csv, const char *h5);

/* `hemotree run` on an ensemble: every member to OUT_m<k>.h5 (+ .xdmf), then the summary.
 * Members run in launches of up to `batch` (<= 0: HT_ENS_BATCH) that share a network shape:
 * all at once on the GPU, one per thread on the CPU (`threads` OpenMP threads; <= 0: the
 * OpenMP default). Returns 0 when every member completed, 1 when one failed, 2 for bad
 * input. */
int ht_ensemble_run(const ht_ensemble *e, const ht_run_opts *o, int threads, int batch);

/* `hemotree check` on an ensemble: the base case's network summary, the member count and
 * the table of parameter values; every member is loaded. 0, or 2 if a member is bad input. */
int ht_ensemble_check(const ht_ensemble *e);

#endif
