/* One run from a loaded case to a written output file, and the `check` summary. */
#ifndef HT_DRIVER_H
#define HT_DRIVER_H
#include "case.h"

typedef struct {
    const char *out_path;   /* NULL: <case name>.h5 in the working directory */
    int cycles;             /* > 0 overrides run.cycles */
    int progress;           /* print a progress line (the CLI sets it when stdout is a tty) */
    int quiet;              /* no summary */
    int backend;            /* HT_BACKEND_* */
} ht_run_opts;

enum { HT_BACKEND_AUTO = 0, HT_BACKEND_CPU, HT_BACKEND_CUDA };

/* Returns the CLI exit status: 0 ok, 1 the run failed, 2 bad input. */
int ht_run(const ht_case *c, const ht_run_opts *o);
int ht_check(const ht_case *c);

#endif
