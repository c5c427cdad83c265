/* A network's state and the loop that advances it: chooses each step's dt (CFL, landing
 * on output times), runs the backend's step, samples the probes after every step. The
 * driver decides what to write; the solver knows nothing of files.
 *
 * The network may be an ensemble's stacked members (net.h): every member has its own clock
 * and its own probe rows, and a member that fails stops alone. */
#ifndef HT_SOLVER_H
#define HT_SOLVER_H
#include <stddef.h>
#include "network.h"
#ifdef HT_HAVE_CUDA
#include "cuda/backend_cuda.h"
#endif

/* Probe samples of one member since the last drain: t [n], p, q, a [n][m_probes]; with a
 * heart also h [n][HT_HEART_NSAMP] (kernels/heart_stage.h, ht_heart_sample), one row per
 * step as the probes. */
typedef struct {
    size_t n, cap;
    double *t, *p, *q, *a, *h;
} ht_probe_rows;

typedef struct {
    const ht_network *nw;       /* borrowed */
    int M;                      /* members (1 for a single run) */
    ht_state U;
    ht_work w;
    ht_clock *clk;              /* [M] */
    ht_probe_rows *rows;        /* [M] */
    real *buf;                  /* one allocation behind U and w */
    real *hbuf;                 /* the heart's work arrays (closed loop only) */
#ifdef HT_HAVE_CUDA
    int backend;                /* 0 cpu, 1 cuda (ht_solver_use_cuda) */
    ht_cuda *gpu;               /* the device copy when backend == 1 */
    int no_ahead;               /* HEMOTREE_CUDA_AHEAD=0: ht_solver_advance_ahead never begins ahead */
#endif
} ht_solver;

int ht_solver_init(ht_solver *s, const ht_network *nw);   /* 0 or -1 (out of memory) */
void ht_solver_free(ht_solver *s);

/* Run on the CUDA backend from now on: copies the network and the current (initial) state
 * to the device. Call before the first step. Returns 0, or nonzero with a message in err
 * (no usable device, or a build without CUDA). */
int ht_solver_use_cuda(ht_solver *s, char *err, size_t len);

/* Step every member that has not failed until its clock reaches t_stop. Returns HT_OK when
 * none has failed, else the code of the lowest failed member (details in each s->clk[m]);
 * -1 when the CUDA backend hit a CUDA runtime error (message on stderr). With the CUDA
 * backend, s->U and the pressures and volume accounts of s->w are copied back before it
 * returns. */
int ht_solver_advance(ht_solver *s, double t_stop);

/* ht_solver_advance, and then, with the CUDA backend and t_next > t_stop, the device already
 * steps on towards t_next while the output at t_stop is copied back and while the caller
 * uses it; the next call, which must be for t_next, takes that interval up. So a member the
 * caller stops in between (s->clk[m].fail set) has stepped up to a chunk of steps (at most
 * to t_next) past t_stop: use it where such a member's later state is never read (a member
 * whose output failed), and t_next = 0 where a stop may matter (periodic state) or a
 * checkpoint follows (ht_solver_state_sync fails while an interval is in progress). On the
 * CPU backend the same as ht_solver_advance. */
int ht_solver_advance_ahead(ht_solver *s, double t_stop, double t_next);

/* The whole state between the host arrays and the device (a checkpoint's content): with
 * to_device 0 the host gets every array and clock the device holds (before a checkpoint is
 * written), with 1 the device gets the host's (after one is read). Nothing to do on the CPU
 * backend. 0, or -1 with a message. */
int ht_solver_state_sync(ht_solver *s, int to_device, char *err, size_t len);

/* Blood volume stored in member m's vessels, m^3. */
double ht_solver_volume(const ht_solver *s, int m);

/* Blood volume of member m's whole system at its clock's time, m^3: the vessels, the outlet
 * compliances (windkessel C pc; coronary Ca p1 + Cim (p2 - P_im)) and, with a heart, the 0D
 * compartments. In a closed loop it is conserved (kernels/heart_stage.h). */
double ht_solver_total_volume(const ht_solver *s, int m);

/* Forget drained probe samples (all members). */
void ht_solver_probe_clear(ht_solver *s);

#endif
