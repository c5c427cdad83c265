/* One run from a loaded case to a written output file, and the `check` summary. */
#ifndef HT_DRIVER_H
#define HT_DRIVER_H
#include "case.h"
#include "network.h"

typedef struct {
    const char *out_path;   /* NULL: <case name>.h5 in the working directory */
    int cycles;             /* > 0 overrides run.cycles */
    int progress;           /* print a progress line (the CLI sets it when stdout is a tty) */
    int quiet;              /* no summary */
    int backend;            /* HT_BACKEND_* */
    long member_base;       /* ensembles: messages name member member_base + m */
    /* checkpoint/restart of a launch (src/checkpoint.h): a checkpoint OUT.ckpt beside the
     * first member's output at the first output time after every ckpt_every simulated
     * seconds (ckpt_wall: wall seconds) since the last one; restart: continue from that
     * checkpoint, appending to the members' outputs */
    double ckpt_every;
    int ckpt_wall;
    const char *restart;
    /* sweeps: restart from `restart` only when it is there and belongs to this launch (else
     * start at t = 0, saying why) */
    int restart_optional;
    /* sweeps: ht_ensemble_run_chunk gives each launch the checkpoint m<first>.ckpt beside its
     * first member's output, continues from it when it is there, removes it when done */
    int launch_ckpt;
    /* output appends on a writer thread (src/writer.h): 1 on, -1 off, 0 auto (on with the
     * CUDA backend, whose host would otherwise wait while the device steps, or with a core
     * the CPU backend's threads leave free) */
    int output_thread;
} ht_run_opts;

enum { HT_BACKEND_AUTO = 0, HT_BACKEND_CPU, HT_BACKEND_CUDA };

/* Returns the CLI exit status: 0 ok, 1 the run failed, 2 bad input. */
int ht_run(const ht_case *c, const ht_run_opts *o);

/* The outcome of one member of ht_run_members. */
typedef struct {
    int code;                   /* 0 completed, 1 failed, 2 bad input */
    char msg[1024];             /* why it failed; empty when it completed */
    double imbalance;           /* m^3, (stored end - start) - (in - out); NaN when not written */
    double periodicity;         /* last cycle's relative change; NaN when fewer than two cycles */
    double periodic_change_abs; /* Pa, the same as an absolute change */
    int periodic_cycle;
    double volume[4];           /* m^3: stored at start, at end, inflow, outflow */
    long steps;
    double t, wall;             /* s simulated, s wall (of the whole launch) */
    /* with a heart: the whole closed loop's volume (1D + outlet compliances + 0D, m^3) at
     * start and end and its relative drift, and the last complete beat (/metrics/cycles) */
    int heart;
    double total[2], total_drift;
    int beats;                  /* complete beats */
    double sv, ef, co, map, lvedp, edv_change, esv_change; /* m^3, 1, m^3/s, Pa, Pa, 1, 1 */
} ht_member_result;

/* M cases whose networks share one shape (ht_network_stack) and one output schedule
 * (ht_schedule_equal), run together: on the CPU one member per thread, on the GPU all in
 * one launch. Member m writes paths[m] exactly as `hemotree run` of cases[m] would. A member
 * that fails stops alone (its file keeps what it had written, with the failure as its
 * status); res[m] says how each ended. Returns 0 when all completed, 1 when one failed, 2
 * when --backend cuda cannot be used. */
int ht_run_members(const ht_case *const *cases, const ht_network *const *nws, int M, const char *const *paths,
                   const ht_run_opts *o, ht_member_result *res);

/* 1 when a and b have the same output times (run length, interval, period). */
int ht_schedule_equal(const ht_case *a, const ht_case *b, const ht_run_opts *o);
int ht_check(const ht_case *c);

#endif
