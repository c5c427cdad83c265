#include "bench.h"
#include "case.h"
#include "driver.h"
#include "network.h"
#include "solver.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* The standard networks, smallest to largest: one vessel, one junction, a 37-vessel
 * silicone model, the 77-segment adult anatomy. */
static const char *const bench_cases[][2] = {
    {"single vessel (common carotid)", "common-carotid.yaml"},
    {"aortic bifurcation", "aortic-bifurcation.yaml"},
    {"37-artery in vitro", "invitro-37.yaml"},
    {"ADAN56", "adan56.yaml"},
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

typedef struct {
    int cells, cycles;
    long steps;
    double wall, dt_mean;
} result;

static int bench_one(const char *path, const ht_bench_opts *o, const char **backend, result *r)
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
    int rc = 0;
    if (ht_solver_init(&s, &nw)) {
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
    /* advance cycle by cycle, as a run does between outputs, draining probe samples */
    double t0 = now();
    for (int k = 1; k <= o->cycles; ++k) {
        int code = ht_solver_advance(&s, k * c.period);
        ht_solver_probe_clear(&s);
        if (code) {
            fprintf(stderr, "hemotree bench: %s failed at t = %g s (code %d)\n", path, s.clk[0].fail_t, code);
            rc = 1;
            goto out_s;
        }
    }
    r->wall = now() - t0;
    r->cells = nw.net.n_cells;
    r->steps = s.clk[0].step;
    r->cycles = o->cycles;
    r->dt_mean = o->cycles * c.period / (double)s.clk[0].step;
out_s:
    ht_solver_free(&s);
out_nw:
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
    if (!o->json) {
        printf("hemotree bench: float64, %d cycle(s) per network, OpenMP threads %d\n", o->cycles, threads);
        printf("GPU: %s\n", device);
        printf("%-32s %-5s %7s %8s %10s %10s %12s %11s\n", "network", "dev", "cells", "steps", "dt [us]",
               "wall [s]", "cell upd/s", "cycles/s");
    } else {
        printf("{\"precision\": \"float64\", \"gpu\": \"%s\", \"openmp_threads\": %d, \"cycles\": %d, \"networks\": [",
               device, threads, o->cycles);
    }
    int status = 0;
    for (int k = 0; k < n; ++k) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, bench_cases[k][1]);
        const char *backend = "cpu";
        result r;
        memset(&r, 0, sizeof r);
        int rc = bench_one(path, o, &backend, &r);
        if (rc) {
            status = rc;
            break;
        }
        double cups = r.steps * (double)r.cells / r.wall, cps = r.cycles / r.wall;
        if (o->json)
            printf("%s{\"network\": \"%s\", \"backend\": \"%s\", \"cells\": %d, \"steps\": %ld, "
                   "\"dt_mean\": %.6e, \"wall_s\": %.6f, \"cell_updates_per_s\": %.6e, \"cycles_per_s\": %.6e}",
                   k ? ", " : "", bench_cases[k][0], backend, r.cells, r.steps, r.dt_mean, r.wall, cups, cps);
        else
            printf("%-32s %-5s %7d %8ld %10.3f %10.3f %12.3e %11.3f\n", bench_cases[k][0], backend, r.cells,
                   r.steps, 1e6 * r.dt_mean, r.wall, cups, cps);
        fflush(stdout);
    }
    if (o->json) printf("]}\n");
    return status;
}
