/* The output writer: runs the driver's output jobs (HDF5 appends) in submission order,
 * either at once in the caller or on one background thread, so that the solver steps on
 * (on the GPU, the device runs the next output interval) while a file is compressed and
 * written.
 *
 * Why one thread: HDF5 (Debian's serial build included) is not reentrant, so all its calls
 * must be serialised; one writer thread does that by construction, and the driver makes no
 * HDF5 call of its own without ht_writer_drain first (opening a member's file, checkpoints,
 * status attributes, the end-of-run tables, close). The files are the same either way: the same calls, in the same
 * order, with the same data (tests/test_writer.c, tests/test_cli.py).
 *
 * Ownership: a submitted job's argument belongs to the writer, which frees it (free()) once
 * the job ran or was skipped. Jobs are grouped by slot (the driver: one per member): after a
 * job of a slot fails, its later jobs are skipped and the slot's first message is kept for
 * the driver to report (ht_writer_error), so a member whose disk filled up stops writing
 * while the others go on. */
#ifndef HT_WRITER_H
#define HT_WRITER_H
#include <stddef.h>

typedef struct ht_writer ht_writer;

/* A job: 0, or nonzero with a message in err (which names the file and what was written). */
typedef int (*ht_write_fn)(void *arg, char *err, size_t len);

/* n_slots >= 1. threaded: 1 runs the jobs on a background thread, 0 in ht_writer_submit.
 * max_bytes: with a thread, ht_writer_submit waits while the queued jobs hold more than
 * this (the solver must not run arbitrarily far ahead of the disk). NULL when out of memory
 * or when the thread cannot be started (message in err). */
ht_writer *ht_writer_new(int n_slots, int threaded, size_t max_bytes, char *err, size_t len);

/* Queue fn(arg) for slot; bytes: what arg holds (for max_bytes). Returns 0; or -1 when out
 * of memory, after running the job at once instead (its result then goes to the slot as
 * any job's does), so nothing is lost. arg may be NULL only with a fn that accepts it. */
int ht_writer_submit(ht_writer *w, int slot, ht_write_fn fn, void *arg, size_t bytes);

/* Wait until every submitted job has run. */
void ht_writer_drain(ht_writer *w);

/* The first failure of a slot (its message), or NULL. The pointer stays valid until
 * ht_writer_free. */
const char *ht_writer_error(ht_writer *w, int slot);

/* Drain, stop the thread, free. NULL is allowed. */
void ht_writer_free(ht_writer *w);

#endif
