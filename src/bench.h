/* `hemotree bench`: time the solver (no output files) on the standard networks. */
#ifndef HT_BENCH_H
#define HT_BENCH_H

typedef struct {
    int backend;              /* HT_BACKEND_* (driver.h) */
    int cycles;               /* cardiac cycles per network (default 2) */
    int json;                 /* print one JSON object instead of a table */
    const char *cases_dir;    /* folder with the benchmark cases (default: the source tree's) */
    int n_members;            /* ensemble sizes to time, each a launch of that many members */
    int members[16];          /* (0 entries: 1) */
    const char *networks;     /* comma-separated subset of the networks' short names, or NULL */
} ht_bench_opts;

/* Returns the CLI exit status: 0 ok, 1 a run failed, 2 bad input. */
int ht_bench(const ht_bench_opts *o);

#endif
