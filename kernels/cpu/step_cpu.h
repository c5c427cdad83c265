/* CPU backend: OpenMP loops over the functions of kernels/step.h, boundary.h and
 * junction.h. It is also the reference the CUDA backend is checked against. */
#ifndef HT_STEP_CPU_H
#define HT_STEP_CPU_H
#include "../net.h"

/* The CFL-limited time step of state U, not exceeding clk->t_stop - clk->t. */
real ht_cpu_dt(const ht_net *n, const ht_state *U, const ht_clock *clk);

/* One SSP-RK2 step of length clk->dt from clk->t: U is advanced in place, clk->t and
 * clk->step advance. Returns HT_OK, or a failure code also recorded in clk (first failure:
 * code, cell/junction/outlet index, time). */
int ht_cpu_step(const ht_net *n, ht_state *U, ht_work *w, ht_clock *clk);

#endif
