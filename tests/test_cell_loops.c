/* The CPU's vectorised cell and face loops (kernels/cpu/cell_loops.c) against the per-cell
 * functions of step.h called one cell at a time, as the CUDA kernels call them: bit for bit,
 * for every limiter, with and without the tracer, for any split of the cells into thread
 * shares (vessel runs cut anywhere), on a tree with vessels of 1, 2 and many cells (every
 * vessel-end case of the reconstruction). Also the first failing cell and its code, and
 * the next step's first pass that stage 1's update leaves (prep, rates, the largest). */
#include "testutil.h"
#include "step.h"
#include "cpu/cell_loops.h"

static int same(const real *a, const real *b, int n)
{
    return memcmp(a, b, (size_t)n * sizeof *a) == 0;
}

static void poison(real *a, int n)
{
    for (int i = 0; i < n; ++i) a[i] = NAN;
}

/* part k of P of [0, n): cut points that do not follow the vessels */
static void part(int n, int P, int k, int *a, int *b)
{
    *a = (int)((long)n * k / P);
    *b = (int)((long)n * (k + 1) / P);
}

static ht_state alloc_state(int n)
{
    ht_state s;
    s.A = malloc((size_t)n * sizeof(real));
    s.Q = malloc((size_t)n * sizeof(real));
    s.C = malloc((size_t)n * sizeof(real));
    return s;
}

static void free_state(ht_state *s)
{
    free(s->A);
    free(s->Q);
    free(s->C);
}

/* One pass of the step's loops on state U (a real, developed flow) with work arrays wr (one
 * cell at a time) and wl (the loops over P shares). */
static void compare(const ht_net *n, const ht_state *U, ht_work *wr, ht_work *wl, int P,
                    const char *what)
{
    int nc = n->n_cells, nf = n->n_faces;
    /* the first pass */
    real rate_r = 0, rate_l = 0;
    for (int i = 0; i < nc; ++i) {
        wr->U0.A[i] = U->A[i];
        wr->U0.Q[i] = U->Q[i];
        wr->U0.C[i] = U->C[i];
        real r = ht_prep_rate_cell(n, U, wr, i);
        if (r > rate_r) rate_r = r;
    }
    poison(wl->cp, nc);
    poison(wl->cc, nc);
    poison(wl->U0.A, nc);
    for (int k = 0; k < P; ++k) {
        int a, b;
        part(nc, P, k, &a, &b);
        real r = ht_cpu_begin_cells(n, U, wl, a, b, 0);
        if (r > rate_l) rate_l = r;
    }
    CHECK(rate_r == rate_l && rate_r > 0, "%s: rate %.17g vs %.17g", what, rate_l, rate_r);
    CHECK(same(wr->cp, wl->cp, nc), "%s: prep pressure", what);
    CHECK(!n->tracer || same(wr->cc, wl->cc, nc), "%s: prep c", what);
    CHECK(same(wr->U0.A, wl->U0.A, nc) && same(wr->U0.Q, wl->U0.Q, nc), "%s: U0", what);

    /* reconstruction */
    for (int i = 0; i < nc; ++i) ht_reconstruct_cell(n, U, wr, i);
    real *fr[8] = {wr->fA_m, wr->fA_p, wr->fS_m, wr->fS_p, wr->fQ_m, wr->fQ_p, wr->fc_m, wr->fc_p};
    real *fl[8] = {wl->fA_m, wl->fA_p, wl->fS_m, wl->fS_p, wl->fQ_m, wl->fQ_p, wl->fc_m, wl->fc_p};
    for (int q = 0; q < 8; ++q) poison(fl[q], nc);
    for (int k = 0; k < P; ++k) {
        int a, b;
        part(nc, P, k, &a, &b);
        ht_cpu_reconstruct_cells(n, U, wl, a, b);
    }
    for (int q = 0; q < 8; ++q) CHECK(same(fr[q], fl[q], nc), "%s: face values %d", what, q);

    /* interior fluxes; the boundary faces (the boundary solves' values from the last step)
     * copied, every other face must be written by the loops */
    for (int i = 0; i < nc; ++i)
        if (!ht_is_last_cell(n, i)) ht_interior_flux(n, wr, i);
    real *Fr[4] = {wr->FA, wr->FQl, wr->FQr, wr->FC}, *Fl[4] = {wl->FA, wl->FQl, wl->FQr, wl->FC};
    for (int q = 0; q < 4; ++q) {
        poison(Fl[q], nf);
        for (int v = 0; v < n->n_vessels; ++v) {
            int f0 = n->vessel_first[v] + v, f1 = f0 + n->vessel_n[v];
            Fl[q][f0] = Fr[q][f0];
            Fl[q][f1] = Fr[q][f1];
        }
    }
    for (int k = 0; k < P; ++k) {
        int a, b;
        part(nc, P, k, &a, &b);
        ht_cpu_flux_cells(n, wl, a, b);
    }
    for (int q = 0; q < 4; ++q) CHECK(same(Fr[q], Fl[q], nf), "%s: fluxes %d", what, q);

    /* both stages' updates, stage 0 with the prep for stage 1 */
    real dt = 0.9 / rate_r;
    ht_state o0r = alloc_state(nc), o0l = alloc_state(nc);
    ht_state o1r = alloc_state(nc), o1l = alloc_state(nc);
    for (int s = 0; s < 2; ++s) {
        const ht_state *in = s ? &o0r : U;
        const ht_state *base = s ? &wr->U0 : U;
        ht_state *outr = s ? &o1r : &o0r, *outl = s ? &o1l : &o0l;
        real ca = s ? 0.5 : 0, cb = s ? 0.5 : 1;
        int bad_r = nc, code_r = HT_OK;
        for (int i = 0; i < nc; ++i) {
            /* as the CUDA kernel runs them: stage 1 whole, leaving the next first pass */
            int code;
            if (s == 0) {
                code = ht_update_cell(n, in, base, outr, wr, i, dt, ca, cb, 0);
                ht_prep_cell(n, outr, wr, i);
            } else {
                code = ht_update_last_cell(n, in, base, outr, wr, i, dt);
                CHECK(code == ht_check_cell(n, outr, i, dt, 1), "%s: stage 1 check of cell %d", what, i);
            }
            if (code && i < bad_r) {
                bad_r = i;
                code_r = code;
            }
        }
        poison(outl->A, nc);
        poison(outl->Q, nc);
        poison(outl->C, nc);
        if (s == 0) poison(wl->cp, nc);
        int bad_l = nc, code_l = HT_OK;
        for (int k = 0; k < P; ++k) {
            int a, b, cell = nc;
            part(nc, P, k, &a, &b);
            int code = ht_cpu_update_cells(n, in, base, outl, wl, a, b, dt, ca, cb, s, &cell);
            if (code && cell < bad_l) {
                bad_l = cell;
                code_l = code;
            }
        }
        CHECK(same(outr->A, outl->A, nc) && same(outr->Q, outl->Q, nc), "%s: stage %d A, Q", what, s);
        CHECK(!n->tracer || same(outr->C, outl->C, nc), "%s: stage %d C", what, s);
        CHECK(bad_r == bad_l && code_r == code_l, "%s: stage %d failure %d at %d vs %d at %d",
              what, s, code_l, bad_l, code_r, bad_r);
        if (s == 0) CHECK(same(wr->cp, wl->cp, nc), "%s: stage 1 prep", what);
    }
    /* stage 1 left the next step's first pass of its state (prep, rates, and so dt), the
     * same as a fresh first pass of that state */
    real next_r = 0, next_l = 0;
    real *left = malloc((size_t)nc * sizeof *left), *left_cp = malloc((size_t)nc * sizeof *left_cp);
    CHECK(left && left_cp, "out of memory");
    if (!left || !left_cp) exit(1);
    memcpy(left, wr->rate, (size_t)nc * sizeof *left);
    memcpy(left_cp, wr->cp, (size_t)nc * sizeof *left_cp);
    poison(wr->cp, nc);
    for (int i = 0; i < nc; ++i) {
        wr->rate[i] = ht_prep_rate_cell(n, &o1r, wr, i);
        if (wr->rate[i] > next_r) next_r = wr->rate[i];
    }
    CHECK(same(left, wr->rate, nc) && same(left_cp, wr->cp, nc),
          "%s: stage 1's left-behind first pass vs a fresh one", what);
    free(left);
    free(left_cp);
    CHECK(same(wr->rate, wl->rate, nc), "%s: stage 1 rates", what);
    CHECK(same(wr->cp, wl->cp, nc), "%s: next step's prep", what);
    CHECK(!n->tracer || same(wr->cc, wl->cc, nc), "%s: next step's prep c", what);
    for (int k = 0; k < P; ++k) {
        int a, b;
        part(nc, P, k, &a, &b);
        real r = ht_cpu_begin_cells(n, &o1l, wl, a, b, 1);
        if (r > next_l) next_l = r;
    }
    CHECK(next_l == next_r && same(wl->U0.A, o1l.A, nc), "%s: next rate %.17g vs %.17g", what,
          next_l, next_r);
    free_state(&o0r);
    free_state(&o0l);
    free_state(&o1r);
    free_state(&o1l);
}

/* A cell update that fails: the loops name the first failing cell and its code, as a loop of
 * one cell at a time does. */
static void failure(const ht_net *n, ht_state *U, ht_work *w, int P, int cell, int code,
                    int later)
{
    ht_state out = alloc_state(n->n_cells);
    real saveA = U->A[cell], saveQ = U->Q[cell], saveL = U->A[later];
    if (code == HT_FAIL_NONFINITE) U->Q[cell] = NAN;
    else U->A[cell] = -U->A[cell] * 4;
    U->A[later] = -1;
    int bad = n->n_cells, got = HT_OK;
    for (int k = 0; k < P; ++k) {
        int a, b, c = n->n_cells;
        part(n->n_cells, P, k, &a, &b);
        int r = ht_cpu_update_cells(n, U, U, &out, w, a, b, 1e-6, 0, 1, 0, &c);
        if (r && c < bad) {
            bad = c;
            got = r;
        }
    }
    CHECK(bad == cell && got == code, "failure: code %d at cell %d, expected %d at %d", got, bad,
          code, cell);
    U->A[cell] = saveA;
    U->Q[cell] = saveQ;
    U->A[later] = saveL;
    free_state(&out);
}

/* Stage 1 with a step too long for the CFL condition: the first cell over it fails with
 * HT_FAIL_CFL, the same in the loops and in the whole-cell function the CUDA kernel runs. */
static void cfl_failure(const ht_net *n, const ht_state *U, ht_work *wr, ht_work *wl, int P)
{
    int nc = n->n_cells;
    ht_state outr = alloc_state(nc), outl = alloc_state(nc);
    real rate = 0;
    for (int i = 0; i < nc; ++i) {
        real r = ht_prep_rate_cell(n, U, wr, i);
        if (r > rate) rate = r;
        wl->cp[i] = wr->cp[i];
        wl->cc[i] = wr->cc[i];
    }
    for (int i = 0; i < nc; ++i) ht_reconstruct_cell(n, U, wr, i);
    for (int i = 0; i < nc; ++i)
        if (!ht_is_last_cell(n, i)) ht_interior_flux(n, wr, i);
    memcpy(wl->FA, wr->FA, (size_t)n->n_faces * sizeof *wl->FA);
    memcpy(wl->FQl, wr->FQl, (size_t)n->n_faces * sizeof *wl->FQl);
    memcpy(wl->FQr, wr->FQr, (size_t)n->n_faces * sizeof *wl->FQr);
    memcpy(wl->FC, wr->FC, (size_t)n->n_faces * sizeof *wl->FC);
    real dt = 1.02 / rate; /* over the limit only in the fastest cells */
    int bad_r = nc, code_r = HT_OK;
    for (int i = 0; i < nc; ++i) {
        int code = ht_update_last_cell(n, U, U, &outr, wr, i, dt);
        if (code && i < bad_r) {
            bad_r = i;
            code_r = code;
        }
    }
    int bad_l = nc, code_l = HT_OK;
    for (int k = 0; k < P; ++k) {
        int a, b, cell = nc;
        part(nc, P, k, &a, &b);
        int code = ht_cpu_update_cells(n, U, U, &outl, wl, a, b, dt, 0.5, 0.5, 1, &cell);
        if (code && cell < bad_l) {
            bad_l = cell;
            code_l = code;
        }
    }
    CHECK(code_r == HT_FAIL_CFL && bad_r < nc, "CFL failure: code %d at cell %d", code_r, bad_r);
    CHECK(bad_l == bad_r && code_l == code_r, "CFL failure: loops %d at %d, cell function %d at %d",
          code_l, bad_l, code_r, bad_r);
    free_state(&outr);
    free_state(&outl);
}

int main(void)
{
    /* a tapered parent of many cells, daughters of 2 and 1 cells and one of 5 */
    ht_case c = tu_case(4, 5, 1, 3, 0);
    c.rho = 1060;
    c.mu = 4e-3;
    c.min_cells = 1;
    c.limiter = HT_LIMITER_MC;
    tu_vessel(&c, 0, "parent", 0, 1, 0.20, 0.012, 0.008, 4e5, 0, 57);
    tu_vessel(&c, 1, "two", 1, 2, 0.02, 0.006, 0.005, 6e5, 0, 2);
    tu_vessel(&c, 2, "one", 1, 3, 0.01, 0.006, 0.006, 6e5, 0, 1);
    tu_vessel(&c, 3, "five", 1, 4, 0.05, 0.005, 0.004, 6e5, 0, 5);
    double amp[2] = {6e-5, 3e-5}, ph[2] = {0, -1.2};
    tu_fourier_inlet(&c, 0, 2, amp, ph);
    for (int k = 0; k < 3; ++k) {
        c.outlets[k].vessel = k + 1;
        c.outlets[k].kind = HT_OUTLET_WINDKESSEL;
        c.outlets[k].R1 = 3e8;
        c.outlets[k].C = 2e-10;
        c.outlets[k].R2 = 3e9;
    }
    ht_network nw;
    ht_error err;
    CHECK(ht_network_build(&c, &nw, &err) == 0, "build: %s", err.msg);
    ht_solver sr, sl;
    CHECK(ht_solver_init(&sr, &nw) == 0 && ht_solver_init(&sl, &nw) == 0, "init");
    /* a developed flow with a tracer front inside the tree */
    CHECK(ht_solver_advance(&sr, 0.25) == HT_OK, "advance");
    const ht_net *n0 = &nw.net;
    CHECK(n0->vessel_n[1] == 2 && n0->vessel_n[2] == 1 && n0->vessel_n[3] == 5, "vessel sizes");

    int lims[4] = {HT_LIM_MINMOD, HT_LIM_MC, HT_LIM_SUPERBEE, HT_LIM_NONE};
    int parts[4] = {1, 2, 3, 11};
    for (int l = 0; l < 4; ++l)
        for (int tr = 0; tr < 2; ++tr)
            for (int p = 0; p < 4; ++p) {
                ht_net n = *n0;
                n.limiter = lims[l];
                n.tracer_limiter = lims[3 - l];
                n.tracer = tr;
                char what[64];
                snprintf(what, sizeof what, "limiter %d, tracer %d, %d parts", lims[l], tr,
                         parts[p]);
                compare(&n, &sr.U, &sr.w, &sl.w, parts[p], what);
            }
    /* first failures: an area in the parent, a NaN flow in the 1-cell vessel, each with a
     * later failing cell that must not be the one reported */
    int one = n0->vessel_first[2];
    failure(n0, &sr.U, &sl.w, 3, 17, HT_FAIL_AREA, 40);
    failure(n0, &sr.U, &sl.w, 3, one, HT_FAIL_NONFINITE, one + 3);
    failure(n0, &sr.U, &sl.w, 1, one, HT_FAIL_NONFINITE, one + 3);
    cfl_failure(n0, &sr.U, &sr.w, &sl.w, 3);

    ht_solver_free(&sr);
    ht_solver_free(&sl);
    ht_network_free(&nw);
    tu_case_free(&c);
    return tu_finish("test_cell_loops");
}
