/* A network's state and the loop that advances it: chooses each step's dt (CFL, landing
 * on output times), runs the backend's step, samples the probes after every step. The
 * driver decides what to write; the solver knows nothing of files. */
#ifndef HT_SOLVER_H
#define HT_SOLVER_H
#include <stddef.h>
#include "network.h"

typedef struct {
    const ht_network *nw;       /* borrowed */
    ht_state U;
    ht_work w;
    ht_clock clk;
    real *buf;                  /* one allocation behind U and w */
    /* probe samples since the last drain: [n][n_probes] each */
    size_t pn, pcap;
    double *pt, *pp, *pq, *pa;
} ht_solver;

int ht_solver_init(ht_solver *s, const ht_network *nw);   /* 0 or -1 (out of memory) */
void ht_solver_free(ht_solver *s);

/* Step until clk.t == t_stop. Returns HT_OK or the failure code (details in s->clk). */
int ht_solver_advance(ht_solver *s, double t_stop);

/* Blood volume stored in the vessels, m^3. */
double ht_solver_volume(const ht_solver *s);

/* Forget drained probe samples. */
void ht_solver_probe_clear(ht_solver *s);

#endif
