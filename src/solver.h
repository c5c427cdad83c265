/* A network's state and the loop that advances it: chooses each step's dt (CFL, landing
 * on output times), runs the backend's step, samples the probes after every step. The
 * driver decides what to write; the solver knows nothing of files. */
#ifndef HT_SOLVER_H
#define HT_SOLVER_H
#include <stddef.h>
#include "network.h"
#ifdef HT_HAVE_CUDA
#include "cuda/backend_cuda.h"
#endif

typedef struct {
    const ht_network *nw;       /* borrowed */
    ht_state U;
    ht_work w;
    ht_clock clk;
    real *buf;                  /* one allocation behind U and w */
    /* probe samples since the last drain: [n][n_probes] each */
    size_t pn, pcap;
    double *pt, *pp, *pq, *pa;
#ifdef HT_HAVE_CUDA
    int backend;                /* 0 cpu, 1 cuda (ht_solver_use_cuda) */
    ht_cuda *gpu;               /* the device copy when backend == 1 */
#endif
} ht_solver;

int ht_solver_init(ht_solver *s, const ht_network *nw);   /* 0 or -1 (out of memory) */
void ht_solver_free(ht_solver *s);

/* Run on the CUDA backend from now on: copies the network and the current (initial) state
 * to the device. Call before the first step. Returns 0, or nonzero with a message in err
 * (no usable device, or a build without CUDA). */
int ht_solver_use_cuda(ht_solver *s, char *err, size_t len);

/* Step until clk.t == t_stop. Returns HT_OK or the failure code (details in s->clk); -1 when
 * the CUDA backend hit a CUDA runtime error (message on stderr). With the CUDA backend, s->U
 * and the pressures and volume accounts of s->w are copied back before it returns. */
int ht_solver_advance(ht_solver *s, double t_stop);

/* Blood volume stored in the vessels, m^3. */
double ht_solver_volume(const ht_solver *s);

/* Forget drained probe samples. */
void ht_solver_probe_clear(ht_solver *s);

#endif
