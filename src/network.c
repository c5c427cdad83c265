#include "network.h"
#include "tubelaw.h"
#include "heart_presets.h"
#include "heart_stage.h"
#include "viscoelastic.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALLOC(p, count)                                                     \
    do {                                                                    \
        (p) = calloc((size_t)((count) > 0 ? (count) : 1), sizeof *(p));     \
        if (!(p)) goto oom;                                                 \
    } while (0)

static int vessel_cells(const ht_case *c, const ht_vessel_spec *v)
{
    if (v->n_cells > 0) return v->n_cells;
    int m = (int)ceil(v->length / c->dx - 1e-9);
    return m < c->min_cells ? c->min_cells : m;
}

/* Resample a polyline at fractions s in [0, 1] of its arc length. */
static void polyline_at(const double *pts, int np, double s, double out[3])
{
    double total = 0;
    for (int k = 1; k < np; ++k) {
        double d2 = 0;
        for (int a = 0; a < 3; ++a) d2 += (pts[3 * k + a] - pts[3 * k - 3 + a]) * (pts[3 * k + a] - pts[3 * k - 3 + a]);
        total += sqrt(d2);
    }
    double target = s * total, run = 0;
    for (int k = 1; k < np; ++k) {
        double d2 = 0;
        for (int a = 0; a < 3; ++a) d2 += (pts[3 * k + a] - pts[3 * k - 3 + a]) * (pts[3 * k + a] - pts[3 * k - 3 + a]);
        double seg = sqrt(d2);
        if (run + seg >= target || k == np - 1) {
            double f = seg > 0 ? (target - run) / seg : 0;
            if (f > 1) f = 1;
            if (f < 0) f = 0;
            for (int a = 0; a < 3; ++a) out[a] = pts[3 * k - 3 + a] + f * (pts[3 * k + a] - pts[3 * k - 3 + a]);
            return;
        }
        run += seg;
    }
    for (int a = 0; a < 3; ++a) out[a] = pts[a];
}

/* A layout for vessels without centreline points, so ParaView still shows a tree: walk
 * from the inlet, each vessel a straight line; the first child continues its parent's
 * direction, the others fan out in the x-z plane. */
static int generated_layout(const ht_case *c, double *node_pos, double *vdir)
{
    int nn = c->n_nodes, nv = c->n_vessels;
    char *placed = calloc((size_t)nn, 1);
    int *queue = calloc((size_t)nn, sizeof *queue);
    double *ndir = calloc((size_t)nn * 3, sizeof *ndir);
    if (!placed || !queue || !ndir) {
        free(placed);
        free(queue);
        free(ndir);
        return -1;
    }
    int root = c->vessels[c->inlets[0].vessel].node_from;
    int head = 0, tail = 0;
    placed[root] = 1;
    node_pos[3 * root] = node_pos[3 * root + 1] = node_pos[3 * root + 2] = 0;
    ndir[3 * root + 2] = -1;
    queue[tail++] = root;
    while (head < tail) {
        int nd = queue[head++];
        int k = 0;
        for (int v = 0; v < nv; ++v) {
            const ht_vessel_spec *vs = &c->vessels[v];
            int other;
            double sgn;
            if (vs->node_from == nd) { other = vs->node_to; sgn = 1; }
            else if (vs->node_to == nd) { other = vs->node_from; sgn = -1; }
            else continue;
            if (placed[other]) continue;
            double ang = k == 0 ? 0 : ((k % 2) ? 1 : -1) * ((k + 1) / 2) * 0.6;
            double dx = ndir[3 * nd], dz = ndir[3 * nd + 2];
            double d[3] = {dx * cos(ang) - dz * sin(ang), 0, dx * sin(ang) + dz * cos(ang)};
            for (int a = 0; a < 3; ++a) {
                node_pos[3 * other + a] = node_pos[3 * nd + a] + d[a] * vs->length;
                ndir[3 * other + a] = d[a];
                vdir[3 * v + a] = sgn * d[a];
            }
            placed[other] = 1;
            queue[tail++] = other;
            ++k;
        }
    }
    free(placed);
    free(queue);
    free(ndir);
    return 0;
}

/* The kernels' view (net) of the arrays the network owns. */
static void bind_arrays(ht_network *nw)
{
    ht_net *n = &nw->net;
    n->cell_vessel = nw->cell_vessel;
    n->vessel_first = nw->vessel_first;
    n->vessel_n = nw->vessel_n;
    n->vessel_dx = nw->vessel_dx;
    n->vessel_fric = nw->vessel_fric;
    n->vessel_p0 = nw->vessel_p0;
    n->sqrtA0 = nw->sqrtA0;
    n->K = nw->K;
    n->vessel_rdx = nw->vessel_rdx;
    n->invK = nw->invK;
    n->Gamma = nw->Gamma;
    n->inlets = nw->inlets;
    n->outlets = nw->outlets;
    n->junc_off = nw->junc_off;
    n->jend_cell = nw->jend_cell;
    n->jend_face = nw->jend_face;
    n->jend_sign = nw->jend_sign;
    n->probe_cell = nw->probe_cell;
    n->probe_w = nw->probe_w;
    n->heart_par = nw->heart_par;
    n->heart = nw->heart_par != NULL;
    n->dev = nw->dev;
}

/* The reciprocals of net.h (vessel_rdx, invK, inv2rho, inv3rho) from the arrays already
 * filled: once per network, so that no kernel divides by a constant of the run. */
static int fill_reciprocals(ht_network *nw)
{
    ht_net *n = &nw->net;
    int nc = n->n_cells, nv = n->n_vessels;
    free(nw->vessel_rdx);
    free(nw->invK);
    nw->vessel_rdx = calloc((size_t)(nv > 0 ? nv : 1), sizeof *nw->vessel_rdx);
    nw->invK = calloc((size_t)(nc > 0 ? nc : 1), sizeof *nw->invK);
    if (!nw->vessel_rdx || !nw->invK) return -1;
    for (int v = 0; v < nv; ++v) nw->vessel_rdx[v] = 1 / nw->vessel_dx[v];
    for (int i = 0; i < nc; ++i) nw->invK[i] = 1 / nw->K[i];
    n->inv2rho = 1 / (2 * n->rho);
    n->inv3rho = 1 / (3 * n->rho);
    return 0;
}

/* The heart of a case: the preset, then the case's overrides (docs/input.md, heart:). The
 * valve laws use the case's blood density. Initial state: the preset's, SV changed by
 * volume_change, p_root = the initial pressure of the 1D tree. */
static void heart_from_case(const ht_case *c, ht_heart_par *P, ht_heart_state *X)
{
    const ht_heart_spec *hs = &c->heart;
    ht_heart_preset(hs->preset, P, X);
    P->rho = c->rho;
    ht_chamber *ch[HT_CH_N] = {&P->lv, &P->rv, &P->la, &P->ra};
    for (int k = 0; k < HT_CH_N; ++k) {
        const double *q = hs->chamber[k];
        if (q[HT_CHP_EES] == q[HT_CHP_EES]) ch[k]->Ees = q[HT_CHP_EES];
        if (q[HT_CHP_V0] == q[HT_CHP_V0]) ch[k]->V0 = q[HT_CHP_V0];
        if (q[HT_CHP_EMIN] == q[HT_CHP_EMIN]) ch[k]->Emin = q[HT_CHP_EMIN];
        if (q[HT_CHP_P0] == q[HT_CHP_P0]) ch[k]->P0 = q[HT_CHP_P0];
        if (q[HT_CHP_LAMBDA] == q[HT_CHP_LAMBDA]) ch[k]->lambda = q[HT_CHP_LAMBDA];
    }
    if (hs->bronchial_given) P->R_br = hs->bronchial_R;
    if (hs->heart_rate > 0) ht_heart_set_rate(P, 1 / hs->heart_rate, 0.15);
    if (hs->valve == HT_VALVE_DIODE) {
        ht_valve *v[4] = {&P->tri, &P->pul, &P->mit, &P->ao};
        for (int k = 0; k < 4; ++k) {
            v[k]->kind = HT_VALVE_DIODE;
            v[k]->R = hs->diode_R;
        }
    }
    X->V[HT_HC_SV] += hs->volume_change;
    X->p_root = c->p_init;
}

int ht_network_build(const ht_case *c, ht_network *nw, ht_error *err)
{
    memset(nw, 0, sizeof *nw);
    int nv = c->n_vessels;
    ht_net *n = &nw->net;
    double *node_pos = NULL, *vdir = NULL;

    ALLOC(nw->vessel_first, nv);
    ALLOC(nw->vessel_n, nv);
    ALLOC(nw->vessel_dx, nv);
    ALLOC(nw->vessel_fric, nv);
    ALLOC(nw->vessel_p0, nv);
    ALLOC(nw->vessel_names, nv);
    int nc = 0;
    for (int v = 0; v < nv; ++v) {
        const ht_vessel_spec *vs = &c->vessels[v];
        nw->vessel_first[v] = nc;
        nw->vessel_n[v] = vessel_cells(c, vs);
        nw->vessel_dx[v] = vs->length / nw->vessel_n[v];
        nw->vessel_fric[v] = 2 * (c->zeta + 2) * HT_PI * c->mu / c->rho;
        nw->vessel_p0[v] = vs->p_ref;
        nw->vessel_names[v] = vs->name;
        nc += nw->vessel_n[v];
    }
    ALLOC(nw->cell_vessel, nc);
    ALLOC(nw->sqrtA0, nc);
    ALLOC(nw->K, nc);
    ALLOC(nw->x, nc);
    ALLOC(nw->A_init, nc);
    /* the viscous wall step runs only when some wall is viscoelastic: an elastic network
     * keeps Gamma NULL and takes exactly the elastic path */
    int any_visco = 0;
    for (int v = 0; v < nv; ++v) any_visco |= c->vessels[v].phi > 0;
    if (any_visco) ALLOC(nw->Gamma, nc);
    for (int v = 0; v < nv; ++v) {
        const ht_vessel_spec *vs = &c->vessels[v];
        double p_init = c->p_init;
        for (int j = 0; j < nw->vessel_n[v]; ++j) {
            int i = nw->vessel_first[v] + j;
            double xc = (j + 0.5) * nw->vessel_dx[v];
            double r = vs->r_prox + (vs->r_dist - vs->r_prox) * xc / vs->length;
            double A0 = HT_PI * r * r;
            double h = vs->h > 0 ? vs->h : ht_empirical_thickness(r);
            nw->cell_vessel[i] = v;
            nw->x[i] = xc;
            nw->sqrtA0[i] = sqrt(A0);
            nw->K[i] = ht_stiffness(vs->E, h, A0);
            if (nw->Gamma) nw->Gamma[i] = ht_visco_gamma(vs->phi, h);
            double s = ht_sqrtA_from_p(p_init, nw->sqrtA0[i], nw->K[i], vs->p_ref);
            if (!(s > 0)) {
                snprintf(err->msg, sizeof err->msg,
                         "%s:%d: vessel '%s': initial pressure %.6g Pa collapses the vessel "
                         "(below its collapse pressure); raise numerics.initial_pressure",
                         vs->file, vs->line, vs->name, p_init);
                goto fail;
            }
            nw->A_init[i] = s * s;
        }
    }

    /* inlets and outlets */
    ALLOC(nw->inlets, c->n_inlets);
    for (int k = 0; k < c->n_inlets; ++k) {
        const ht_inlet_spec *is = &c->inlets[k];
        ht_inlet *in = &nw->inlets[k];
        in->cell = nw->vessel_first[is->vessel];
        in->face = in->cell + is->vessel;
        in->kind = is->kind == HT_INLET_PRESSURE ? HT_BC_PRESSURE : is->kind == HT_INLET_HEART ? HT_BC_HEART : HT_BC_FLOW;
        in->wave = is->wave;
        in->tracer = is->tracer;
    }
    /* the heart: closed loop, the outlets drain into its systemic veins */
    if (c->heart.enabled) {
        ALLOC(nw->heart_par, 1);
        ALLOC(nw->heart_init, 1);
        heart_from_case(c, nw->heart_par, nw->heart_init);
        if (c->n_inlets != 1 || c->inlets[0].kind != HT_INLET_HEART) {
            snprintf(err->msg, sizeof err->msg, "%s:%d: key 'heart': a case with a heart has exactly one inlet, the heart",
                     c->heart.file, c->heart.line);
            goto fail;
        }
    }
    /* devices (docs/devices.md): presets, the P-level's speed, the tip cell */
    if (c->heart.enabled && (c->devices.impella || c->devices.ecmo)) {
        const ht_devices_spec *ds = &c->devices;
        ALLOC(nw->dev, 1);
        ht_devices *D = nw->dev;
        if (ds->impella) {
            D->impella = 1;
            ht_impella_preset(&D->imp, ds->impella_model);
            D->imp_rpm = ds->impella_level >= 0 ? ht_impella_rpm(&D->imp, ds->impella_level) : ds->impella_rpm;
        }
        if (ds->ecmo) {
            D->ecmo = 1;
            ht_ecmo_preset(&D->ecmo_par);
            if (ds->ecmo_pump) D->ecmo_par.rpm = ds->ecmo_rpm;
            else ht_ecmo_set_prescribed(&D->ecmo_par, ds->ecmo_flow / HT_LPM);
            D->ecmo_par.dpc = ds->dpc ? HT_DPC_FRACTION : HT_DPC_NONE;
            if (ds->dpc) D->ecmo_par.dpc_frac = ds->dpc_frac;
            D->ecmo_par.S_oxy = ds->S_oxy;
            D->ecmo_par.S_native = ds->S_native;
            int v = ds->ecmo_vessel, j = (int)floor(ds->ecmo_x / nw->vessel_dx[v]);
            if (j > nw->vessel_n[v] - 1) j = nw->vessel_n[v] - 1;
            if (j < 0) j = 0;
            D->ecmo_cell = nw->vessel_first[v] + j;
            D->dpc_cell = -1;
            if (ds->dpc) {
                int u = ds->dpc_vessel, jd = (int)floor(ds->dpc_x / nw->vessel_dx[u]);
                if (jd > nw->vessel_n[u] - 1) jd = nw->vessel_n[u] - 1;
                if (jd < 0) jd = 0;
                D->dpc_cell = nw->vessel_first[u] + jd;
                if (D->dpc_cell == D->ecmo_cell) {
                    snprintf(err->msg, sizeof err->msg,
                             "%s:%d: key 'devices.ecmo.distal_perfusion': it enters the cell of the return cannula tip "
                             "(%s, %g cm); place it distal to the tip, in the leg", c->devices.file, c->devices.line,
                             c->vessels[u].name, 100 * ds->dpc_x);
                    goto fail;
                }
            }
        }
    }
    double p_sv0 = nw->heart_par ? ht_heart_venous_pressure(nw->heart_par, nw->heart_init) : 0;
    ALLOC(nw->outlets, c->n_outlets);
    ALLOC(nw->pc_init, c->n_outlets);
    ALLOC(nw->pcim_init, c->n_outlets);
    for (int k = 0; k < c->n_outlets; ++k) {
        const ht_outlet_spec *os = &c->outlets[k];
        ht_outlet *o = &nw->outlets[k];
        /* closed loop: the venous pressure of the heart replaces p_out */
        double p_out = nw->heart_par ? p_sv0 : os->p_out;
        if (nw->heart_par && os->kind == HT_OUTLET_REFLECTION) {
            snprintf(err->msg, sizeof err->msg,
                     "%s: outlet of vessel '%s': a reflection outlet cannot drain into the veins of the heart",
                     c->path, c->vessels[os->vessel].name);
            goto fail;
        }
        int v = os->vessel;
        o->cell = nw->vessel_first[v] + nw->vessel_n[v] - 1;
        o->face = o->cell + v + 1;
        o->kind = os->kind == HT_OUTLET_REFLECTION ? HT_OUT_REFLECTION
                  : os->kind == HT_OUTLET_RESISTANCE ? HT_OUT_RESISTANCE
                  : os->kind == HT_OUTLET_CORONARY   ? HT_OUT_CORONARY : HT_OUT_WINDKESSEL;
        o->R1 = os->R1;
        o->C = os->C;
        o->R2 = os->R2;
        o->p_out = os->p_out;
        o->Rt = os->Rt;
        /* start the compliance at the pressure the network starts at, so the first beat
         * does not begin with a discharge transient */
        nw->pc_init[k] = os->R2 > 0 ? c->p_init : p_out;
        nw->pcim_init[k] = p_out;
        if (os->kind == HT_OUTLET_CORONARY) {
            /* Ca at the initial pressure, Cim where a steady drain from it would put it */
            o->Ca = os->Ca;
            o->Ram = os->Ram;
            o->Cim = os->Cim;
            o->Rv = os->Rv;
            o->pim = os->pim;
            nw->pc_init[k] = c->p_init;
            nw->pcim_init[k] = p_out + os->Rv * (c->p_init - p_out) / (os->Ram + os->Rv);
        }
    }

    /* junctions: every node with two or more vessel ends */
    ALLOC(nw->junc_off, c->n_nodes + 1);
    int n_ends = 2 * nv;
    ALLOC(nw->jend_cell, n_ends);
    ALLOC(nw->jend_face, n_ends);
    ALLOC(nw->jend_sign, n_ends);
    int nj = 0, ne = 0;
    for (int nd = 0; nd < c->n_nodes; ++nd) {
        int deg = 0;
        for (int v = 0; v < nv; ++v) deg += (c->vessels[v].node_from == nd) + (c->vessels[v].node_to == nd);
        if (deg < 2) continue;
        if (deg > HT_JUNCTION_MAX) {
            snprintf(err->msg, sizeof err->msg,
                     "%s: node '%s' joins %d vessel ends; at most %d are supported", c->path,
                     c->node_names[nd], deg, HT_JUNCTION_MAX);
            goto fail;
        }
        nw->junc_off[nj] = ne;
        for (int v = 0; v < nv; ++v) {
            if (c->vessels[v].node_to == nd) {
                int cell = nw->vessel_first[v] + nw->vessel_n[v] - 1;
                nw->jend_cell[ne] = cell;
                nw->jend_face[ne] = cell + v + 1;
                nw->jend_sign[ne] = 1;
                ++ne;
            }
            if (c->vessels[v].node_from == nd) {
                int cell = nw->vessel_first[v];
                nw->jend_cell[ne] = cell;
                nw->jend_face[ne] = cell + v;
                nw->jend_sign[ne] = -1;
                ++ne;
            }
        }
        ++nj;
    }
    nw->junc_off[nj] = ne;

    /* probes */
    ALLOC(nw->probe_cell, c->n_probes);
    ALLOC(nw->probe_w, c->n_probes);
    ALLOC(nw->probe_names, c->n_probes);
    for (int k = 0; k < c->n_probes; ++k) {
        const ht_probe_spec *ps = &c->probes[k];
        int v = ps->vessel, m = nw->vessel_n[v];
        double dx = nw->vessel_dx[v];
        double s = ps->x / dx - 0.5; /* position in cell-centre units */
        int j = (int)floor(s);
        double wgt = s - j;
        if (j < 0) { j = 0; wgt = 0; }
        if (j >= m - 1) { j = m - 1; wgt = 0; }
        nw->probe_cell[k] = nw->vessel_first[v] + j;
        nw->probe_w[k] = wgt;
        nw->probe_names[k] = ps->name;
    }

    /* geometry: n + 1 points per vessel along its centreline */
    nw->n_points = nc + nv;
    ALLOC(nw->points, 3 * nw->n_points);
    ALLOC(nw->segments, 2 * nc);
    ALLOC(node_pos, 3 * c->n_nodes);
    ALLOC(vdir, 3 * nv);
    int need_layout = 0;
    for (int v = 0; v < nv; ++v) need_layout |= c->vessels[v].n_points < 2;
    if (need_layout && generated_layout(c, node_pos, vdir)) goto oom;
    for (int v = 0; v < nv; ++v) {
        const ht_vessel_spec *vs = &c->vessels[v];
        int m = nw->vessel_n[v], p0i = nw->vessel_first[v] + v;
        for (int j = 0; j <= m; ++j) {
            double *pt = &nw->points[3 * (p0i + j)];
            double s = (double)j / m;
            if (vs->n_points >= 2) {
                polyline_at(vs->points, vs->n_points, s, pt);
            } else {
                for (int a = 0; a < 3; ++a) pt[a] = node_pos[3 * vs->node_from + a] + vdir[3 * v + a] * s * vs->length;
            }
        }
        for (int j = 0; j < m; ++j) {
            nw->segments[2 * (nw->vessel_first[v] + j)] = p0i + j;
            nw->segments[2 * (nw->vessel_first[v] + j) + 1] = p0i + j + 1;
        }
    }
    free(node_pos);
    free(vdir);
    node_pos = vdir = NULL; /* the failure path below frees them again */

    n->n_cells = nc;
    n->n_vessels = nv;
    n->n_faces = nc + nv;
    n->rho = c->rho;
    n->alpha = c->alpha;
    n->cfl = c->cfl;
    n->limiter = (int)c->limiter;
    n->tracer_limiter = (int)c->tracer_limiter;
    n->tracer = c->tracer;
    if (fill_reciprocals(nw)) goto oom;
    bind_arrays(nw);
    n->n_inlets = c->n_inlets;
    n->n_outlets = c->n_outlets;
    n->n_junctions = nj;
    n->junction_tol = c->junction_tol;
    n->junction_maxit = c->junction_maxit;
    n->n_probes = c->n_probes;
    n->n_members = 1;
    n->m_cells = n->n_cells;
    n->m_faces = n->n_faces;
    n->m_vessels = n->n_vessels;
    n->m_inlets = n->n_inlets;
    n->m_outlets = n->n_outlets;
    n->m_junctions = n->n_junctions;
    n->m_probes = n->n_probes;
    if (nw->heart_par && c->heart.total_volume > 0) {
        /* total_volume: the systemic veins take what the 1D tree, the outlet compliances and
         * the other 0D compartments do not hold at t = 0 */
        ht_heart_state *X = nw->heart_init;
        double v1d = 0, vout = 0, v0d = ht_heart_volume(X) - X->V[HT_HC_SV];
        for (int i = 0; i < nc; ++i) v1d += nw->A_init[i] * nw->vessel_dx[nw->cell_vessel[i]];
        {
            ht_work w0;
            memset(&w0, 0, sizeof w0);
            w0.pc = nw->pc_init;
            w0.pcim = nw->pcim_init;
            real plv0 = ht_heart_lv_pressure0(nw->heart_par, X);
            w0.hX = X;
            w0.h_plv_ref = &plv0;
            vout = ht_outlet_stored_volume(n, &w0, 0, 0);
        }
        X->V[HT_HC_SV] = c->heart.total_volume - v1d - vout - v0d;
        if (!(X->V[HT_HC_SV] > 0)) {
            snprintf(err->msg, sizeof err->msg,
                     "%s:%d: key 'heart.total_volume': %.6g mL leaves no blood for the systemic veins (the 1D tree "
                     "holds %.6g mL, the outlet compliances %.6g mL, the other 0D compartments %.6g mL)",
                     c->heart.file, c->heart.line, 1e6 * c->heart.total_volume, 1e6 * v1d, 1e6 * vout, 1e6 * v0d);
            goto fail;
        }
    } else if (nw->heart_par && !(nw->heart_init->V[HT_HC_SV] > 0)) {
        snprintf(err->msg, sizeof err->msg,
                 "%s:%d: key 'heart.volume_change': leaves %.6g mL in the systemic veins; expected a positive volume",
                 c->heart.file, c->heart.line, 1e6 * nw->heart_init->V[HT_HC_SV]);
        goto fail;
    }
    return 0;

oom:
    snprintf(err->msg, sizeof err->msg, "%s: out of memory building the network", c->path);
fail:
    free(node_pos);
    free(vdir);
    ht_network_free(nw);
    return 2;
}

void ht_network_free(ht_network *nw)
{
    if (!nw) return;
    free(nw->cell_vessel);
    free(nw->vessel_first);
    free(nw->vessel_n);
    free(nw->vessel_dx);
    free(nw->vessel_fric);
    free(nw->vessel_p0);
    free(nw->sqrtA0);
    free(nw->K);
    free(nw->vessel_rdx);
    free(nw->invK);
    free(nw->Gamma);
    free(nw->inlets);
    free(nw->outlets);
    free(nw->junc_off);
    free(nw->jend_cell);
    free(nw->jend_face);
    free(nw->jend_sign);
    free(nw->probe_cell);
    free(nw->probe_w);
    free(nw->points);
    free(nw->segments);
    free(nw->x);
    free((void *)nw->vessel_names);
    free((void *)nw->probe_names);
    free(nw->A_init);
    free(nw->pc_init);
    free(nw->pcim_init);
    free(nw->heart_par);
    free(nw->dev);
    free(nw->heart_init);
    memset(nw, 0, sizeof *nw);
}

void ht_network_where(const ht_network *nw, const ht_case *c, int cell, char *buf, size_t len)
{
    if (cell < 0 || cell >= nw->net.n_cells) {
        snprintf(buf, len, "cell %d", cell);
        return;
    }
    int v = nw->cell_vessel[cell];
    snprintf(buf, len, "vessel '%s' at x = %.2f cm (cell %d of %d)", c->vessels[v].name,
             100 * nw->x[cell], cell - nw->vessel_first[v], nw->vessel_n[v]);
}

/* Same shape: every count and index array equal, and the scalars a stacked network holds
 * once (they are not per member). */
static const char *shape_differs(const ht_net *a, const ht_net *b)
{
    if (a->n_cells != b->n_cells || a->n_vessels != b->n_vessels || a->n_inlets != b->n_inlets ||
        a->n_outlets != b->n_outlets || a->n_junctions != b->n_junctions || a->n_probes != b->n_probes)
        return "a different network size";
    if (a->rho != b->rho || a->alpha != b->alpha || a->cfl != b->cfl || a->limiter != b->limiter ||
        a->tracer_limiter != b->tracer_limiter || a->tracer != b->tracer || a->junction_tol != b->junction_tol ||
        a->junction_maxit != b->junction_maxit)
        return "different blood or numerics settings";
    if ((a->Gamma == NULL) != (b->Gamma == NULL)) return "viscoelastic walls in one and not the other";
    if (a->heart != b->heart) return "a heart in one and not the other";
    if ((a->dev != NULL) != (b->dev != NULL)) return "devices in one and not the other";
    for (int v = 0; v < a->n_vessels; ++v)
        if (a->vessel_n[v] != b->vessel_n[v]) return "different cell counts";
    for (int k = 0; k < a->n_inlets; ++k)
        if (a->inlets[k].cell != b->inlets[k].cell) return "different inlets";
    for (int k = 0; k < a->n_outlets; ++k)
        if (a->outlets[k].cell != b->outlets[k].cell) return "different outlets";
    for (int j = 0; j <= a->n_junctions; ++j)
        if (a->junc_off[j] != b->junc_off[j]) return "different junctions";
    int ends = a->junc_off[a->n_junctions];
    for (int e = 0; e < ends; ++e)
        if (a->jend_cell[e] != b->jend_cell[e] || a->jend_sign[e] != b->jend_sign[e]) return "different junctions";
    for (int k = 0; k < a->n_probes; ++k)
        if (a->probe_cell[k] != b->probe_cell[k]) return "different probes";
    return NULL;
}

int ht_network_same_shape(const ht_network *a, const ht_network *b, const char **why)
{
    const char *w = shape_differs(&a->net, &b->net);
    if (why) *why = w;
    return w == NULL;
}

int ht_network_stack(const ht_network *const *mem, int M, ht_network *out, ht_error *err)
{
    memset(out, 0, sizeof *out);
    const ht_net *a = &mem[0]->net;
    for (int m = 1; m < M; ++m) {
        const char *why = shape_differs(a, &mem[m]->net);
        if (why) {
            snprintf(err->msg, sizeof err->msg, "ensemble member %d cannot share a launch with member 0: %s", m, why);
            return 2;
        }
    }
    int nc = a->n_cells, nv = a->n_vessels, ni = a->n_inlets, no = a->n_outlets, nj = a->n_junctions,
        np = a->n_probes, nf = a->n_faces, ne = a->junc_off[nj];
    size_t Mz = (size_t)M;
#define SALLOC(ptr, count) do { if (!((ptr) = calloc((size_t)(count) * Mz + 1, sizeof *(ptr)))) goto oom; } while (0)
    SALLOC(out->cell_vessel, nc);
    SALLOC(out->vessel_first, nv);
    SALLOC(out->vessel_n, nv);
    SALLOC(out->vessel_dx, nv);
    SALLOC(out->vessel_fric, nv);
    SALLOC(out->vessel_p0, nv);
    SALLOC(out->sqrtA0, nc);
    SALLOC(out->K, nc);
    if (a->Gamma) SALLOC(out->Gamma, nc);
    SALLOC(out->inlets, ni);
    SALLOC(out->outlets, no);
    SALLOC(out->junc_off, nj);
    SALLOC(out->jend_cell, ne);
    SALLOC(out->jend_face, ne);
    SALLOC(out->jend_sign, ne);
    SALLOC(out->probe_cell, np);
    SALLOC(out->probe_w, np);
    SALLOC(out->A_init, nc);
    SALLOC(out->pc_init, no);
    SALLOC(out->pcim_init, no);
    if (a->heart) {
        SALLOC(out->heart_par, 1);
        SALLOC(out->heart_init, 1);
    }
    if (mem[0]->dev) SALLOC(out->dev, 1);
#undef SALLOC
    for (int m = 0; m < M; ++m) {
        const ht_network *s = mem[m];
        int oc = m * nc, ov = m * nv, of = m * nf, oi = m * ni, oo = m * no, oe = m * ne, op = m * np;
        for (int i = 0; i < nc; ++i) {
            out->cell_vessel[oc + i] = s->cell_vessel[i] + ov;
            out->sqrtA0[oc + i] = s->sqrtA0[i];
            out->K[oc + i] = s->K[i];
            if (a->Gamma) out->Gamma[oc + i] = s->Gamma[i];
            out->A_init[oc + i] = s->A_init[i];
        }
        for (int v = 0; v < nv; ++v) {
            out->vessel_first[ov + v] = s->vessel_first[v] + oc;
            out->vessel_n[ov + v] = s->vessel_n[v];
            out->vessel_dx[ov + v] = s->vessel_dx[v];
            out->vessel_fric[ov + v] = s->vessel_fric[v];
            out->vessel_p0[ov + v] = s->vessel_p0[v];
        }
        /* waveforms keep pointing into the member's own network, which must outlive this one */
        for (int k = 0; k < ni; ++k) {
            out->inlets[oi + k] = s->inlets[k];
            out->inlets[oi + k].cell += oc;
            out->inlets[oi + k].face += of;
        }
        for (int k = 0; k < no; ++k) {
            out->outlets[oo + k] = s->outlets[k];
            out->outlets[oo + k].cell += oc;
            out->outlets[oo + k].face += of;
            out->pc_init[oo + k] = s->pc_init[k];
            out->pcim_init[oo + k] = s->pcim_init[k];
        }
        for (int j = 0; j < nj; ++j) out->junc_off[m * nj + j] = s->junc_off[j] + oe;
        for (int e = 0; e < ne; ++e) {
            out->jend_cell[oe + e] = s->jend_cell[e] + oc;
            out->jend_face[oe + e] = s->jend_face[e] + of;
            out->jend_sign[oe + e] = s->jend_sign[e];
        }
        for (int k = 0; k < np; ++k) {
            out->probe_cell[op + k] = s->probe_cell[k] + oc;
            out->probe_w[op + k] = s->probe_w[k];
        }
        if (a->heart) {
            out->heart_par[m] = s->heart_par[0];
            out->heart_init[m] = s->heart_init[0];
        }
        if (out->dev) {
            out->dev[m] = s->dev[0];
            if (out->dev[m].ecmo) out->dev[m].ecmo_cell += oc;
            if (out->dev[m].ecmo && out->dev[m].dpc_cell >= 0) out->dev[m].dpc_cell += oc;
        }
    }
    out->junc_off[M * nj] = M * ne;

    ht_net *n = &out->net;
    *n = *a;
    n->n_cells = M * nc;
    n->n_faces = M * nf;
    n->n_vessels = M * nv;
    n->n_inlets = M * ni;
    n->n_outlets = M * no;
    n->n_junctions = M * nj;
    n->n_probes = M * np;
    n->n_members = M;
    n->m_cells = nc;
    n->m_faces = nf;
    n->m_vessels = nv;
    n->m_inlets = ni;
    n->m_outlets = no;
    n->m_junctions = nj;
    n->m_probes = np;
    if (fill_reciprocals(out)) goto oom;
    bind_arrays(out);
    /* the geometry is member 0's (all members share it); not owned here */
    return 0;
oom:
    snprintf(err->msg, sizeof err->msg, "out of memory stacking %d ensemble members", M);
    ht_network_free(out);
    return 2;
}
