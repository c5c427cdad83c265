/* Measured order of convergence on a smooth problem (docs/validation.md): a smooth,
 * finite-amplitude pulse (peak velocity ~ 0.2 c, so the nonlinear terms matter) enters a
 * tapered, viscous vessel; the solution at t = 0.12 s, before anything reaches the outlet,
 * is compared between successive meshes N, 2N, 4N, 8N, 16N (each fine solution averaged
 * onto the coarser cells). With e_N = ||u_N - u_2N||_1 the observed order is
 * log2(e_N / e_2N); a second-order scheme gives 2. Required: >= 1.8 in A and Q. */
#include "testutil.h"
#include "step.h"

static int run(int cells, double *A, double *Q)
{
    ht_case c = tu_case(1, 2, 1, 1, 0);
    c.rho = 1060;
    c.mu = 4e-3;
    c.limiter = HT_LIMITER_MC;
    tu_vessel(&c, 0, "v", 0, 1, 1.0, 0.012, 0.009, 4e5, 1.2e-3, cells);
    c.inlets[0].vessel = 0;
    c.inlets[0].wave.kind = HT_WAVE_GAUSSIAN;
    c.inlets[0].wave.amplitude = 8e-5;
    c.inlets[0].wave.t0 = 0.04;
    c.inlets[0].wave.k = 2500;
    c.inlets[0].wave.scale = 1;
    c.outlets[0].vessel = 0;
    c.outlets[0].kind = HT_OUTLET_REFLECTION;
    ht_network nw;
    ht_error err;
    if (ht_network_build(&c, &nw, &err)) return -1;
    ht_solver s;
    if (ht_solver_init(&s, &nw)) return -1;
    int code = ht_solver_advance(&s, 0.12);
    for (int i = 0; i < cells; ++i) {
        A[i] = s.U.A[i];
        Q[i] = s.U.Q[i];
    }
    ht_solver_free(&s);
    ht_network_free(&nw);
    tu_case_free(&c);
    return code;
}

int main(void)
{
    enum { LEVELS = 5, N0 = 50 };
    double *A[LEVELS], *Q[LEVELS];
    for (int l = 0; l < LEVELS; ++l) {
        int n = N0 << l;
        A[l] = malloc(sizeof(double) * n);
        Q[l] = malloc(sizeof(double) * n);
        CHECK(run(n, A[l], Q[l]) == 0, "run with %d cells failed", n);
    }
    double eA[LEVELS - 1], eQ[LEVELS - 1];
    for (int l = 0; l < LEVELS - 1; ++l) {
        int n = N0 << l;
        double dx = 1.0 / n, sa = 0, sq = 0;
        for (int i = 0; i < n; ++i) {
            sa += fabs(A[l][i] - 0.5 * (A[l + 1][2 * i] + A[l + 1][2 * i + 1])) * dx;
            sq += fabs(Q[l][i] - 0.5 * (Q[l + 1][2 * i] + Q[l + 1][2 * i + 1])) * dx;
        }
        eA[l] = sa;
        eQ[l] = sq;
    }
    printf("%8s %14s %8s %14s %8s\n", "cells", "L1 diff A", "order", "L1 diff Q", "order");
    for (int l = 0; l < LEVELS - 1; ++l) {
        double oA = l ? log2(eA[l - 1] / eA[l]) : 0, oQ = l ? log2(eQ[l - 1] / eQ[l]) : 0;
        printf("%8d %14.4e %8.3f %14.4e %8.3f\n", N0 << l, eA[l], oA, eQ[l], oQ);
    }
    double oA = log2(eA[LEVELS - 3] / eA[LEVELS - 2]), oQ = log2(eQ[LEVELS - 3] / eQ[LEVELS - 2]);
    CHECK(oA >= 1.8, "order in A on the finest meshes %.3f < 1.8", oA);
    CHECK(oQ >= 1.8, "order in Q on the finest meshes %.3f < 1.8", oQ);
    for (int l = 0; l < LEVELS; ++l) {
        free(A[l]);
        free(Q[l]);
    }
    return tu_finish("test_convergence");
}
