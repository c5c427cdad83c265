/* `hemotree sweep`: the members of a sweep file spread over MPI ranks (docs/input.md,
 * "Sweeps"). The only part of hemotree that uses MPI: it is linked into the executable, not
 * into hemotree_core, and MPI is initialised only when this command runs. */
#ifndef HT_SWEEP_H
#define HT_SWEEP_H
#include "driver.h"

/* `hemotree sweep SWEEP.yaml`: o->out_path is OUTDIR (NULL: the sweep file's name without
 * .yaml), o->cycles, o->backend and o->quiet as for run; sets apply to every member before
 * its parameters; `jobs` OpenMP threads per rank (<= 0: the OpenMP default); `batch`
 * members per chunk (<= 0: 256 where the ranks have GPUs, else 8 or the threads of a rank).
 * Returns the exit status: 0 every member completed, 1 one failed (or the summary could not
 * be written), 2 bad input of the sweep. */
int ht_sweep(const char *path, const char *const *sets, int n_sets, const ht_run_opts *o, int jobs, int batch);

#endif
