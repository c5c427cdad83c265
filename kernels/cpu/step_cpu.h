/* CPU backend: OpenMP loops over the functions of kernels/step.h, boundary.h and
 * junction.h. It is also the reference the CUDA backend is checked against.
 *
 * Every call works on one member m of a (possibly stacked) network: its cells, faces,
 * boundaries and vessels, with its own clock. Members never touch each other's data, so the
 * solver runs them side by side (one thread each) or, for a single run, splits the member's
 * cell loops over threads. */
#ifndef HT_STEP_CPU_H
#define HT_STEP_CPU_H
#include "../net.h"

/* The CFL-limited time step of member m of state U, not exceeding clk->t_stop - clk->t
 * (ht_cpu_step takes it itself; this is for a look at the first step). */
real ht_cpu_dt(const ht_net *n, const ht_state *U, const ht_clock *clk, int m);

/* One SSP-RK2 step of member m from clk->t: the CFL step (as ht_cpu_dt, into clk->dt; a
 * step that is not positive fails with HT_FAIL_CFL at the member's first cell), then its
 * part of U advanced in place, clk->t and clk->step advanced. Returns HT_OK, or a failure
 * code also recorded in clk (first failure: code, global cell index, time). */
int ht_cpu_step(const ht_net *n, ht_state *U, ht_work *w, ht_clock *clk, int m);

#endif
