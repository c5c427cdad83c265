/* CUDA backend: the same step as kernels/cpu (kernels/step.h, boundary.h, junction.h), run
 * entirely on the device. The host only launches and collects output. Plain C interface so
 * src/ can call it from C11; compiled by nvcc. */
#ifndef HT_BACKEND_CUDA_H
#define HT_BACKEND_CUDA_H
#include <stddef.h>
#include "../net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ht_cuda ht_cuda;

/* 1 when a CUDA device can be used; otherwise 0 with the reason in msg. */
int ht_cuda_available(char *msg, size_t len);

/* Copy a network (host pointers in `net`), its initial state and outlet pressures (pc, and
 * pcim of coronary outlets; either may be NULL) to the device. Returns 0, or nonzero with a
 * message. */
int ht_cuda_create(const ht_net *net, const ht_state *U, const real *pc, const real *pcim,
                   ht_cuda **out, char *err, size_t len);

/* Step until the device clock reaches t_stop (dt chosen on the device from the CFL
 * condition and clamped to land on t_stop). clk is updated from the device (time, step count,
 * failure code, index, time). Probe samples taken after every step are returned through
 * *n and the four pointers (host buffers owned by the backend, [n] times and [n][n_probes]
 * values, valid until the next call). Returns HT_OK or the failure code; nonzero CUDA
 * errors are reported in err and return -1. */
int ht_cuda_advance(ht_cuda *g, double t_stop, ht_clock *clk, size_t *n, const double **t,
                    const double **p, const double **q, const double **a, char *err, size_t len);

/* Copy the state, outlet pressures and volume accounts back (any pointer may be NULL). */
int ht_cuda_fetch(ht_cuda *g, ht_state *U, real *pc, real *pcim, real *vol_in, real *vol_out,
                  char *err, size_t len);

void ht_cuda_destroy(ht_cuda *g);

#ifdef __cplusplus
}
#endif
#endif
