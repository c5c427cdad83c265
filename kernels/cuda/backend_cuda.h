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
 * pcim of coronary outlets; either may be NULL) and, in a closed loop (net->heart), the
 * members' initial heart states hX and coronary LV references h_plv_ref [n_members] to the
 * device. Returns 0, or nonzero with a
 * message. */
int ht_cuda_create(const ht_net *net, const ht_state *U, const real *pc, const real *pcim,
                   const struct ht_heart_state_s *hX, const real *h_plv_ref, ht_cuda **out, char *err,
                   size_t len);

/* Probe samples of one member taken during one ht_cuda_advance call: t [n], p, q, a
 * [n][m_probes], and with a heart h [n][HT_HEART_NSAMP] (kernels/heart_stage.h) (host
 * buffers owned by the backend, valid until the next call). */
typedef struct {
    size_t n;
    const double *t, *p, *q, *a, *h;
} ht_cuda_rows;

/* Step every member (net->n_members, each with its own device clock) until its clock
 * reaches t_stop or it fails (dt chosen on the device from the CFL condition and clamped
 * to land on t_stop). clk[m] is updated from the device (time, step count, failure code,
 * index, time). *rows points at n_members ht_cuda_rows. Returns HT_OK when no member has
 * failed, else the lowest failed member's code; CUDA errors are reported in err and
 * return -1. Takes up the interval that ht_cuda_begin started, if any (it must end at the
 * same t_stop). A member the host stops (clk[m].fail set) is skipped from the next chunk
 * of steps on. */
int ht_cuda_advance(ht_cuda *g, double t_stop, ht_clock *clk, const ht_cuda_rows **rows, char *err,
                    size_t len);

/* Start stepping towards t_stop (the first chunk of steps is launched) and return at once:
 * the device steps while the host uses the output of the last ht_cuda_advance. Member
 * clocks as in ht_cuda_advance, which must come next, with the same t_stop. 0 or -1. */
int ht_cuda_begin(ht_cuda *g, double t_stop, const ht_clock *clk, char *err, size_t len);

/* Page-lock [p, p + bytes) of host memory that ht_cuda_fetch_start copies into, so that those
 * copies run at the bus's speed (pageable memory goes through a driver staging buffer at a
 * fraction of it). Optional: 0 when pinned, 1 when not (the copies then work as before).
 * Unpinned by ht_cuda_destroy, which must come before the memory is freed. */
int ht_cuda_pin(ht_cuda *g, void *p, size_t bytes);

/* Copy the state, outlet pressures, volume accounts, heart states and the heart's buffer
 * (ht_heart_layout: LV references, device flows, the ECMO volume account) back (any pointer
 * may be NULL), as they are after the last ht_cuda_advance. Started here, in the device's
 * order after that interval: a snapshot on the device, copied to the host on a stream of
 * its own, so that an interval begun next (ht_cuda_begin) runs beside the copy. The host
 * arrays are written until ht_cuda_fetch_wait returns; the host must not touch them before.
 * Not while an interval is in progress. 0 or -1. */
int ht_cuda_fetch_start(ht_cuda *g, ht_state *U, real *pc, real *pcim, real *vol_in, real *vol_out,
                        struct ht_heart_state_s *hX, real *hbuf, char *err, size_t len);
int ht_cuda_fetch_wait(ht_cuda *g, char *err, size_t len);

/* The whole state, both ways (to_device 1: host -> device, 0: device -> host): the buffer
 * behind U and ht_work (ht_work_layout), with a heart its buffer (ht_heart_layout) and hX,
 * hX0, hlink, h_fail [n_members], and the members' clocks. What a checkpoint holds, so
 * that a run continues on the device bit for bit (src/driver.c). Not while an interval is
 * in progress or a fetch is not waited for. */
int ht_cuda_state(ht_cuda *g, int to_device, real *buf, real *hbuf, struct ht_heart_state_s *hX,
                  struct ht_heart_state_s *hX0, struct ht_heart_lv_link_s *hlink, int *h_fail,
                  ht_clock *clk, char *err, size_t len);

void ht_cuda_destroy(ht_cuda *g);

#ifdef __cplusplus
}
#endif
#endif
