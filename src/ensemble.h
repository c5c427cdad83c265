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

#define HT_ENS_MAX_MEMBERS 100000L
#define HT_ENS_BATCH 256   /* members per launch by default: a GPU's worth, and open files */

typedef enum { HT_ENS_PRODUCT = 0, HT_ENS_ZIP } ht_ens_combine;

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

/* Index into params[p].text/si of member k's value (k in row-major order of the product,
 * the first parameter varying slowest; for zip, k itself). */
int ht_ensemble_value_index(const ht_ensemble *e, long k, int p);

/* The overrides of member k: the command's sets, then "key=value" for each parameter.
 * *out is an array of n_out malloc'ed strings; release with ht_ensemble_sets_free. 0 or -1
 * (out of memory). */
int ht_ensemble_member_sets(const ht_ensemble *e, long k, char ***out, int *n_out);
void ht_ensemble_sets_free(char **sets, int n);

/* Loads member k as ht_case_load would with its overrides (returns its status, 0 or 2). */
int ht_ensemble_load_member(const ht_ensemble *e, long k, ht_case *c, ht_error *err);

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
