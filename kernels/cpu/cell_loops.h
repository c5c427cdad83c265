/* The CPU step's loops over one thread's cells [a, b) (cell_loops.c): each walks the cells
 * vessel by vessel and calls the per-cell and per-face functions of step.h, vectorised.
 * step_cpu.c calls them inside its parallel region, one share of the cells per thread. */
#ifndef HT_CELL_LOOPS_H
#define HT_CELL_LOOPS_H
#include "../net.h"

/* This thread's share [*a, *b) of the cells [lo, hi): contiguous, sizes differing by one at
 * most (as schedule(static) deals them), so every loop of a stage gives a thread the same
 * cells and it finds their values in its cache. Outside a parallel region: all of them. */
void ht_cpu_thread_cells(int lo, int hi, int *a, int *b);
/* The same for thread t of nt given (ht_cpu_thread_cells: the calling OpenMP thread's). */
void ht_cpu_share(int lo, int hi, int t, int nt, int *a, int *b);

/* The step's first pass: U0 = U, stage 0's prep (w->cp, w->cc) and the CFL rates (w->rate);
 * returns the largest rate. done: the previous step's stage 1 left cp, cc and rate for this
 * U (ht_cpu_update_cells), so only U0 and the maximum are taken. */
real ht_cpu_begin_cells(const ht_net *n, const ht_state *U, ht_work *w, int a, int b, int done);

/* Face values of the cells (ht_reconstruct_cell). */
void ht_cpu_reconstruct_cells(const ht_net *n, const ht_state *U, ht_work *w, int a, int b);

/* The interior faces right of the cells (a vessel's last cell excepted). */
void ht_cpu_flux_cells(const ht_net *n, ht_work *w, int a, int b);

/* Stage s of the cells (ht_update_cell with a = ca, b = cb); after stage 0 also stage 1's
 * prep, after stage 1 the next step's first pass (w->cp, w->cc, w->rate of the new state).
 * Returns HT_OK, or the code of the first failing cell, which goes to *bad_cell. */
int ht_cpu_update_cells(const ht_net *n, const ht_state *in, const ht_state *base,
                        ht_state *out, ht_work *w, int a, int b, real dt, real ca, real cb,
                        int s, int *bad_cell);

#endif
