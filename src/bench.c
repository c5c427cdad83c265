#include "bench.h"
#include "case.h"
#include "driver.h"
#include "network.h"
#include "solver.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* The standard networks, smallest to largest: one vessel, one junction, a 37-vessel
 * silicone model, the 77-segment adult anatomy. */
static const char *const bench_cases[][3] = {
    {"single vessel (common carotid)", "common-carotid.yaml", "vessel"},
    {"aortic bifurcation", "aortic-bifurcation.yaml", "bifurcation"},
    {"37-artery in vitro", "invitro-37.yaml", "37"},
    {"ADAN56", "adan56.yaml", "adan56"},
};

/* Is `name` in the comma-separated list (NULL: every network)? */
static int selected(const char *list, const char *name)
{
    if (!list) return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && !strncmp(p, name, n)) return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

typedef struct {
    int cells, cycles, members;
    long steps;                 /* member 0's */
    double wall, dt_mean, cell_updates;
} result;

/* Time `members` copies of the network in one launch (1: a single run). Members > 1 sample
 * no probes: a probe row per step and member would time the copy to the host, not the
 * solver (see docs/performance.md). */
static int bench_one(const char *path, const ht_bench_opts *o, int members, const char **backend, result *r)
{
    ht_case c;
    ht_error err;
    if (ht_case_load(path, NULL, 0, &c, &err)) {
        fprintf(stderr, "hemotree bench: %s\n", err.msg);
        return 2;
    }
    ht_network nw;
    if (ht_network_build(&c, &nw, &err)) {
        fprintf(stderr, "hemotree bench: %s\n", err.msg);
        ht_case_free(&c);
        return 2;
    }
    ht_solver s;
    ht_network stack;
    const ht_network *run_nw = &nw;
    int rc = 0;
    memset(&stack, 0, sizeof stack);
    if (members > 1) {
        const ht_network **mem = malloc(sizeof *mem * (size_t)members);
        nw.net.n_probes = nw.net.m_probes = 0;
        if (!mem) {
            fprintf(stderr, "hemotree bench: out of memory\n");
            rc = 1;
            goto out_nw;
        }
        for (int m = 0; m < members; ++m) mem[m] = &nw;
        int bad = ht_network_stack(mem, members, &stack, &err);
        free(mem);
        if (bad) {
            fprintf(stderr, "hemotree bench: %s\n", err.msg);
            rc = 1;
            goto out_nw;
        }
        run_nw = &stack;
    }
    if (ht_solver_init(&s, run_nw)) {
        fprintf(stderr, "hemotree bench: out of memory\n");
        rc = 1;
        goto out_nw;
    }
    *backend = "cpu";
    if (o->backend != HT_BACKEND_CPU) {
        char msg[512];
        if (ht_solver_use_cuda(&s, msg, sizeof msg) == 0) {
            *backend = "cuda";
        } else if (o->backend == HT_BACKEND_CUDA) {
            fprintf(stderr, "hemotree bench: --backend cuda: %s\n", msg);
            rc = 2;
            goto out_s;
        }
    }
    /* advance cycle by cycle, as a run does between outputs (the next cycle begun while
     * the state is copied back), draining probe samples */
    double t0 = now();
    for (int k = 1; k <= o->cycles; ++k) {
        int code = ht_solver_advance_ahead(&s, k * c.period, k < o->cycles ? (k + 1) * c.period : 0);
        ht_solver_probe_clear(&s);
        if (code) {
            fprintf(stderr, "hemotree bench: %s failed at t = %g s (code %d)\n", path, s.clk[0].fail_t, code);
            rc = 1;
            goto out_s;
        }
    }
    r->wall = now() - t0;
    r->cells = nw.net.n_cells;
    r->members = members;
    r->steps = s.clk[0].step;
    r->cycles = o->cycles;
    r->dt_mean = o->cycles * c.period / (double)s.clk[0].step;
    for (int m = 0; m < members; ++m) r->cell_updates += (double)s.clk[m].step * nw.net.n_cells;
out_s:
    ht_solver_free(&s);
out_nw:
    ht_network_free(&stack);
    ht_network_free(&nw);
    ht_case_free(&c);
    return rc;
}

int ht_bench(const ht_bench_opts *o)
{
    const char *dir = o->cases_dir ? o->cases_dir : HT_SOURCE_DIR "/cases/benchmarks";
    int n = (int)(sizeof bench_cases / sizeof bench_cases[0]);
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    char device[256] = "none (this build has no CUDA backend)";
#ifdef HT_HAVE_CUDA
    if (o->backend != HT_BACKEND_CPU) ht_cuda_available(device, sizeof device);
#else
    if (o->backend != HT_BACKEND_CPU) snprintf(device, sizeof device, "none (this build has no CUDA backend)");
#endif
    if (o->backend == HT_BACKEND_CPU) snprintf(device, sizeof device, "not used (--backend cpu)");
    /* how the CUDA backend launches a chunk of steps (backend_cuda.cu) */
    const char *launch = getenv("HEMOTREE_CUDA_LAUNCH");
    if (!launch || !*launch) launch = "graph";
    int one = 1;
    const int *sizes = o->n_members > 0 ? o->members : &one;
    int n_sizes = o->n_members > 0 ? o->n_members : 1;
    if (!o->json) {
        printf("hemotree bench: float64, %d cycle(s) per network, OpenMP threads %d\n", o->cycles, threads);
        printf("GPU: %s (CUDA launch: %s)\n", device, launch);
        printf("%-32s %-5s %7s %7s %8s %10s %10s %12s %11s %14s\n", "network", "dev", "cells", "members", "steps",
               "dt [us]", "wall [s]", "cell upd/s", "cycles/s", "member-cyc/s");
    } else {
        printf("{\"precision\": \"float64\", \"gpu\": \"%s\", \"cuda_launch\": \"%s\", \"openmp_threads\": %d, "
               "\"cycles\": %d, \"networks\": [",
               device, launch, threads, o->cycles);
    }
    int status = 0, first = 1;
    for (int k = 0; k < n && !status; ++k) {
        if (!selected(o->networks, bench_cases[k][2])) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, bench_cases[k][1]);
        for (int z = 0; z < n_sizes; ++z) {
            const char *backend = "cpu";
            result r;
            memset(&r, 0, sizeof r);
            int rc = bench_one(path, o, sizes[z], &backend, &r);
            if (rc) {
                status = rc;
                break;
            }
            double cups = r.cell_updates / r.wall, cps = r.cycles / r.wall, mcps = (double)r.members * r.cycles / r.wall;
            if (o->json)
                printf("%s{\"network\": \"%s\", \"backend\": \"%s\", \"cells\": %d, \"members\": %d, \"steps\": %ld, "
                       "\"dt_mean\": %.6e, \"wall_s\": %.9g, \"cell_updates_per_s\": %.6e, \"cycles_per_s\": %.6e, "
                       "\"member_cycles_per_s\": %.6e}",
                       first ? "" : ", ", bench_cases[k][0], backend, r.cells, r.members, r.steps, r.dt_mean, r.wall,
                       cups, cps, mcps);
            else
                printf("%-32s %-5s %7d %7d %8ld %10.3f %10.3f %12.3e %11.3f %14.3f\n", bench_cases[k][0], backend,
                       r.cells, r.members, r.steps, 1e6 * r.dt_mean, r.wall, cups, cps, mcps);
            first = 0;
            fflush(stdout);
        }
    }
    if (o->json) printf("]}\n");
    return status;
}
