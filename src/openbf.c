/* openBF networks (github.com/INSIGNEO/openBF), read as they are published, so the
 * Boileau et al. 2015 benchmark files run without conversion.
 *
 * openBF's tube law P = Pext + beta (sqrt(A/A0) - 1), beta = sqrt(pi/A0) h0 E / (1 - 0.25),
 * is ours with E, h = h0 and reference pressure p_ref = Pext: beta/sqrt(A0) = (4/3) sqrt(pi)
 * E h0 / A0 = K. openBF's empirical h0(R0) is the one network.c applies per cell when h = 0.
 * openBF spells some keys with a space or a hyphen ("gamma profile", "visco-elastic");
 * keys here match with ' ', '-' and '_' taken as the same character. */
#include "case_internal.h"
#include "tubelaw.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int norm_eq(const char *a, const char *b)
{
    for (;; ++a, ++b) {
        char x = *a == ' ' || *a == '-' ? '_' : *a;
        char y = *b == ' ' || *b == '-' ? '_' : *b;
        if (x != y) return 0;
        if (!x) return 1;
    }
}

static const yt_node *ob_get(const yt_node *map, const char *key)
{
    if (!map || map->kind != YT_MAP) return NULL;
    for (size_t i = 0; i < map->n; ++i)
        if (norm_eq(map->keys[i], key)) return map->items[i];
    return NULL;
}

/* The typed getters of case_internal.h look keys up exactly; give them the spelling used. */
static const char *ob_key(const yt_node *map, const char *key)
{
    if (map && map->kind == YT_MAP)
        for (size_t i = 0; i < map->n; ++i)
            if (norm_eq(map->keys[i], key)) return map->keys[i];
    return key;
}

static int ob_check_keys(const yt_node *map, const char *path, const char *const *allowed, ht_error *err)
{
    if (!map || map->kind != YT_MAP) return 0;
    for (size_t i = 0; i < map->n; ++i) {
        int ok = 0;
        for (const char *const *a = allowed; *a; ++a) ok |= norm_eq(*a, map->keys[i]);
        for (size_t j = 0; j < i && ok; ++j)
            if (norm_eq(map->keys[j], map->keys[i])) {
                char kp[256];
                ht_join(kp, sizeof kp, path, map->keys[i]);
                return ht_fail(err, map->items[i]->file, map->key_lines[i], kp,
                               "given twice (also as '%s' at line %d)", map->keys[j], map->key_lines[j]);
            }
        if (ok) continue;
        char list[600], kp[256];
        size_t o = 0;
        list[0] = 0;
        for (const char *const *a = allowed; *a && o < sizeof list; ++a) {
            int w = snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "", *a);
            if (w < 0) break;
            o += (size_t)w;
        }
        ht_join(kp, sizeof kp, path, map->keys[i]);
        return ht_fail(err, map->items[i]->file, map->key_lines[i], kp,
                       "unknown openBF key (a typo?); expected one of: %s", list);
    }
    return 0;
}

static int ob_quantity(const yt_node *map, const char *path, const char *key, const char *dim, ht_sign sign,
                       double def, double *out, int *given, ht_error *err)
{
    return ht_get_quantity(map, path, ob_key(map, key), dim, sign, def, out, given, err);
}

static int ob_required(const yt_node *map, const char *path, const char *key, const char *dim, ht_sign sign,
                       double *out, ht_error *err)
{
    return ht_get_required(map, path, ob_key(map, key), dim, sign, out, err);
}

static int ob_bool_false(const yt_node *map, const char *path, const char *key, const char *what, ht_error *err)
{
    int v, rc = ht_get_bool(map, path, ob_key(map, key), 0, &v, err);
    if (rc) return rc;
    if (v) {
        char kp[256];
        ht_join(kp, sizeof kp, path, ob_key(map, key));
        return ht_fail_at(err, ob_get(map, key), kp, "not supported: %s; set it to false or remove it", what);
    }
    return 0;
}

static const char *const TOP_KEYS[] = {"project_name", "inlet_file", "write_results", "output_directory",
                                       "blood", "solver", "network", NULL};
static const char *const VESSEL_KEYS[] = {"label", "sn", "tn", "L", "E", "R0", "Rp", "Rd", "h0", "M", "Pext",
                                          "gamma_profile", "outlet", "R1", "R2", "Cc", "Rt", "Pout",
                                          "inlet_impedance_matching", "to_save", "visco_elastic", "inlet",
                                          "inlet_file", "inlet_number", NULL};

/* Characteristic impedance rho c0 / A0 at the vessel's distal end, for wk2 outlets. */
static double distal_impedance(const ht_case *c, const ht_vessel_spec *vs)
{
    double r = vs->r_dist, A0 = HT_PI * r * r;
    double h = vs->h > 0 ? vs->h : ht_empirical_thickness(r);
    double K = ht_stiffness(vs->E, h, A0);
    double c0 = sqrt(K * sqrt(A0) / (2 * c->rho));
    return c->rho * c0 / A0;
}

static int parse_outlet(const yt_node *it, const char *path, int v, ht_case *c, ht_where *at, ht_error *err)
{
    const yt_node *on = ob_get(it, "outlet");
    char kp[256];
    const char *type = NULL;
    int rc;
    if (on) {
        ht_join(kp, sizeof kp, path, "outlet");
        if (on->kind == YT_SCALAR &&
            (!strcmp(on->text, "wk3") || !strcmp(on->text, "wk2") || !strcmp(on->text, "reflection")))
            type = on->text;
        else
            return ht_fail_at(err, on, kp, "expected wk3, wk2 or reflection, found %s",
                              on->kind == YT_SCALAR ? on->text : yt_kind_name(on));
    } else if (ob_get(it, "R1") || ob_get(it, "R2") || ob_get(it, "Cc")) {
        type = "wk3"; /* openBF infers a windkessel from its parameters */
    } else if (ob_get(it, "Rt")) {
        type = "reflection";
    } else {
        return 0;
    }
    ht_outlet_spec *os = &c->outlets[c->n_outlets];
    const ht_vessel_spec *vs = &c->vessels[v];
    memset(os, 0, sizeof *os);
    os->vessel = v;
    at->file = it->file;
    at->line = on ? yt_key_line(it, ob_key(it, "outlet")) : it->line;
    snprintf(at->path, sizeof at->path, "%s", path);
    if ((rc = ob_quantity(it, path, "Pout", "pressure", HT_ANY, 0, &os->p_out, NULL, err))) return rc;
    if (!strcmp(type, "reflection")) {
        os->kind = HT_OUTLET_REFLECTION;
        if ((rc = ob_required(it, path, "Rt", "dimensionless", HT_ANY, &os->Rt, err))) return rc;
        if (os->Rt < -1 || os->Rt > 1) {
            ht_join(kp, sizeof kp, path, ob_key(it, "Rt"));
            return ht_fail_at(err, ob_get(it, "Rt"), kp, "expected a reflection coefficient in [-1, 1], found %g",
                              os->Rt);
        }
    } else {
        double R1, Cc, R2;
        int r2_given;
        if ((rc = ob_required(it, path, "R1", "resistance", HT_NONNEGATIVE, &R1, err)) ||
            (rc = ob_required(it, path, "Cc", "compliance", HT_NONNEGATIVE, &Cc, err)) ||
            (rc = ob_quantity(it, path, "R2", "resistance", HT_NONNEGATIVE, 0, &R2, &r2_given, err)))
            return rc;
        if (!strcmp(type, "wk2")) {
            /* openBF's wk2: R1 is the whole peripheral resistance; it puts the vessel's
             * characteristic impedance in front so the outlet does not reflect */
            double Z0 = distal_impedance(c, vs);
            if (r2_given) {
                ht_join(kp, sizeof kp, path, ob_key(it, "R2"));
                return ht_fail_at(err, ob_get(it, "R2"), kp, "a wk2 outlet takes R1 and Cc only (R1 is the total "
                                  "resistance); use outlet: wk3 for R1, R2, Cc");
            }
            if (!(R1 > Z0)) {
                ht_join(kp, sizeof kp, path, ob_key(it, "R1"));
                return ht_fail_at(err, ob_get(it, "R1"), kp,
                                  "a wk2 needs R1 above the vessel's characteristic impedance %.4g Pa s/m^3, found %g",
                                  Z0, R1);
            }
            os->kind = HT_OUTLET_WINDKESSEL;
            os->R1 = Z0;
            os->C = Cc;
            os->R2 = R1 - Z0;
        } else if (!(R2 > 0)) {
            /* a wk3 without R2 (the 37-artery model's terminals): R1 drains straight to
             * p_out, Cc is then in series with nothing and drops out */
            if (!(R1 > 0)) {
                ht_join(kp, sizeof kp, path, ob_key(it, "R1"));
                return ht_fail_at(err, ob_get(it, "R1"), kp, "a wk3 without R2 needs R1 > 0, found %g", R1);
            }
            os->kind = HT_OUTLET_RESISTANCE;
            os->R1 = R1;
        } else {
            os->kind = HT_OUTLET_WINDKESSEL;
            os->R1 = R1;
            os->C = Cc;
            os->R2 = R2;
        }
    }
    c->n_outlets++;
    return 0;
}

static int parse_vessel(const yt_node *it, size_t i, ht_case *c, double *zeta, int *zeta_line, ht_error *err)
{
    ht_vessel_spec *vs = &c->vessels[i];
    char path[256], kp[256];
    int rc;
    snprintf(path, sizeof path, "network.%zu", i);
    if ((rc = ht_expect_map(it, path, "a vessel", err))) return rc;
    const yt_node *lb = ob_get(it, "label");
    ht_join(kp, sizeof kp, path, "label");
    if (!lb) return ht_fail_at(err, it, kp, "missing: every vessel needs a label");
    if ((rc = ht_node_name(lb, kp, vs->name, err))) return rc;
    snprintf(path, sizeof path, "network.%s", vs->name);
    snprintf(vs->file, sizeof vs->file, "%s", it->file);
    vs->line = it->line;
    if ((rc = ob_check_keys(it, path, VESSEL_KEYS, err))) return rc;
    for (size_t j = 0; j < i; ++j)
        if (!strcmp(c->vessels[j].name, vs->name))
            return ht_fail_at(err, lb, kp, "duplicate vessel label '%s' (first at %s:%d)", vs->name,
                              c->vessels[j].file, c->vessels[j].line);
    const char *ends[2] = {"sn", "tn"};
    int *idx[2] = {&vs->node_from, &vs->node_to};
    for (int e = 0; e < 2; ++e) {
        int node;
        ht_join(kp, sizeof kp, path, ends[e]);
        if (!ob_get(it, ends[e])) return ht_fail_at(err, it, kp, "missing: expected a node number");
        if ((rc = ht_get_int(it, path, ends[e], 0, 1000000000, 0, &node, err))) return rc;
        char name[HT_NAME_MAX];
        snprintf(name, sizeof name, "%d", node);
        if ((*idx[e] = ht_node_index(c, name)) < 0) return ht_fail_at(err, it, kp, "out of memory");
    }
    if ((rc = ob_required(it, path, "L", "length", HT_POSITIVE, &vs->length, err)) ||
        (rc = ob_required(it, path, "E", "pressure", HT_POSITIVE, &vs->E, err)))
        return rc;
    double R0 = 0;
    int has_r0, has_rp;
    if ((rc = ob_quantity(it, path, "R0", "length", HT_POSITIVE, 0, &R0, &has_r0, err)) ||
        (rc = ob_quantity(it, path, "Rp", "length", HT_POSITIVE, R0, &vs->r_prox, &has_rp, err)) ||
        (rc = ob_quantity(it, path, "Rd", "length", HT_POSITIVE, vs->r_prox, &vs->r_dist, NULL, err)))
        return rc;
    if (!has_r0 && !has_rp) {
        ht_join(kp, sizeof kp, path, "R0");
        return ht_fail_at(err, it, kp, "missing radius: give R0, or Rp (and Rd for a taper)");
    }
    if ((rc = ob_quantity(it, path, "h0", "length", HT_POSITIVE, 0, &vs->h, NULL, err)) ||
        (rc = ob_quantity(it, path, "Pext", "pressure", HT_ANY, 0, &vs->p_ref, NULL, err)) ||
        (rc = ht_get_int(it, path, ob_key(it, "M"), 1, 10000000, 0, &vs->n_cells, err)))
        return rc;
    double z;
    int zg;
    if ((rc = ob_quantity(it, path, "gamma_profile", "dimensionless", HT_POSITIVE, 9, &z, &zg, err))) return rc;
    if (i == 0) {
        *zeta = z;
        *zeta_line = zg ? yt_key_line(it, ob_key(it, "gamma_profile")) : it->line;
    } else if (z != *zeta) {
        ht_join(kp, sizeof kp, path, ob_key(it, "gamma_profile"));
        return ht_fail(err, it->file, zg ? yt_key_line(it, ob_key(it, "gamma_profile")) : it->line, kp,
                       "not supported: gamma_profile %g differs from the first vessel's %g (line %d); hemotree "
                       "uses one velocity profile per case",
                       z, *zeta, *zeta_line);
    }
    if ((rc = ob_bool_false(it, path, "inlet_impedance_matching", "inlet_impedance_matching (R1 recomputed from "
                            "the wave speed at every step)", err)) ||
        (rc = ob_bool_false(it, path, "visco_elastic", "visco-elastic walls in openBF networks", err)))
        return rc;
    return 0;
}

int ht_openbf_build(const yt_doc *doc, ht_case *c, ht_sbuf *cfg, ht_error *err)
{
    const yt_node *root = doc->root;
    const yt_node *net = ob_get(root, "network");
    ht_where *out_at = NULL, in_at;
    int rc;
    memset(&in_at, 0, sizeof in_at);
    if ((rc = ob_check_keys(root, "", TOP_KEYS, err))) return rc;

    const yt_node *pn = ob_get(root, "project_name");
    if (pn) {
        if ((rc = ht_node_name(pn, ob_key(root, "project_name"), c->name, err))) return rc;
    } else {
        const char *b = strrchr(doc->file, '/');
        b = b ? b + 1 : doc->file;
        const char *dot = strrchr(b, '.');
        int len = dot && dot > b ? (int)(dot - b) : (int)strlen(b);
        snprintf(c->name, sizeof c->name, "%.*s", len, b);
    }

    /* openBF requires blood; its defaults would be ours anyway, but a missing rho/mu in an
     * openBF file is a broken file */
    static const char *const bk[] = {"rho", "mu", NULL};
    const yt_node *blood = ob_get(root, "blood");
    if (!blood) return ht_fail(err, doc->file, 1, "blood", "missing: openBF networks give blood: {rho, mu}");
    if ((rc = ht_expect_map(blood, "blood", "the blood section {rho, mu}", err)) ||
        (rc = ob_check_keys(blood, "blood", bk, err)) ||
        (rc = ob_required(blood, "blood", "rho", "density", HT_POSITIVE, &c->rho, err)) ||
        (rc = ob_required(blood, "blood", "mu", "viscosity", HT_NONNEGATIVE, &c->mu, err)))
        return rc;

    static const char *const sk[] = {"Ccfl", "cycles", "jump", "convergence_tolerance", NULL};
    const yt_node *solver = ob_get(root, "solver");
    if (solver) {
        if ((rc = ht_expect_map(solver, "solver", "the solver section {Ccfl, cycles, ...}", err)) ||
            (rc = ob_check_keys(solver, "solver", sk, err)) ||
            (rc = ob_quantity(solver, "solver", "Ccfl", "dimensionless", HT_ANY, c->cfl, &c->cfl, NULL, err)) ||
            (rc = ht_get_int(solver, "solver", ob_key(solver, "cycles"), 1, 1000000, c->cycles, &c->cycles, err)))
            return rc;
        if (!(c->cfl > 0 && c->cfl <= 1))
            return ht_fail_at(err, ob_get(solver, "Ccfl"), "solver.Ccfl", "expected a CFL number in (0, 1], found %g",
                              c->cfl);
    }

    if (!net || net->kind != YT_SEQ || net->n == 0)
        return ht_fail_at(err, net ? net : root, "network", "expected a list of vessels");
    c->vessels = calloc(net->n, sizeof *c->vessels);
    c->outlets = calloc(net->n, sizeof *c->outlets);
    out_at = calloc(net->n, sizeof *out_at);
    c->inlets = calloc(1, sizeof *c->inlets);
    if (!c->vessels || !c->outlets || !out_at || !c->inlets) {
        rc = ht_fail_at(err, net, "network", "out of memory");
        goto done;
    }
    c->n_vessels = (int)net->n;
    /* openBF cells are at most 1 mm and at least 5 per vessel when M is not given */
    c->min_cells = 5;
    c->dx = 1e-3;
    int zeta_line = 0;
    for (size_t i = 0; i < net->n; ++i)
        if ((rc = parse_vessel(net->items[i], i, c, &c->zeta, &zeta_line, err))) goto done;
    for (size_t i = 0; i < net->n; ++i) {
        char path[256];
        snprintf(path, sizeof path, "network.%s", c->vessels[i].name);
        if ((rc = parse_outlet(net->items[i], path, (int)i, c, &out_at[c->n_outlets], err))) goto done;
    }

    /* the inlet: openBF v1 marks it per vessel (inlet: Q, inlet file:), later versions
     * take the vessel starting at node 1 and the top-level inlet_file */
    int iv = -1;
    const yt_node *file_node = NULL, *type_node = NULL;
    for (size_t i = 0; i < net->n; ++i) {
        const yt_node *it = net->items[i];
        if (!ob_get(it, "inlet")) continue;
        char kp[256];
        snprintf(kp, sizeof kp, "network.%s.inlet", c->vessels[i].name);
        if (iv >= 0) {
            rc = ht_fail_at(err, ob_get(it, "inlet"), kp,
                            "not supported: more than one openBF inlet (also on vessel '%s')", c->vessels[iv].name);
            goto done;
        }
        iv = (int)i;
        type_node = ob_get(it, "inlet");
        file_node = ob_get(it, "inlet_file");
        snprintf(in_at.path, sizeof in_at.path, "%s", kp);
        in_at.file = it->file;
        in_at.line = type_node->line;
        if (!file_node) {
            rc = ht_fail_at(err, type_node, kp, "an openBF per-vessel inlet needs 'inlet file'");
            goto done;
        }
    }
    if (iv < 0) {
        int n1 = 0;
        for (int v = 0; v < c->n_vessels; ++v)
            if (!strcmp(c->node_names[c->vessels[v].node_from], "1")) {
                if (!n1++) iv = v;
            }
        if (n1 != 1) {
            rc = ht_fail(err, doc->file, net->line, "network",
                         "openBF's inlet is node 1, but %d vessels start there (sn: 1); exactly one must", n1);
            goto done;
        }
        file_node = ob_get(root, "inlet_file");
        in_at.file = doc->file;
        in_at.line = file_node ? file_node->line : net->line;
        snprintf(in_at.path, sizeof in_at.path, "%s", file_node ? ob_key(root, "inlet_file") : "project_name");
    }
    char rel[512], full[1024];
    if (file_node) {
        if (file_node->kind != YT_SCALAR || !file_node->text[0]) {
            rc = ht_fail_at(err, file_node, in_at.path, "expected the inlet file name, found %s",
                            yt_kind_name(file_node));
            goto done;
        }
        snprintf(rel, sizeof rel, "%s", file_node->text);
    } else if (pn) {
        snprintf(rel, sizeof rel, "%s_inlet.dat", c->name); /* openBF's default */
    } else {
        rc = ht_fail(err, doc->file, 1, "inlet_file", "missing: give inlet_file (or project_name, for "
                     "<project_name>_inlet.dat)");
        goto done;
    }
    const char *base = file_node && strcmp(file_node->file, "--set") ? file_node->file : doc->file;
    if (ht_resolve_path(base, rel, full, sizeof full)) {
        rc = ht_fail(err, in_at.file, in_at.line, in_at.path, "path too long");
        goto done;
    }
    ht_inlet_spec *is = &c->inlets[0];
    c->n_inlets = 1;
    is->vessel = iv;
    is->kind = HT_INLET_FLOW;
    if (type_node) {
        if (type_node->kind == YT_SCALAR && !strcmp(type_node->text, "P"))
            is->kind = HT_INLET_PRESSURE;
        else if (!(type_node->kind == YT_SCALAR && !strcmp(type_node->text, "Q"))) {
            rc = ht_fail_at(err, type_node, in_at.path, "expected Q (flow) or P (pressure), found %s",
                            type_node->kind == YT_SCALAR ? type_node->text : yt_kind_name(type_node));
            goto done;
        }
    }
    double *t, *v;
    int n;
    {
        yt_node where = {0};
        where.file = in_at.file;
        where.line = in_at.line;
        if ((rc = ht_read_table(full, &where, in_at.path, cfg, &t, &v, &n, err))) goto done;
    }
    is->wave.kind = HT_WAVE_TABLE;
    is->wave.t = t;
    is->wave.v = v;
    is->wave.n = n;
    is->wave.scale = 1;
    is->wave.period = t[n - 1]; /* openBF's cardiac period is the table's last time */
    is->tracer = 0;

    static const ht_key_words words = {"network", "sn", "tn", "inlet_file",
                                       "outlet: wk3 with R1, R2, Cc; wk2; or reflection with Rt"};
    if ((rc = ht_case_check_network(c, &words, &in_at, out_at, err))) goto done;
    c->period = is->wave.period;
    c->out_interval = c->period / 100;
    c->p_init = c->vessels[0].p_ref;
done:
    free(out_at);
    return rc;
}
