/* The case loader: YAML (own format, or openBF via openbf.c) to a validated ht_case in SI.
 * Every value is read through a getter that knows the file, line and key path, so every
 * message can say where the problem is and what was expected (docs/input.md). */
#include "case_internal.h"
#include "../kernels/heart_presets.h"
#include "../kernels/impella.h"
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- text buffer */

void ht_sbuf_add(ht_sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

void ht_sbuf_printf(ht_sbuf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (w < 0) return;
    ht_sbuf_add(b, tmp, (size_t)w < sizeof tmp ? (size_t)w : sizeof tmp - 1);
}

/* ---------------------------------------------------------------- messages */

static int vfail(ht_error *err, const char *file, int line, const char *path, const char *fmt, va_list ap)
{
    int w = path && path[0] ? snprintf(err->msg, sizeof err->msg, "%s:%d: key '%s': ", file, line, path)
                            : snprintf(err->msg, sizeof err->msg, "%s:%d: ", file, line);
    if (w >= 0 && (size_t)w < sizeof err->msg) vsnprintf(err->msg + w, sizeof err->msg - (size_t)w, fmt, ap);
    return HT_INPUT_ERROR;
}

int ht_fail(ht_error *err, const char *file, int line, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, file, line, path, fmt, ap);
    va_end(ap);
    return HT_INPUT_ERROR;
}

int ht_fail_at(ht_error *err, const yt_node *at, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, at ? at->file : "?", at ? at->line : 0, path, fmt, ap);
    va_end(ap);
    return HT_INPUT_ERROR;
}

/* Copies by hand: a path cut short in a message is harmless, and snprintf would make
 * -Wformat-truncation warn at every call. */
void ht_join(char *out, size_t len, const char *parent, const char *key)
{
    size_t o = 0;
    if (!len) return;
    if (parent)
        for (; *parent && o + 1 < len; ++parent) out[o++] = *parent;
    if (o && o + 1 < len) out[o++] = '.';
    for (; *key && o + 1 < len; ++key) out[o++] = *key;
    out[o] = 0;
}

/* A short description of what a node holds, for "found ..." */
static void found_text(const yt_node *n, char *out, size_t len)
{
    if (!n || yt_is_null(n))
        snprintf(out, len, "nothing");
    else if (n->kind == YT_SCALAR)
        snprintf(out, len, "\"%.60s\"", n->text);
    else
        snprintf(out, len, "%s", yt_kind_name(n));
}

int ht_check_keys(const yt_node *map, const char *path, const char *const *allowed, ht_error *err)
{
    if (!map || map->kind != YT_MAP) return 0;
    for (size_t i = 0; i < map->n; ++i) {
        int ok = 0;
        for (const char *const *a = allowed; *a; ++a) ok |= !strcmp(*a, map->keys[i]);
        if (ok) continue;
        char list[512], kp[256];
        size_t o = 0;
        list[0] = 0;
        for (const char *const *a = allowed; *a && o < sizeof list; ++a) {
            int w = snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "", *a);
            if (w < 0) break;
            o += (size_t)w;
        }
        ht_join(kp, sizeof kp, path, map->keys[i]);
        return ht_fail(err, map->items[i]->file, map->key_lines[i], kp, "unknown key (a typo?); expected one of: %s",
                       list);
    }
    return 0;
}

int ht_expect_map(const yt_node *n, const char *path, const char *what, ht_error *err)
{
    if (n && n->kind == YT_MAP) return 0;
    char f[96];
    found_text(n, f, sizeof f);
    return ht_fail_at(err, n, path, "expected %s (a map of keys), found %s", what, f);
}

/* ---------------------------------------------------------------- typed getters */

int ht_node_quantity(const yt_node *n, const char *path, const char *dim, ht_sign sign, double *out,
                     ht_error *err)
{
    if (!n || n->kind != YT_SCALAR) {
        char f[96];
        found_text(n, f, sizeof f);
        return ht_fail_at(err, n, path, "expected a %s (a number, optionally with a unit), found %s", dim, f);
    }
    char msg[512];
    double v;
    if (ht_units_parse(n->text, dim, &v, msg, sizeof msg)) return ht_fail_at(err, n, path, "%s", msg);
    if (sign == HT_POSITIVE && !(v > 0))
        return ht_fail_at(err, n, path, "expected a positive %s, found \"%s\"", dim, n->text);
    if (sign == HT_NONNEGATIVE && !(v >= 0))
        return ht_fail_at(err, n, path, "expected a %s >= 0, found \"%s\"", dim, n->text);
    *out = v;
    return 0;
}

int ht_get_quantity(const yt_node *map, const char *parent, const char *key, const char *dim, ht_sign sign,
                    double def, double *out, int *given, ht_error *err)
{
    const yt_node *n = yt_get(map, key);
    if (given) *given = n != NULL;
    if (!n) {
        *out = def;
        return 0;
    }
    char path[256];
    ht_join(path, sizeof path, parent, key);
    return ht_node_quantity(n, path, dim, sign, out, err);
}

int ht_get_required(const yt_node *map, const char *parent, const char *key, const char *dim, ht_sign sign,
                    double *out, ht_error *err)
{
    char path[256];
    ht_join(path, sizeof path, parent, key);
    const yt_node *n = yt_get(map, key);
    if (!n) return ht_fail_at(err, map, path, "missing: expected a %s here", dim);
    return ht_node_quantity(n, path, dim, sign, out, err);
}

int ht_get_int(const yt_node *map, const char *parent, const char *key, int lo, int hi, int def, int *out,
               ht_error *err)
{
    const yt_node *n = yt_get(map, key);
    if (!n) {
        *out = def;
        return 0;
    }
    char path[256];
    ht_join(path, sizeof path, parent, key);
    double v;
    if (n->kind != YT_SCALAR || ht_units_parse(n->text, "dimensionless", &v, NULL, 0) || v != floor(v) ||
        v < lo || v > hi) {
        char f[96];
        found_text(n, f, sizeof f);
        return ht_fail_at(err, n, path, "expected an integer in [%d, %d], found %s", lo, hi, f);
    }
    *out = (int)v;
    return 0;
}

int ht_get_bool(const yt_node *map, const char *parent, const char *key, int def, int *out, ht_error *err)
{
    const yt_node *n = yt_get(map, key);
    if (!n) {
        *out = def;
        return 0;
    }
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "1"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "0"};
    if (n->kind == YT_SCALAR) {
        for (size_t i = 0; i < sizeof yes / sizeof yes[0]; ++i) {
            if (!strcmp(n->text, yes[i])) {
                *out = 1;
                return 0;
            }
            if (!strcmp(n->text, no[i])) {
                *out = 0;
                return 0;
            }
        }
    }
    char path[256], f[96];
    ht_join(path, sizeof path, parent, key);
    found_text(n, f, sizeof f);
    return ht_fail_at(err, n, path, "expected true or false, found %s", f);
}

int ht_node_name(const yt_node *n, const char *path, char *out, ht_error *err)
{
    if (!n || n->kind != YT_SCALAR || yt_is_null(n) || !n->text[0]) {
        char f[96];
        found_text(n, f, sizeof f);
        return ht_fail_at(err, n, path, "expected a name, found %s", f);
    }
    if (strlen(n->text) >= HT_NAME_MAX)
        return ht_fail_at(err, n, path, "the name \"%.40s...\" is longer than %d characters", n->text,
                          HT_NAME_MAX - 1);
    snprintf(out, HT_NAME_MAX, "%s", n->text);
    return 0;
}

/* ---------------------------------------------------------------- files */

int ht_resolve_path(const char *base_file, const char *rel, char *out, size_t len)
{
    int w;
    const char *slash = base_file ? strrchr(base_file, '/') : NULL;
    if (rel[0] == '/' || !slash)
        w = snprintf(out, len, "%s", rel);
    else
        w = snprintf(out, len, "%.*s/%s", (int)(slash - base_file), base_file, rel);
    return w < 0 || (size_t)w >= len ? -1 : 0;
}

int ht_read_table(const char *file, const yt_node *at, const char *path, ht_sbuf *cfg, double **t, double **v,
                  int *n, ht_error *err)
{
    *t = *v = NULL;
    *n = 0;
    FILE *f = fopen(file, "rb");
    if (!f) return ht_fail_at(err, at, path, "cannot open the table file '%s': %s", file, strerror(errno));
    ht_sbuf text = {0};
    char buf[4096];
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, f)) > 0) ht_sbuf_add(&text, buf, r);
    int bad = ferror(f);
    fclose(f);
    if (bad || text.oom || !text.s) {
        free(text.s);
        if (bad || text.oom) return ht_fail_at(err, at, path, "cannot read the table file '%s'", file);
        return ht_fail_at(err, at, path, "the table file '%s' is empty: expected lines \"t value\"", file);
    }
    int cap = 0, cnt = 0, rc = 0;
    double *tt = NULL, *vv = NULL;
    int line = 0;
    for (char *p = text.s; *p && !rc;) {
        char *eol = strchr(p, '\n');
        if (eol) *eol = 0;
        ++line;
        char *q = p;
        while (*q == ' ' || *q == '\t' || *q == '\r') ++q;
        if (*q && *q != '#') {
            char *e1, *e2;
            errno = 0;
            double a = strtod(q, &e1);
            char *sep = e1;
            while (e1 != q && (*sep == ' ' || *sep == '\t')) ++sep;
            if (e1 != q && *sep == ',') ++sep; /* "t, value" (CSV) */
            double b = e1 != q ? strtod(sep, &e2) : 0;
            if (e1 != q && e2 == sep) e2 = e1;
            char *rest = e1 != q ? e2 : q;
            while (*rest == ' ' || *rest == '\t' || *rest == '\r' || *rest == ',') ++rest;
            if (e1 == q || e2 == e1 || (*rest && *rest != '#') || !isfinite(a) || !isfinite(b)) {
                rc = ht_fail_at(err, at, path,
                                "%s:%d: expected two finite numbers \"t value\" on each line, found \"%.60s\"", file,
                                line, q);
                break;
            }
            if (cnt == cap) {
                int nc = cap ? 2 * cap : 256;
                double *t2 = realloc(tt, (size_t)nc * sizeof *t2);
                if (!t2) {
                    rc = ht_fail_at(err, at, path, "out of memory");
                    break;
                }
                tt = t2;
                double *v2 = realloc(vv, (size_t)nc * sizeof *v2);
                if (!v2) {
                    rc = ht_fail_at(err, at, path, "out of memory");
                    break;
                }
                vv = v2;
                cap = nc;
            }
            if (cnt > 0 && !(a > tt[cnt - 1])) {
                rc = ht_fail_at(err, at, path, "%s:%d: times must be strictly ascending: %g follows %g", file, line,
                                a, tt[cnt - 1]);
                break;
            }
            if (cnt == 0 && a < 0) {
                rc = ht_fail_at(err, at, path, "%s:%d: the first time must be >= 0, found %g", file, line, a);
                break;
            }
            tt[cnt] = a;
            vv[cnt] = b;
            ++cnt;
        }
        if (!eol) break;
        p = eol + 1;
    }
    if (!rc && cnt < 2)
        rc = ht_fail_at(err, at, path, "the table file '%s' has %d data line(s); expected at least 2 lines \"t value\"",
                        file, cnt);
    if (!rc && cfg) {
        /* re-read as written: the parse above wrote NULs into text */
        FILE *g = fopen(file, "rb");
        ht_sbuf_printf(cfg, "# ---- inlet table: %s ----\n", file);
        if (g) {
            while ((r = fread(buf, 1, sizeof buf, g)) > 0) ht_sbuf_add(cfg, buf, r);
            fclose(g);
        }
        if (cfg->n && cfg->s[cfg->n - 1] != '\n') ht_sbuf_add(cfg, "\n", 1);
    }
    free(text.s);
    if (rc) {
        free(tt);
        free(vv);
        return rc;
    }
    *t = tt;
    *v = vv;
    *n = cnt;
    return 0;
}

/* ---------------------------------------------------------------- case basics */

int ht_node_index(ht_case *c, const char *name)
{
    for (int i = 0; i < c->n_nodes; ++i)
        if (!strcmp(c->node_names[i], name)) return i;
    char(*nn)[HT_NAME_MAX] = realloc(c->node_names, (size_t)(c->n_nodes + 1) * sizeof *nn);
    if (!nn) return -1;
    c->node_names = nn;
    snprintf(c->node_names[c->n_nodes], HT_NAME_MAX, "%s", name);
    return c->n_nodes++;
}

void ht_case_defaults(ht_case *c)
{
    c->rho = 1060;
    c->mu = 4e-3;
    c->zeta = 9;
    c->alpha = 1;
    c->cfl = 0.9;
    c->dx = 1e-3;
    c->min_cells = 4;
    c->limiter = HT_LIMITER_MC;
    c->tracer_limiter = HT_LIMITER_SUPERBEE;
    c->junction_tol = 1e-12;
    c->junction_maxit = 50;
    c->tracer = 1;
    c->cycles = 10;
    c->conv_tol = 1e-3;
}

void ht_case_free(ht_case *c)
{
    if (!c) return;
    for (int v = 0; v < c->n_vessels && c->vessels; ++v) free(c->vessels[v].points);
    for (int k = 0; k < c->n_outlets && c->outlets; ++k) {
        ht_waveform *w = &c->outlets[k].pim; /* coronary P_im; NULL arrays otherwise */
        free((void *)(uintptr_t)w->t);
        free((void *)(uintptr_t)w->v);
        free((void *)(uintptr_t)w->amp);
        free((void *)(uintptr_t)w->phase);
    }
    for (int k = 0; k < c->n_inlets && c->inlets; ++k) {
        ht_waveform *w = &c->inlets[k].wave;
        /* the case owns the arrays the waveform points to (const only for the kernels) */
        free((void *)(uintptr_t)w->t);
        free((void *)(uintptr_t)w->v);
        free((void *)(uintptr_t)w->amp);
        free((void *)(uintptr_t)w->phase);
    }
    free(c->node_names);
    free(c->vessels);
    free(c->inlets);
    free(c->outlets);
    free(c->probes);
    free(c->sites);
    free(c->config_text);
    memset(c, 0, sizeof *c);
}

/* ---------------------------------------------------------------- network checks */

static int uf_find(int *parent, int i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

int ht_case_check_network(const ht_case *c, const ht_key_words *w, const ht_where *inlet_at,
                          const ht_where *outlet_at, ht_error *err)
{
    int nv = c->n_vessels, nn = c->n_nodes, rc = 0;
    char path[256];
    if (nv < 1) return ht_fail(err, c->path, 1, w->section, "the network has no vessels");
    int *parent = malloc((size_t)nn * sizeof *parent);
    int *deg = calloc((size_t)nn, sizeof *deg);
    if (!parent || !deg) {
        free(parent);
        free(deg);
        return ht_fail(err, c->path, 1, "", "out of memory");
    }
    for (int i = 0; i < nn; ++i) parent[i] = i;

    /* a tree: every vessel joins two nodes not yet connected */
    for (int v = 0; v < nv && !rc; ++v) {
        const ht_vessel_spec *vs = &c->vessels[v];
        deg[vs->node_from]++;
        deg[vs->node_to]++;
        snprintf(path, sizeof path, "%s.%s.%s", w->section, vs->name, w->to_key);
        if (vs->node_from == vs->node_to) {
            rc = ht_fail(err, vs->file, vs->line, path,
                         "vessel '%s' starts and ends at node '%s': that is a cycle; the network must be a tree",
                         vs->name, c->node_names[vs->node_from]);
            break;
        }
        int a = uf_find(parent, vs->node_from), b = uf_find(parent, vs->node_to);
        if (a == b) {
            rc = ht_fail(err, vs->file, vs->line, path,
                         "vessel '%s' closes a cycle: nodes '%s' and '%s' are already connected through other "
                         "vessels; the network must be a tree",
                         vs->name, c->node_names[vs->node_from], c->node_names[vs->node_to]);
            break;
        }
        parent[a] = b;
    }
    /* one tree, reached from the (first) inlet */
    if (!rc) {
        int ref = c->n_inlets > 0 ? c->inlets[0].vessel : 0;
        int root = uf_find(parent, c->vessels[ref].node_from);
        for (int v = 0; v < nv; ++v) {
            const ht_vessel_spec *vs = &c->vessels[v];
            if (uf_find(parent, vs->node_from) == root) continue;
            snprintf(path, sizeof path, "%s.%s", w->section, vs->name);
            rc = ht_fail(err, vs->file, vs->line, path,
                         "vessel '%s' is not connected to vessel '%s': the network is disconnected (it must be "
                         "one tree; check the %s/%s node names)",
                         vs->name, c->vessels[ref].name, w->from_key, w->to_key);
            break;
        }
    }
    if (!rc && c->n_inlets < 1)
        rc = ht_fail(err, c->path, 1, w->inlet_key, "no inlet: at least one inlet is needed");

    for (int k = 0; k < c->n_inlets && !rc; ++k) {
        const ht_inlet_spec *is = &c->inlets[k];
        const ht_vessel_spec *vs = &c->vessels[is->vessel];
        for (int j = 0; j < k; ++j)
            if (c->inlets[j].vessel == is->vessel)
                rc = ht_fail(err, inlet_at[k].file, inlet_at[k].line, inlet_at[k].path,
                             "vessel '%s' already has an inlet (%s:%d); one inlet per vessel start", vs->name,
                             inlet_at[j].file, inlet_at[j].line);
        if (!rc && deg[vs->node_from] > 1)
            rc = ht_fail(err, inlet_at[k].file, inlet_at[k].line, inlet_at[k].path,
                         "the inlet of vessel '%s' would sit at node '%s', which is a junction of %d vessel ends; "
                         "an inlet needs a vessel start that joins no other vessel",
                         vs->name, c->node_names[vs->node_from], deg[vs->node_from]);
    }
    for (int k = 0; k < c->n_outlets && !rc; ++k) {
        const ht_outlet_spec *os = &c->outlets[k];
        const ht_vessel_spec *vs = &c->vessels[os->vessel];
        for (int j = 0; j < k; ++j)
            if (c->outlets[j].vessel == os->vessel)
                rc = ht_fail(err, outlet_at[k].file, outlet_at[k].line, outlet_at[k].path,
                             "vessel '%s' already has an outlet (%s:%d)", vs->name, outlet_at[j].file,
                             outlet_at[j].line);
        if (!rc && deg[vs->node_to] > 1)
            rc = ht_fail(err, outlet_at[k].file, outlet_at[k].line, outlet_at[k].path,
                         "the outlet of vessel '%s' would sit at its end node '%s', which is a junction of %d "
                         "vessel ends; an outlet needs a vessel end that joins no other vessel",
                         vs->name, c->node_names[vs->node_to], deg[vs->node_to]);
    }
    /* every free vessel end needs a boundary model */
    for (int v = 0; v < nv && !rc; ++v) {
        const ht_vessel_spec *vs = &c->vessels[v];
        int has_in = 0, has_out = 0;
        for (int k = 0; k < c->n_inlets; ++k) has_in |= c->inlets[k].vessel == v;
        for (int k = 0; k < c->n_outlets; ++k) has_out |= c->outlets[k].vessel == v;
        snprintf(path, sizeof path, "%s.%s", w->section, vs->name);
        if (deg[vs->node_to] == 1 && !has_out)
            rc = ht_fail(err, vs->file, vs->line, path,
                         "missing outlet model for vessel '%s': its end node '%s' joins no other vessel; give it "
                         "an outlet (%s)",
                         vs->name, c->node_names[vs->node_to], w->outlet_key);
        else if (deg[vs->node_from] == 1 && !has_in)
            rc = ht_fail(err, vs->file, vs->line, path,
                         "missing inlet for vessel '%s': its start node '%s' joins no other vessel and has no "
                         "inlet (outlets attach at a vessel's end node: is the vessel's direction reversed?)",
                         vs->name, c->node_names[vs->node_from]);
    }
    free(parent);
    free(deg);
    return rc;
}

/* ---------------------------------------------------------------- own format */

typedef struct {
    const char *case_file;    /* for files named by --set nodes */
    ht_sbuf *cfg;
    ht_where *inlet_at, *outlet_at;
    int have_p_init;
    int period_given;
    const yt_node *root;
} ctx;

static int find_vessel(const ht_case *c, const char *name)
{
    for (int v = 0; v < c->n_vessels; ++v)
        if (!strcmp(c->vessels[v].name, name)) return v;
    return -1;
}

/* The vessel a boundary or probe names, with the known names in the message when unknown. */
static int vessel_ref(const ht_case *c, const yt_node *n, const char *path, int *out, ht_error *err)
{
    char name[HT_NAME_MAX];
    int rc = ht_node_name(n, path, name, err);
    if (rc) return rc;
    int v = find_vessel(c, name);
    if (v >= 0) {
        *out = v;
        return 0;
    }
    char list[400];
    size_t o = 0;
    list[0] = 0;
    for (int k = 0; k < c->n_vessels && o < sizeof list - 8; ++k) {
        int w = snprintf(list + o, sizeof list - o, "%s%s", k ? ", " : "", c->vessels[k].name);
        if (w < 0 || (size_t)w >= sizeof list - o) {
            snprintf(list + o, sizeof list - o, ", ...");
            break;
        }
        o += (size_t)w;
    }
    return ht_fail_at(err, n, path, "unknown vessel '%s' (vessels: %s)", name, list);
}

/* ---------------------------------------------------------------- named sites */

/* Site names match ignoring ASCII case, with ' ', '_' and '-' the same character. */
static int site_char(unsigned char ch)
{
    if (ch == ' ' || ch == '-') return '_';
    if (ch >= 'A' && ch <= 'Z') return ch - 'A' + 'a';
    return ch;
}

static int site_name_eq(const char *a, const char *b)
{
    for (; *a && *b; ++a, ++b)
        if (site_char((unsigned char)*a) != site_char((unsigned char)*b)) return 0;
    return *a == *b;
}

static int find_site(const ht_case *c, const char *name)
{
    for (int k = 0; k < c->n_sites; ++k)
        if (site_name_eq(c->sites[k].name, name)) return k;
    return -1;
}

int ht_case_site(const ht_case *c, const char *site, int *vessel, double *x)
{
    int k = c && site ? find_site(c, site) : -1;
    if (k < 0) return -1;
    if (vessel) *vessel = c->sites[k].vessel;
    if (x) *x = c->sites[k].x;
    return 0;
}

/* The site a probe (or, later, a device) names, with the known names when unknown. */
static int site_ref(const ht_case *c, const yt_node *n, const char *path, int *out, ht_error *err)
{
    char name[HT_NAME_MAX];
    int rc = ht_node_name(n, path, name, err);
    if (rc) return rc;
    if ((*out = find_site(c, name)) >= 0) return 0;
    if (c->n_sites == 0)
        return ht_fail_at(err, n, path, "unknown site '%s': the mesh has no sites: table (docs/input.md)", name);
    char list[400];
    size_t o = 0;
    list[0] = 0;
    for (int k = 0; k < c->n_sites && o < sizeof list - 8; ++k) {
        int w = snprintf(list + o, sizeof list - o, "%s%s", k ? ", " : "", c->sites[k].name);
        if (w < 0 || (size_t)w >= sizeof list - o) {
            snprintf(list + o, sizeof list - o, ", ...");
            break;
        }
        o += (size_t)w;
    }
    return ht_fail_at(err, n, path, "unknown site '%s' (sites: %s)", name, list);
}

/* `sites:` of the mesh (or of a case with inline vessels): name -> {vessel, x}, x a length
 * from the vessel start or one of the words start, mid, end. Needs the vessels parsed. */
static int parse_sites(const yt_node *sn, ht_case *c, ht_error *err)
{
    static const char *const keys[] = {"vessel", "x", "description", NULL};
    int rc;
    if (!sn) return 0;
    if ((rc = ht_expect_map(sn, "sites", "a table of named sites (name: {vessel: NAME, x: LENGTH})", err)))
        return rc;
    c->sites = calloc(sn->n ? sn->n : 1, sizeof *c->sites);
    if (!c->sites) return ht_fail_at(err, sn, "sites", "out of memory");
    for (size_t k = 0; k < sn->n; ++k) {
        ht_site_spec *st = &c->sites[k];
        const yt_node *it = sn->items[k];
        char path[256], kp[320];
        ht_join(path, sizeof path, "sites", sn->keys[k]);
        /* the key is the name: a scalar stand-in reports a bad one at the key's line */
        yt_node key = {0};
        key.kind = YT_SCALAR;
        key.file = it->file;
        key.line = sn->key_lines[k];
        key.text = sn->keys[k];
        key.plain = 1;
        if ((rc = ht_node_name(&key, path, st->name, err))) return rc;
        snprintf(st->file, sizeof st->file, "%s", it->file);
        st->line = sn->key_lines[k];
        for (size_t j = 0; j < k; ++j)
            if (site_name_eq(c->sites[j].name, st->name))
                return ht_fail(err, st->file, st->line, path,
                               "duplicate site '%s': same name as '%s' (%s:%d); site names are compared ignoring "
                               "case, with space, '_' and '-' the same",
                               st->name, c->sites[j].name, c->sites[j].file, c->sites[j].line);
        c->n_sites = (int)k + 1;
        if ((rc = ht_expect_map(it, path, "a site {vessel: NAME, x: LENGTH | start | mid | end}", err)) ||
            (rc = ht_check_keys(it, path, keys, err)))
            return rc;
        ht_join(kp, sizeof kp, path, "vessel");
        if (!yt_get(it, "vessel")) return ht_fail_at(err, it, kp, "missing: the vessel the site is in");
        if ((rc = vessel_ref(c, yt_get(it, "vessel"), kp, &st->vessel, err))) return rc;
        const ht_vessel_spec *vs = &c->vessels[st->vessel];
        const yt_node *xn = yt_get(it, "x");
        ht_join(kp, sizeof kp, path, "x");
        if (!xn) return ht_fail_at(err, it, kp, "missing: expected a length from the vessel start, or start, mid or end");
        const char *t = xn->kind == YT_SCALAR ? xn->text : "";
        if (!strcmp(t, "start")) {
            st->x = 0;
        } else if (!strcmp(t, "mid")) {
            st->x = 0.5 * vs->length;
        } else if (!strcmp(t, "end")) {
            st->x = vs->length;
        } else {
            if ((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z'))
                return ht_fail_at(err, xn, kp, "expected a length from the vessel start, or start, mid or end, "
                                               "found \"%.60s\"", t);
            if ((rc = ht_node_quantity(xn, kp, "length", HT_ANY, &st->x, err))) return rc;
            if (st->x < 0 || st->x > vs->length)
                return ht_fail_at(err, xn, kp,
                                  "site position %g m is outside vessel '%s', expected x in [0, %g] m (its length)",
                                  st->x, vs->name, vs->length);
        }
    }
    return 0;
}

static const char *const VESSEL_KEYS[] = {"name", "from", "to", "length", "radius", "E", "thickness",
                                          "wall_viscosity", "reference_pressure", "cells", "points",
                                          "description", NULL};

/* phi_default: the wall viscosity of the mesh or case (wall_viscosity:), 0 = elastic. */
static int parse_vessel(const yt_node *it, size_t i, double p_ref_default, double phi_default, ht_case *c,
                        ht_error *err)
{
    ht_vessel_spec *vs = &c->vessels[i];
    char path[256], kp[256];
    int rc;
    snprintf(path, sizeof path, "vessels.%zu", i);
    if ((rc = ht_expect_map(it, path, "a vessel", err))) return rc;
    const yt_node *nm = yt_get(it, "name");
    if (!nm) return ht_fail_at(err, it, path, "missing: every vessel needs a name");
    ht_join(kp, sizeof kp, path, "name");
    if ((rc = ht_node_name(nm, kp, vs->name, err))) return rc;
    snprintf(path, sizeof path, "vessels.%s", vs->name);
    snprintf(vs->file, sizeof vs->file, "%s", it->file);
    vs->line = it->line;
    if ((rc = ht_check_keys(it, path, VESSEL_KEYS, err))) return rc;
    for (size_t j = 0; j < i; ++j)
        if (!strcmp(c->vessels[j].name, vs->name))
            return ht_fail_at(err, nm, kp, "duplicate vessel name '%s' (first at %s:%d)", vs->name,
                              c->vessels[j].file, c->vessels[j].line);

    const char *ends[2] = {"from", "to"};
    int *idx[2] = {&vs->node_from, &vs->node_to};
    for (int e = 0; e < 2; ++e) {
        char node[HT_NAME_MAX];
        ht_join(kp, sizeof kp, path, ends[e]);
        const yt_node *n = yt_get(it, ends[e]);
        if (!n) return ht_fail_at(err, it, kp, "missing: every vessel needs '%s' (a node name)", ends[e]);
        if ((rc = ht_node_name(n, kp, node, err))) return rc;
        if ((*idx[e] = ht_node_index(c, node)) < 0) return ht_fail_at(err, n, kp, "out of memory");
    }
    if ((rc = ht_get_required(it, path, "length", "length", HT_POSITIVE, &vs->length, err))) return rc;

    const yt_node *r = yt_get(it, "radius");
    ht_join(kp, sizeof kp, path, "radius");
    if (!r) return ht_fail_at(err, it, kp, "missing: expected a length, or [proximal, distal] for a taper");
    if (r->kind == YT_SEQ) {
        if (r->n != 2)
            return ht_fail_at(err, r, kp, "expected one radius or [proximal, distal], found a list of %zu", r->n);
        char k2[300];
        snprintf(k2, sizeof k2, "%s.0", kp);
        if ((rc = ht_node_quantity(r->items[0], k2, "length", HT_POSITIVE, &vs->r_prox, err))) return rc;
        snprintf(k2, sizeof k2, "%s.1", kp);
        if ((rc = ht_node_quantity(r->items[1], k2, "length", HT_POSITIVE, &vs->r_dist, err))) return rc;
    } else {
        if ((rc = ht_node_quantity(r, kp, "length", HT_POSITIVE, &vs->r_prox, err))) return rc;
        vs->r_dist = vs->r_prox;
    }
    if ((rc = ht_get_required(it, path, "E", "pressure", HT_POSITIVE, &vs->E, err))) return rc;
    const yt_node *th = yt_get(it, "thickness");
    vs->h = 0; /* empirical h(r) */
    if (th && !(th->kind == YT_SCALAR && !strcmp(th->text, "auto"))) {
        ht_join(kp, sizeof kp, path, "thickness");
        if ((rc = ht_node_quantity(th, kp, "length", HT_POSITIVE, &vs->h, err))) return rc;
    }
    if ((rc = ht_get_quantity(it, path, "wall_viscosity", "viscosity", HT_NONNEGATIVE, phi_default, &vs->phi, NULL,
                              err)))
        return rc;
    if ((rc = ht_get_quantity(it, path, "reference_pressure", "pressure", HT_ANY, p_ref_default, &vs->p_ref, NULL,
                              err)))
        return rc;
    if ((rc = ht_get_int(it, path, "cells", 1, 10000000, 0, &vs->n_cells, err))) return rc;

    const yt_node *pts = yt_get(it, "points");
    if (pts) {
        ht_join(kp, sizeof kp, path, "points");
        if (pts->kind != YT_SEQ || pts->n < 2)
            return ht_fail_at(err, pts, kp, "expected a list of at least two points [x, y, z]");
        vs->points = malloc(pts->n * 3 * sizeof *vs->points);
        if (!vs->points) return ht_fail_at(err, pts, kp, "out of memory");
        vs->n_points = (int)pts->n;
        for (size_t k = 0; k < pts->n; ++k) {
            const yt_node *p = pts->items[k];
            char k2[300];
            snprintf(k2, sizeof k2, "%s.%zu", kp, k);
            if (p->kind != YT_SEQ || p->n != 3) return ht_fail_at(err, p, k2, "expected a point [x, y, z]");
            for (int a = 0; a < 3; ++a)
                if ((rc = ht_node_quantity(p->items[a], k2, "length", HT_ANY, &vs->points[3 * k + (size_t)a], err)))
                    return rc;
        }
    }
    return 0;
}

static int parse_vessels(const yt_node *vessels, const yt_node *owner, double p_ref, double phi, ht_case *c,
                         ht_error *err)
{
    if (!vessels || vessels->kind != YT_SEQ || vessels->n == 0) {
        char f[96];
        found_text(vessels, f, sizeof f);
        return ht_fail_at(err, vessels ? vessels : owner, "vessels", "expected a list of vessels, found %s", f);
    }
    c->vessels = calloc(vessels->n, sizeof *c->vessels);
    if (!c->vessels) return ht_fail_at(err, vessels, "vessels", "out of memory");
    c->n_vessels = (int)vessels->n;
    for (size_t i = 0; i < vessels->n; ++i) {
        int rc = parse_vessel(vessels->items[i], i, p_ref, phi, c, err);
        if (rc) return rc;
    }
    return 0;
}

static int parse_blood(const yt_node *root, ht_case *c, ht_error *err)
{
    static const char *const keys[] = {"density", "viscosity", "profile", "alpha", NULL};
    const yt_node *b = yt_get(root, "blood");
    int rc;
    if (!b) return 0;
    if ((rc = ht_expect_map(b, "blood", "the blood section", err)) || (rc = ht_check_keys(b, "blood", keys, err)))
        return rc;
    if ((rc = ht_get_quantity(b, "blood", "density", "density", HT_POSITIVE, c->rho, &c->rho, NULL, err)) ||
        (rc = ht_get_quantity(b, "blood", "viscosity", "viscosity", HT_NONNEGATIVE, c->mu, &c->mu, NULL, err)) ||
        (rc = ht_get_quantity(b, "blood", "profile", "dimensionless", HT_POSITIVE, c->zeta, &c->zeta, NULL, err)) ||
        (rc = ht_get_quantity(b, "blood", "alpha", "dimensionless", HT_POSITIVE, c->alpha, &c->alpha, NULL, err)))
        return rc;
    if (c->alpha < 1)
        return ht_fail_at(err, yt_get(b, "alpha"), "blood.alpha",
                          "expected a momentum-flux coefficient >= 1 (1 flat profile, 4/3 Poiseuille), found %g",
                          c->alpha);
    return 0;
}

/* One waveform list of quantities (Fourier amplitudes or phases). */
static int quantity_list(const yt_node *n, const char *path, const char *dim, double scale_unit, double **out,
                         int *count, ht_error *err)
{
    if (!n || n->kind != YT_SEQ) {
        char f[96];
        found_text(n, f, sizeof f);
        return ht_fail_at(err, n, path, "expected a list of numbers, found %s", f);
    }
    *out = calloc(n->n ? n->n : 1, sizeof **out);
    if (!*out) return ht_fail_at(err, n, path, "out of memory");
    *count = (int)n->n;
    for (size_t i = 0; i < n->n; ++i) {
        char kp[256];
        snprintf(kp, sizeof kp, "%s.%zu", path, i);
        int rc = ht_node_quantity(n->items[i], kp, scale_unit > 0 ? "dimensionless" : dim, HT_ANY, &(*out)[i], err);
        if (rc) return rc;
    }
    return 0;
}

/* The factor of a `unit:` key ("mL/s" -> 1e-6), checked against the expected dimension. */
static int unit_factor(const yt_node *map, const char *parent, const char *dim, double *f, ht_error *err)
{
    const yt_node *u = yt_get(map, "unit");
    *f = 1;
    if (!u) return 0;
    char kp[256], text[300], msg[512];
    ht_join(kp, sizeof kp, parent, "unit");
    if (u->kind != YT_SCALAR) return ht_fail_at(err, u, kp, "expected a unit such as \"mL/s\", found %s", yt_kind_name(u));
    snprintf(text, sizeof text, "1 %s", u->text);
    if (ht_units_parse(text, dim, f, msg, sizeof msg)) return ht_fail_at(err, u, kp, "%s", msg);
    return 0;
}

static const char *const INLET_KEYS[] = {"vessel", "type", "tracer", "file", "period", "unit", "scale",
                                         "fourier", "gaussian", "constant", NULL};

static int parse_waveform(ctx *x, const yt_node *in, const char *path, const char *dim, double scale_default,
                          ht_waveform *w, ht_error *err);

static int parse_inlet(ctx *x, const yt_node *in, const char *path, int k, ht_case *c, ht_error *err)
{
    ht_inlet_spec *is = &c->inlets[k];
    ht_waveform *w = &is->wave;
    char kp[256];
    int rc;
    if ((rc = ht_expect_map(in, path, "an inlet", err)) || (rc = ht_check_keys(in, path, INLET_KEYS, err))) return rc;
    snprintf(x->inlet_at[k].path, sizeof x->inlet_at[k].path, "%s", path);
    x->inlet_at[k].file = in->file;
    x->inlet_at[k].line = in->line;

    const yt_node *vn = yt_get(in, "vessel");
    ht_join(kp, sizeof kp, path, "vessel");
    if (!vn) return ht_fail_at(err, in, kp, "missing: the vessel whose start receives the inflow");
    if ((rc = vessel_ref(c, vn, kp, &is->vessel, err))) return rc;

    const char *dim = "flow";
    is->kind = HT_INLET_FLOW;
    const yt_node *tn = yt_get(in, "type");
    if (tn) {
        ht_join(kp, sizeof kp, path, "type");
        if (tn->kind == YT_SCALAR && !strcmp(tn->text, "pressure")) {
            is->kind = HT_INLET_PRESSURE;
            dim = "pressure";
        } else if (!(tn->kind == YT_SCALAR && !strcmp(tn->text, "flow"))) {
            char f[96];
            found_text(tn, f, sizeof f);
            return ht_fail_at(err, tn, kp, "expected flow or pressure, found %s", f);
        }
    }
    if ((rc = ht_get_quantity(in, path, "tracer", "dimensionless", HT_ANY, 0, &is->tracer, NULL, err))) return rc;
    if (is->tracer < 0 || is->tracer > 1) {
        ht_join(kp, sizeof kp, path, "tracer");
        return ht_fail_at(err, yt_get(in, "tracer"), kp, "expected an ECMO fraction in [0, 1], found %g", is->tracer);
    }
    return parse_waveform(x, in, path, dim, 1, w, err);
}

/* The waveform of map `in` (named `path` in messages): exactly one of file (with period,
 * unit), fourier, gaussian or constant, of dimension dim, times an optional `scale`
 * (default scale_default). Inlets and the intramyocardial pressure of coronary outlets. */
static int parse_waveform(ctx *x, const yt_node *in, const char *path, const char *dim, double scale_default,
                          ht_waveform *w, ht_error *err)
{
    char kp[256];
    int rc;
    double scale;
    if ((rc = ht_get_quantity(in, path, "scale", "dimensionless", HT_ANY, scale_default, &scale, NULL, err)))
        return rc;

    static const char *const kinds[] = {"file", "fourier", "gaussian", "constant"};
    const char *given[4];
    int n_given = 0, which = -1;
    for (int i = 0; i < 4; ++i)
        if (yt_get(in, kinds[i])) {
            given[n_given++] = kinds[i];
            which = i;
        }
    if (n_given != 1) {
        if (!n_given) return ht_fail_at(err, in, path, "no waveform: give one of file, fourier, gaussian, constant");
        return ht_fail_at(err, in, path, "more than one waveform (%s and %s): give exactly one", given[0], given[1]);
    }
    if (which != 0) {
        if (yt_get(in, "period")) {
            ht_join(kp, sizeof kp, path, "period");
            return ht_fail_at(err, yt_get(in, "period"), kp,
                              "period applies to a file table only (fourier has its own period; gaussian and "
                              "constant are not periodic)");
        }
        if (yt_get(in, "unit")) {
            ht_join(kp, sizeof kp, path, "unit");
            return ht_fail_at(err, yt_get(in, "unit"), kp,
                              "unit applies to a file table only (write units into the values, or fourier.unit)");
        }
    }
    w->scale = scale;
    if (which == 0) { /* file */
        const yt_node *fn = yt_get(in, "file");
        ht_join(kp, sizeof kp, path, "file");
        if (fn->kind != YT_SCALAR || !fn->text[0])
            return ht_fail_at(err, fn, kp, "expected a file name, found %s", yt_kind_name(fn));
        char full[1024];
        const char *base = strcmp(fn->file, "--set") ? fn->file : x->case_file;
        if (ht_resolve_path(base, fn->text, full, sizeof full))
            return ht_fail_at(err, fn, kp, "the path is too long");
        double *t, *v;
        int n;
        if ((rc = ht_read_table(full, fn, kp, x->cfg, &t, &v, &n, err))) return rc;
        w->kind = HT_WAVE_TABLE;
        w->t = t;
        w->v = v;
        w->n = n;
        double uf;
        if ((rc = unit_factor(in, path, dim, &uf, err))) return rc;
        w->scale = scale * uf;
        int pg;
        if ((rc = ht_get_quantity(in, path, "period", "time", HT_POSITIVE, t[n - 1], &w->period, &pg, err))) return rc;
        if (pg && w->period < t[n - 1]) {
            ht_join(kp, sizeof kp, path, "period");
            return ht_fail_at(err, yt_get(in, "period"), kp,
                              "the period %g s is shorter than the table, which runs to t = %g s", w->period,
                              t[n - 1]);
        }
    } else if (which == 1) { /* fourier */
        static const char *const fk[] = {"period", "mean", "amplitudes", "phases", "unit", NULL};
        const yt_node *fo = yt_get(in, "fourier");
        char fp[256];
        ht_join(fp, sizeof fp, path, "fourier");
        if ((rc = ht_expect_map(fo, fp, "a Fourier series {period, mean, amplitudes, phases}", err)) ||
            (rc = ht_check_keys(fo, fp, fk, err)))
            return rc;
        double uf;
        if ((rc = unit_factor(fo, fp, dim, &uf, err))) return rc;
        int has_unit = yt_get(fo, "unit") != NULL;
        w->kind = HT_WAVE_FOURIER;
        w->scale = scale * uf;
        if ((rc = ht_get_required(fo, fp, "period", "time", HT_POSITIVE, &w->period, err)) ||
            (rc = ht_get_quantity(fo, fp, "mean", has_unit ? "dimensionless" : dim, HT_ANY, 0, &w->mean, NULL, err)))
            return rc;
        double *amp = NULL, *ph = NULL;
        int na = 0, np = 0;
        ht_join(kp, sizeof kp, fp, "amplitudes");
        if (!yt_get(fo, "amplitudes")) return ht_fail_at(err, fo, kp, "missing: the list of harmonic amplitudes");
        rc = quantity_list(yt_get(fo, "amplitudes"), kp, dim, has_unit ? 1 : 0, &amp, &na, err);
        w->amp = amp;
        if (rc) return rc;
        ht_join(kp, sizeof kp, fp, "phases");
        if (yt_get(fo, "phases")) {
            rc = quantity_list(yt_get(fo, "phases"), kp, "dimensionless", 0, &ph, &np, err);
            w->phase = ph;
            if (rc) return rc;
            if (np != na)
                return ht_fail_at(err, yt_get(fo, "phases"), kp, "expected %d phases (one per amplitude), found %d",
                                  na, np);
        } else {
            if (!(ph = calloc(na ? (size_t)na : 1, sizeof *ph))) return ht_fail_at(err, fo, kp, "out of memory");
            w->phase = ph;
        }
        w->n_harm = na;
    } else if (which == 2) { /* gaussian */
        static const char *const gk[] = {"amplitude", "center", "k", NULL};
        const yt_node *g = yt_get(in, "gaussian");
        char gp[256];
        ht_join(gp, sizeof gp, path, "gaussian");
        if ((rc = ht_expect_map(g, gp, "a Gaussian pulse {amplitude, center, k}", err)) ||
            (rc = ht_check_keys(g, gp, gk, err)))
            return rc;
        w->kind = HT_WAVE_GAUSSIAN;
        w->period = 0;
        if ((rc = ht_get_required(g, gp, "amplitude", dim, HT_ANY, &w->amplitude, err)) ||
            (rc = ht_get_quantity(g, gp, "center", "time", HT_ANY, 0, &w->t0, NULL, err)) ||
            (rc = ht_get_required(g, gp, "k", "frequency_squared", HT_POSITIVE, &w->k, err)))
            return rc;
    } else { /* constant */
        ht_join(kp, sizeof kp, path, "constant");
        w->kind = HT_WAVE_CONSTANT;
        w->period = 0;
        if ((rc = ht_node_quantity(yt_get(in, "constant"), kp, dim, HT_ANY, &w->value, err))) return rc;
    }
    return 0;
}

/* `heart:` (docs/input.md): the 0D heart at the start of `vessel`, closed loop. Needs the
 * vessels parsed; runs before the inlets and outlets, which it changes. */
static int parse_heart(ctx *x, const yt_node *root, ht_case *c, ht_error *err)
{
    static const char *const keys[] = {"preset", "vessel", "heart_rate", "lv", "rv", "la", "ra", "valves",
                                       "diode_resistance", "bronchial_resistance", "volume_change", "total_volume", NULL};
    static const char *const ck[] = {"Ees", "V0", "Emin", "P0", "lambda", NULL};
    static const char *const cdim[] = {"elastance", "volume", "elastance", "pressure", "inverse_volume"};
    static const char *const chambers[] = {"lv", "rv", "la", "ra"};
    const yt_node *h = yt_get(root, "heart");
    ht_heart_spec *hs = &c->heart;
    char kp[256];
    int rc;
    if (!h) return 0;
    if ((rc = ht_expect_map(h, "heart", "the heart section {preset, vessel, ...}", err)) ||
        (rc = ht_check_keys(h, "heart", keys, err)))
        return rc;
    hs->enabled = 1;
    snprintf(hs->file, sizeof hs->file, "%s", h->file);
    hs->line = h->line;
    const yt_node *pn = yt_get(h, "preset");
    if (!pn) return ht_fail_at(err, h, "heart.preset", "missing: expected healthy or cardiogenic-shock");
    if (pn->kind == YT_SCALAR && !strcmp(pn->text, "healthy")) {
        hs->preset = HT_HEART_HEALTHY;
    } else if (pn->kind == YT_SCALAR && !strcmp(pn->text, "cardiogenic-shock")) {
        hs->preset = HT_HEART_SHOCK;
    } else {
        char f[96];
        found_text(pn, f, sizeof f);
        return ht_fail_at(err, pn, "heart.preset", "expected healthy or cardiogenic-shock, found %s", f);
    }
    const yt_node *vn = yt_get(h, "vessel");
    if (!vn)
        return ht_fail_at(err, h, "heart.vessel", "missing: the vessel whose start is the aortic root (e.g. aortic_sinus)");
    if ((rc = vessel_ref(c, vn, "heart.vessel", &hs->vessel, err))) return rc;
    if ((rc = ht_get_quantity(h, "heart", "heart_rate", "frequency", HT_POSITIVE, 0, &hs->heart_rate, NULL, err)))
        return rc;
    if (hs->heart_rate > 0 && (hs->heart_rate < 20.0 / 60 || hs->heart_rate > 250.0 / 60))
        return ht_fail_at(err, yt_get(h, "heart_rate"), "heart.heart_rate",
                          "expected a heart rate in [20, 250] /min, found %g /min", 60 * hs->heart_rate);
    {
        ht_heart_par P;
        ht_heart_state X;
        ht_heart_preset(hs->preset, &P, &X);
        hs->period = hs->heart_rate > 0 ? 1 / hs->heart_rate : P.T;
    }
    for (int ch = 0; ch < HT_CH_N; ++ch) {
        for (int q = 0; q < HT_CHP_N; ++q) hs->chamber[ch][q] = NAN;
        const yt_node *cn = yt_get(h, chambers[ch]);
        if (!cn) continue;
        char cp[64];
        ht_join(cp, sizeof cp, "heart", chambers[ch]);
        if ((rc = ht_expect_map(cn, cp, "chamber parameters {Ees, V0, Emin, P0, lambda}", err)) ||
            (rc = ht_check_keys(cn, cp, ck, err)))
            return rc;
        for (int q = 0; q < HT_CHP_N; ++q) {
            int given;
            double v;
            if ((rc = ht_get_quantity(cn, cp, ck[q], cdim[q], q == HT_CHP_EES ? HT_POSITIVE : HT_NONNEGATIVE, 0, &v,
                                      &given, err)))
                return rc;
            if (given) hs->chamber[ch][q] = v;
        }
    }
    hs->valve = -1;
    const yt_node *vk = yt_get(h, "valves");
    if (vk) {
        if (vk->kind == YT_SCALAR && !strcmp(vk->text, "mynard"))
            hs->valve = HT_VALVE_MYNARD;
        else if (vk->kind == YT_SCALAR && !strcmp(vk->text, "diode"))
            hs->valve = HT_VALVE_DIODE;
        else {
            char f[96];
            found_text(vk, f, sizeof f);
            return ht_fail_at(err, vk, "heart.valves", "expected mynard or diode, found %s", f);
        }
    }
    if ((rc = ht_get_quantity(h, "heart", "diode_resistance", "resistance", HT_POSITIVE, 0.003 * HT_MMHG_S_PER_ML,
                              &hs->diode_R, NULL, err)))
        return rc;
    if (yt_get(h, "diode_resistance") && hs->valve != HT_VALVE_DIODE)
        return ht_fail_at(err, yt_get(h, "diode_resistance"), "heart.diode_resistance",
                          "applies to diode valves only: add valves: diode");
    /* bronchial_resistance: a resistance >= 0 or `none` (0 and none switch the branch off) */
    const yt_node *bn = yt_get(h, "bronchial_resistance");
    hs->bronchial_given = bn != NULL;
    if (bn && bn->kind == YT_SCALAR && !strcmp(bn->text, "none"))
        hs->bronchial_R = 0;
    else if (bn && bn->kind != YT_SCALAR)
        return ht_fail_at(err, bn, "heart.bronchial_resistance", "expected a resistance (e.g. 65 mmHg s/mL) or none");
    else if (bn && (rc = ht_node_quantity(bn, "heart.bronchial_resistance", "resistance", HT_NONNEGATIVE,
                                          &hs->bronchial_R, err)))
        return rc;
    if (yt_get(h, "volume_change") && yt_get(h, "total_volume"))
        return ht_fail_at(err, yt_get(h, "total_volume"), "heart.total_volume",
                          "give either volume_change or total_volume, not both");
    if ((rc = ht_get_quantity(h, "heart", "volume_change", "volume", HT_ANY, 0, &hs->volume_change, NULL, err)) ||
        (rc = ht_get_quantity(h, "heart", "total_volume", "volume", HT_POSITIVE, 0, &hs->total_volume, NULL, err)))
        return rc;
    (void)x;
    (void)kp;
    return 0;
}

/* The parent of vessel v in the tree (the vessel ending where v starts), or -1. */
static int parent_vessel(const ht_case *c, int v)
{
    for (int u = 0; u < c->n_vessels; ++u)
        if (c->vessels[u].node_to == c->vessels[v].node_from) return u;
    return -1;
}

/* A cannula's place given as {vessel, x} in map m (key path kp): the vessel and x within
 * its length. 0, or 2 with the message. */
static int cannula_at(const ht_case *c, const yt_node *m, const char *kp, const yt_node *vn, int *vessel, double *x,
                      ht_error *err)
{
    char vkp[160], xkp[160];
    snprintf(vkp, sizeof vkp, "%s.vessel", kp);
    snprintf(xkp, sizeof xkp, "%s.x", kp);
    int rc;
    if ((rc = vessel_ref(c, vn, vkp, vessel, err)) ||
        (rc = ht_get_required(m, kp, "x", "length", HT_NONNEGATIVE, x, err)))
        return rc;
    double L = c->vessels[*vessel].length;
    if (*x > L)
        return ht_fail_at(err, yt_get(m, "x"), xkp, "expected a position in [0, %g cm] (the length of '%s'), found %g cm",
                          100 * L, c->vessels[*vessel].name, 100 * *x);
    return 0;
}

/* `devices:` (docs/input.md): an Impella and/or a femoral VA-ECMO; needs the heart. */
static int parse_devices(const yt_node *root, ht_case *c, ht_error *err)
{
    static const char *const keys[] = {"ecmo", "impella", NULL};
    static const char *const ek[] = {"flow", "rpm", "return", "drain", "saturation", "distal_perfusion", NULL};
    static const char *const dk[] = {"vessel", "x", "site", "fraction", NULL};
    static const char *const rk[] = {"vessel", "x", "site", "depth", NULL};
    static const char *const sk[] = {"oxygenator", "native", NULL};
    static const char *const ik[] = {"model", "level", "rpm", NULL};
    const yt_node *d = yt_get(root, "devices");
    ht_devices_spec *ds = &c->devices;
    int rc;
    ds->S_oxy = 1.0;
    ds->S_native = 0.7;
    if (!d) return 0;
    if ((rc = ht_expect_map(d, "devices", "the devices section {ecmo, impella}", err)) ||
        (rc = ht_check_keys(d, "devices", keys, err)))
        return rc;
    if (!c->heart.enabled)
        return ht_fail(err, d->file, yt_key_line(root, "devices"), "devices",
                       "devices need a heart: add a heart section (the Impella pumps from its LV, the ECMO drains "
                       "its systemic veins)");
    snprintf(ds->file, sizeof ds->file, "%s", d->file);
    ds->line = yt_key_line(root, "devices");
    const yt_node *im = yt_get(d, "impella");
    if (im) {
        if ((rc = ht_expect_map(im, "devices.impella", "the Impella {model: 2.5|CP|5.5, level: P1..P9 or rpm}", err)) ||
            (rc = ht_check_keys(im, "devices.impella", ik, err)))
            return rc;
        ds->impella = 1;
        const yt_node *mn = yt_get(im, "model");
        if (!mn) return ht_fail_at(err, im, "devices.impella.model", "missing: expected 2.5, CP or 5.5");
        if (mn->kind == YT_SCALAR && !strcmp(mn->text, "2.5")) ds->impella_model = HT_IMPELLA_25;
        else if (mn->kind == YT_SCALAR && (!strcmp(mn->text, "CP") || !strcmp(mn->text, "cp")))
            ds->impella_model = HT_IMPELLA_CP;
        else if (mn->kind == YT_SCALAR && !strcmp(mn->text, "5.5")) ds->impella_model = HT_IMPELLA_55;
        else {
            char f[96];
            found_text(mn, f, sizeof f);
            return ht_fail_at(err, mn, "devices.impella.model", "expected 2.5, CP or 5.5, found %s", f);
        }
        const yt_node *ln = yt_get(im, "level"), *rn = yt_get(im, "rpm");
        if ((ln != NULL) == (rn != NULL))
            return ht_fail_at(err, ln ? ln : im, "devices.impella.level",
                              "give either level (P1..P9) or rpm, exactly one");
        ds->impella_level = -1;
        if (ln) {
            const char *t = ln->kind == YT_SCALAR ? ln->text : "";
            if (t[0] == 'P' || t[0] == 'p') t++;
            if (t[0] == '-') t++;
            char *end = NULL;
            double v = strtod(t, &end);
            if (!t[0] || !end || *end || v != floor(v) || v < 1 || v > 9) {
                char f[96];
                found_text(ln, f, sizeof f);
                return ht_fail_at(err, ln, "devices.impella.level", "expected a P-level P1..P9 (or 1..9), found %s", f);
            }
            ds->impella_level = (int)v;
        } else {
            if ((rc = ht_node_quantity(rn, "devices.impella.rpm", "dimensionless", HT_POSITIVE, &ds->impella_rpm, err)))
                return rc;
            if (ds->impella_rpm > 60000)
                return ht_fail_at(err, rn, "devices.impella.rpm", "expected a speed in (0, 60000] rpm, found %g",
                                  ds->impella_rpm);
        }
    }
    const yt_node *e = yt_get(d, "ecmo");
    if (e) {
        if ((rc = ht_expect_map(e, "devices.ecmo", "the VA-ECMO {flow or rpm, return: {vessel, x}, ...}", err)) ||
            (rc = ht_check_keys(e, "devices.ecmo", ek, err)))
            return rc;
        ds->ecmo = 1;
        const yt_node *fn = yt_get(e, "flow"), *pn = yt_get(e, "rpm");
        if ((fn != NULL) == (pn != NULL))
            return ht_fail_at(err, fn ? fn : e, "devices.ecmo.flow",
                              "give either flow (prescribed, e.g. 4 L/min) or rpm (pump model), exactly one");
        if (fn) {
            if ((rc = ht_node_quantity(fn, "devices.ecmo.flow", "flow", HT_NONNEGATIVE, &ds->ecmo_flow, err))) return rc;
            if (ds->ecmo_flow > 10 * HT_LPM)
                return ht_fail_at(err, fn, "devices.ecmo.flow", "expected a flow in [0, 10] L/min, found %g L/min",
                                  ds->ecmo_flow / HT_LPM);
        } else {
            ds->ecmo_pump = 1;
            if ((rc = ht_node_quantity(pn, "devices.ecmo.rpm", "dimensionless", HT_NONNEGATIVE, &ds->ecmo_rpm, err)))
                return rc;
            if (ds->ecmo_rpm > 5000)
                return ht_fail_at(err, pn, "devices.ecmo.rpm", "expected a speed in [0, 5000] rpm, found %g",
                                  ds->ecmo_rpm);
        }
        const yt_node *dn = yt_get(e, "drain");
        if (dn && !(dn->kind == YT_SCALAR && !strcmp(dn->text, "systemic veins"))) {
            char f[96];
            found_text(dn, f, sizeof f);
            return ht_fail_at(err, dn, "devices.ecmo.drain", "expected systemic veins (the only drainage site), found %s",
                              f);
        }
        const yt_node *sn = yt_get(e, "saturation");
        if (sn) {
            if ((rc = ht_expect_map(sn, "devices.ecmo.saturation", "{oxygenator, native} fractions", err)) ||
                (rc = ht_check_keys(sn, "devices.ecmo.saturation", sk, err)) ||
                (rc = ht_get_quantity(sn, "devices.ecmo.saturation", "oxygenator", "dimensionless", HT_NONNEGATIVE,
                                      1.0, &ds->S_oxy, NULL, err)) ||
                (rc = ht_get_quantity(sn, "devices.ecmo.saturation", "native", "dimensionless", HT_NONNEGATIVE, 0.7,
                                      &ds->S_native, NULL, err)))
                return rc;
            if (ds->S_oxy > 1 || ds->S_native > 1)
                return ht_fail_at(err, sn, "devices.ecmo.saturation", "expected saturations in [0, 1], found %g, %g",
                                  ds->S_oxy, ds->S_native);
        }
        const yt_node *rt = yt_get(e, "return");
        if (!rt)
            return ht_fail_at(err, e, "devices.ecmo.return",
                              "missing: the return cannula tip {vessel, x} or {site, depth}");
        if ((rc = ht_expect_map(rt, "devices.ecmo.return", "the return cannula tip {vessel, x} or {site, depth}", err)) ||
            (rc = ht_check_keys(rt, "devices.ecmo.return", rk, err)))
            return rc;
        const yt_node *vn = yt_get(rt, "vessel"), *stn = yt_get(rt, "site");
        if ((vn != NULL) == (stn != NULL))
            return ht_fail_at(err, rt, "devices.ecmo.return.vessel", "give either vessel (with x) or site (with depth)");
        if (vn) {
            if (yt_get(rt, "depth"))
                return ht_fail_at(err, yt_get(rt, "depth"), "devices.ecmo.return.depth",
                                  "depth goes with site; with vessel give x");
            if ((rc = cannula_at(c, rt, "devices.ecmo.return", vn, &ds->ecmo_vessel, &ds->ecmo_x, err))) return rc;
        } else {
            if (yt_get(rt, "x"))
                return ht_fail_at(err, yt_get(rt, "x"), "devices.ecmo.return.x", "x goes with vessel; with site give depth");
            if ((rc = site_ref(c, stn, "devices.ecmo.return.site", &ds->ecmo_vessel, err))) return rc;
            int k = ds->ecmo_vessel;
            int v = c->sites[k].vessel;
            double x = c->sites[k].x, depth;
            if ((rc = ht_get_quantity(rt, "devices.ecmo.return", "depth", "length", HT_NONNEGATIVE, 0, &depth, NULL, err)))
                return rc;
            /* from the site toward the aorta: up the tree by `depth` */
            while (depth > x) {
                int u = parent_vessel(c, v);
                if (u < 0)
                    return ht_fail_at(err, yt_get(rt, "depth"), "devices.ecmo.return.depth",
                                      "reaches past the root of the tree (%g cm left)", 100 * (depth - x));
                depth -= x;
                v = u;
                x = c->vessels[u].length;
            }
            ds->ecmo_vessel = v;
            ds->ecmo_x = x - depth;
        }
        /* distal perfusion cannula: a fixed share of the pump flow, antegrade into the leg
         * (Foltan et al. 2019: its flow rises linearly with the ECMO flow, up to ~10 %) */
        const yt_node *dp = yt_get(e, "distal_perfusion");
        if (dp) {
            const char *dkp = "devices.ecmo.distal_perfusion";
            if ((rc = ht_expect_map(dp, dkp, "the distal perfusion cannula {vessel, x} or {site}, and fraction", err)) ||
                (rc = ht_check_keys(dp, dkp, dk, err)) ||
                (rc = ht_get_required(dp, dkp, "fraction", "dimensionless", HT_POSITIVE, &ds->dpc_frac, err)))
                return rc;
            if (ds->dpc_frac > 0.5)
                return ht_fail_at(err, yt_get(dp, "fraction"), "devices.ecmo.distal_perfusion.fraction",
                                  "expected a share of the pump flow in (0, 0.5] (clinically about 0.05-0.1), found %g",
                                  ds->dpc_frac);
            const yt_node *pv = yt_get(dp, "vessel"), *ps = yt_get(dp, "site");
            if ((pv != NULL) == (ps != NULL))
                return ht_fail_at(err, dp, "devices.ecmo.distal_perfusion.vessel",
                                  "give either vessel (with x) or site");
            if (pv) {
                if ((rc = cannula_at(c, dp, dkp, pv, &ds->dpc_vessel, &ds->dpc_x, err))) return rc;
            } else {
                if (yt_get(dp, "x"))
                    return ht_fail_at(err, yt_get(dp, "x"), "devices.ecmo.distal_perfusion.x", "x goes with vessel");
                int k;
                if ((rc = site_ref(c, ps, "devices.ecmo.distal_perfusion.site", &k, err))) return rc;
                ds->dpc_vessel = c->sites[k].vessel;
                ds->dpc_x = c->sites[k].x;
            }
            ds->dpc = 1;
        }
    }
    return 0;
}

static int parse_inlets(ctx *x, const yt_node *root, ht_case *c, ht_error *err)
{
    const yt_node *in = yt_get(root, "inlet");
    if (c->heart.enabled) {
        /* the heart is the case's only inlet: the aortic root at the start of heart.vessel */
        if (in)
            return ht_fail(err, in->file, yt_key_line(root, "inlet"), "inlet",
                           "a case with a heart has no inlet: the heart (heart.vessel) feeds the root; give either "
                           "inlet or heart, not both");
        c->inlets = calloc(1, sizeof *c->inlets);
        x->inlet_at = calloc(1, sizeof *x->inlet_at);
        if (!c->inlets || !x->inlet_at) return ht_fail_at(err, root, "heart", "out of memory");
        c->n_inlets = 1;
        c->inlets[0].vessel = c->heart.vessel;
        c->inlets[0].kind = HT_INLET_HEART;
        c->inlets[0].wave.kind = HT_WAVE_CONSTANT;
        c->inlets[0].wave.scale = 1;
        c->inlets[0].tracer = 0; /* native blood from the LV */
        x->inlet_at[0].file = c->heart.file;
        x->inlet_at[0].line = c->heart.line;
        snprintf(x->inlet_at[0].path, sizeof x->inlet_at[0].path, "heart.vessel");
        return 0;
    }
    if (!in)
        return ht_fail_at(err, root, "inlet",
                          "missing: the case needs an inlet (vessel, type, and a waveform) or a heart section");
    size_t n = in->kind == YT_SEQ ? in->n : 1;
    if (n == 0) return ht_fail_at(err, in, "inlet", "expected at least one inlet, found an empty list");
    c->inlets = calloc(n, sizeof *c->inlets);
    x->inlet_at = calloc(n, sizeof *x->inlet_at);
    if (!c->inlets || !x->inlet_at) return ht_fail_at(err, in, "inlet", "out of memory");
    c->n_inlets = (int)n;
    for (size_t k = 0; k < n; ++k) {
        char path[64];
        if (in->kind == YT_SEQ)
            snprintf(path, sizeof path, "inlet.%zu", k);
        else
            snprintf(path, sizeof path, "inlet");
        int rc = parse_inlet(x, in->kind == YT_SEQ ? in->items[k] : in, path, (int)k, c, err);
        if (rc) return rc;
    }
    return 0;
}

static int parse_outlets(ctx *x, const yt_node *root, ht_case *c, ht_error *err)
{
    static const char *const wk[] = {"type", "R1", "C", "R2", "p_out", NULL};
    static const char *const rk[] = {"type", "R", "p_out", NULL};
    static const char *const fk[] = {"type", "Rt", NULL};
    static const char *const ck[] = {"type", "Ra", "Ca", "Ram", "Cim", "Rv", "p_out", "intramyocardial", NULL};
    static const char *const pk[] = {"scale", "file", "period", "unit", "fourier", "gaussian", "constant", NULL};
    const yt_node *o = yt_get(root, "outlets");
    int rc;
    if (!o) return 0;
    if ((rc = ht_expect_map(o, "outlets", "outlets by vessel name (name: {type: ..., ...})", err))) return rc;
    c->outlets = calloc(o->n ? o->n : 1, sizeof *c->outlets);
    x->outlet_at = calloc(o->n ? o->n : 1, sizeof *x->outlet_at);
    if (!c->outlets || !x->outlet_at) return ht_fail_at(err, o, "outlets", "out of memory");
    c->n_outlets = (int)o->n;
    for (size_t k = 0; k < o->n; ++k) {
        ht_outlet_spec *os = &c->outlets[k];
        const yt_node *on = o->items[k];
        char path[256], kp[256];
        ht_join(path, sizeof path, "outlets", o->keys[k]);
        x->outlet_at[k].file = on->file;
        x->outlet_at[k].line = o->key_lines[k];
        snprintf(x->outlet_at[k].path, sizeof x->outlet_at[k].path, "%s", path);
        /* the key names the vessel: a scalar stand-in lets an unknown one be reported at
         * the key's line, with the list of known names */
        yt_node key = {0};
        key.kind = YT_SCALAR;
        key.file = on->file;
        key.line = o->key_lines[k];
        key.text = o->keys[k];
        key.plain = 1;
        if ((rc = vessel_ref(c, &key, path, &os->vessel, err))) return rc;
        if ((rc = ht_expect_map(on, path, "an outlet model {type: windkessel|resistance|reflection|coronary, ...}",
                                err)))
            return rc;
        const yt_node *tn = yt_get(on, "type");
        ht_join(kp, sizeof kp, path, "type");
        if (!tn) return ht_fail_at(err, on, kp, "missing: expected windkessel, resistance, reflection or coronary");
        const char *t = tn->kind == YT_SCALAR ? tn->text : "";
        if (!strcmp(t, "windkessel")) {
            os->kind = HT_OUTLET_WINDKESSEL;
            if ((rc = ht_check_keys(on, path, wk, err)) ||
                (rc = ht_get_required(on, path, "R1", "resistance", HT_NONNEGATIVE, &os->R1, err)) ||
                (rc = ht_get_required(on, path, "C", "compliance", HT_NONNEGATIVE, &os->C, err)) ||
                (rc = ht_get_required(on, path, "R2", "resistance", HT_NONNEGATIVE, &os->R2, err)) ||
                (rc = ht_get_quantity(on, path, "p_out", "pressure", HT_ANY, 0, &os->p_out, NULL, err)))
                return rc;
            if (!(os->R1 + os->R2 > 0))
                return ht_fail_at(err, on, path, "a windkessel needs R1 + R2 > 0 (both are zero)");
        } else if (!strcmp(t, "resistance")) {
            os->kind = HT_OUTLET_RESISTANCE;
            if ((rc = ht_check_keys(on, path, rk, err)) ||
                (rc = ht_get_required(on, path, "R", "resistance", HT_POSITIVE, &os->R1, err)) ||
                (rc = ht_get_quantity(on, path, "p_out", "pressure", HT_ANY, 0, &os->p_out, NULL, err)))
                return rc;
        } else if (!strcmp(t, "coronary")) {
            /* Kim et al. 2010 (kernels/coronary.h): Ra - Ca - Ram - Cim(P_im) - Rv - p_out */
            os->kind = HT_OUTLET_CORONARY;
            if ((rc = ht_check_keys(on, path, ck, err)) ||
                (rc = ht_get_required(on, path, "Ra", "resistance", HT_NONNEGATIVE, &os->R1, err)) ||
                (rc = ht_get_required(on, path, "Ca", "compliance", HT_NONNEGATIVE, &os->Ca, err)) ||
                (rc = ht_get_required(on, path, "Ram", "resistance", HT_POSITIVE, &os->Ram, err)) ||
                (rc = ht_get_required(on, path, "Cim", "compliance", HT_NONNEGATIVE, &os->Cim, err)) ||
                (rc = ht_get_required(on, path, "Rv", "resistance", HT_POSITIVE, &os->Rv, err)) ||
                (rc = ht_get_quantity(on, path, "p_out", "pressure", HT_ANY, 0, &os->p_out, NULL, err)))
                return rc;
            const yt_node *im = yt_get(on, "intramyocardial");
            ht_join(kp, sizeof kp, path, "intramyocardial");
            if (c->heart.enabled) {
                /* closed loop: P_im = scale x the heart's LV pressure (kernels/heart_stage.h) */
                static const char *const sk[] = {"scale", NULL};
                double sc = 1;
                if (im && ((rc = ht_expect_map(im, kp, "the intramyocardial pressure {scale}", err)) ||
                           (rc = ht_check_keys(im, kp, sk, err))))
                    return ht_fail_at(err, im, kp,
                                      "with a heart, the intramyocardial pressure is scale x the heart's LV pressure: "
                                      "give only {scale: FRACTION} (no waveform)");
                if (im && (rc = ht_get_quantity(im, kp, "scale", "dimensionless", HT_ANY, 1, &sc, NULL, err)))
                    return rc;
                if (sc < 0 || sc > 1.5) {
                    char sp[300];
                    ht_join(sp, sizeof sp, kp, "scale");
                    return ht_fail_at(err, yt_get(im, "scale"), sp,
                                      "expected a fraction of the ventricular pressure in [0, 1.5], found %g", sc);
                }
                os->pim.kind = HT_WAVE_CONSTANT;
                os->pim.value = 0;
                os->pim.scale = sc;
                continue;
            }
            if (!im)
                return ht_fail_at(err, on, kp,
                                  "missing: the intramyocardial pressure {scale, and one of file, fourier, constant} "
                                  "(e.g. the LV pressure waveform; constant: 0 for none)");
            if ((rc = ht_expect_map(im, kp, "the intramyocardial pressure {scale, and a waveform}", err)) ||
                (rc = ht_check_keys(im, kp, pk, err)) || (rc = parse_waveform(x, im, kp, "pressure", 1, &os->pim, err)))
                return rc;
            double sc; /* the scale as written (pim.scale also holds a table's unit) */
            if ((rc = ht_get_quantity(im, kp, "scale", "dimensionless", HT_ANY, 1, &sc, NULL, err))) return rc;
            if (sc < 0 || sc > 1.5) {
                char sp[300];
                ht_join(sp, sizeof sp, kp, "scale");
                return ht_fail_at(err, yt_get(im, "scale"), sp,
                                  "expected a fraction of the ventricular pressure in [0, 1.5], found %g", sc);
            }
        } else if (!strcmp(t, "reflection")) {
            os->kind = HT_OUTLET_REFLECTION;
            if (c->heart.enabled)
                return ht_fail_at(err, tn, kp,
                                  "a reflection outlet cannot drain into the veins: with a heart (closed loop) every "
                                  "outlet must be windkessel, resistance or coronary");
            if ((rc = ht_check_keys(on, path, fk, err)) ||
                (rc = ht_get_required(on, path, "Rt", "dimensionless", HT_ANY, &os->Rt, err)))
                return rc;
            if (os->Rt < -1 || os->Rt > 1) {
                ht_join(kp, sizeof kp, path, "Rt");
                return ht_fail_at(err, yt_get(on, "Rt"), kp, "expected a reflection coefficient in [-1, 1], found %g",
                                  os->Rt);
            }
        } else {
            char f[96];
            found_text(tn, f, sizeof f);
            return ht_fail_at(err, tn, kp, "expected windkessel, resistance, reflection or coronary, found %s", f);
        }
    }
    return 0;
}

static int parse_limiter(const yt_node *m, const char *key, ht_limiter_kind *out, ht_error *err)
{
    const yt_node *n = yt_get(m, key);
    if (!n) return 0;
    /* same order as ht_limiter_kind */
    static const char *const names[] = {"minmod", "mc", "superbee", "none"};
    for (int i = 0; i < 4; ++i)
        if (n->kind == YT_SCALAR && !strcmp(n->text, names[i])) {
            *out = (ht_limiter_kind)i;
            return 0;
        }
    char kp[128], f[96];
    ht_join(kp, sizeof kp, "numerics", key);
    found_text(n, f, sizeof f);
    return ht_fail_at(err, n, kp, "expected minmod, mc, superbee or none, found %s", f);
}

static int parse_numerics(ctx *x, const yt_node *root, ht_case *c, ht_error *err)
{
    static const char *const keys[] = {"cfl", "dx", "min_cells", "limiter", "tracer_limiter", "junction_tol",
                                       "junction_maxit", "tracer", "initial_pressure", NULL};
    const yt_node *m = yt_get(root, "numerics");
    int rc;
    if (!m) return 0;
    if ((rc = ht_expect_map(m, "numerics", "the numerics section", err)) ||
        (rc = ht_check_keys(m, "numerics", keys, err)) ||
        (rc = ht_get_quantity(m, "numerics", "cfl", "dimensionless", HT_ANY, c->cfl, &c->cfl, NULL, err)))
        return rc;
    if (!(c->cfl > 0 && c->cfl <= 1))
        return ht_fail_at(err, yt_get(m, "cfl"), "numerics.cfl", "expected a CFL number in (0, 1], found %g", c->cfl);
    if ((rc = ht_get_quantity(m, "numerics", "dx", "length", HT_POSITIVE, c->dx, &c->dx, NULL, err)) ||
        (rc = ht_get_int(m, "numerics", "min_cells", 1, 1000000, c->min_cells, &c->min_cells, err)) ||
        (rc = parse_limiter(m, "limiter", &c->limiter, err)) ||
        (rc = parse_limiter(m, "tracer_limiter", &c->tracer_limiter, err)) ||
        (rc = ht_get_quantity(m, "numerics", "junction_tol", "dimensionless", HT_POSITIVE, c->junction_tol,
                              &c->junction_tol, NULL, err)) ||
        (rc = ht_get_int(m, "numerics", "junction_maxit", 1, 100000, c->junction_maxit, &c->junction_maxit, err)) ||
        (rc = ht_get_bool(m, "numerics", "tracer", c->tracer, &c->tracer, err)) ||
        (rc = ht_get_quantity(m, "numerics", "initial_pressure", "pressure", HT_ANY, 0, &c->p_init, &x->have_p_init,
                              err)))
        return rc;
    /* The MUSCL stages are TVD with superbee only for CFL <= 1/2; above it, pressure and flow
     * computed with superbee turn chaotic (a one-ulp change of the inflow changes the flow by
     * O(1): tests/test_roundoff.c). Refuse rather than compute noise. */
    if (c->limiter == HT_LIMITER_SUPERBEE && c->cfl > 0.5)
        return ht_fail_at(err, yt_get(m, "limiter"), "numerics.limiter",
                          "superbee for pressure and flow needs numerics.cfl <= 0.5 (found %g); use mc, or lower cfl",
                          c->cfl);
    return 0;
}

static int parse_run(ctx *x, const yt_node *root, ht_case *c, ht_error *err)
{
    static const char *const keys[] = {"cycles", "period", "t_end", "convergence_tolerance", "stop_when_periodic",
                                       NULL};
    const yt_node *m = yt_get(root, "run");
    int rc;
    if (!m) return 0;
    if ((rc = ht_expect_map(m, "run", "the run section", err)) || (rc = ht_check_keys(m, "run", keys, err)) ||
        (rc = ht_get_int(m, "run", "cycles", 1, 1000000, c->cycles, &c->cycles, err)) ||
        (rc = ht_get_quantity(m, "run", "period", "time", HT_POSITIVE, 0, &c->period, &x->period_given, err)) ||
        (rc = ht_get_quantity(m, "run", "t_end", "time", HT_NONNEGATIVE, 0, &c->t_end, NULL, err)) ||
        (rc = ht_get_quantity(m, "run", "convergence_tolerance", "dimensionless", HT_POSITIVE, c->conv_tol,
                              &c->conv_tol, NULL, err)) ||
        (rc = ht_get_bool(m, "run", "stop_when_periodic", c->stop_periodic, &c->stop_periodic, err)))
        return rc;
    return 0;
}

static int parse_output(const yt_node *root, ht_case *c, ht_error *err)
{
    static const char *const keys[] = {"interval", "probes", NULL};
    static const char *const pk[] = {"name", "vessel", "x", "site", NULL};
    const yt_node *m = yt_get(root, "output");
    int rc;
    if (!m) return 0;
    if ((rc = ht_expect_map(m, "output", "the output section", err)) ||
        (rc = ht_check_keys(m, "output", keys, err)) ||
        (rc = ht_get_quantity(m, "output", "interval", "time", HT_POSITIVE, 0, &c->out_interval, NULL, err)))
        return rc;
    const yt_node *pr = yt_get(m, "probes");
    if (!pr) return 0;
    if (pr->kind != YT_SEQ) {
        char f[96];
        found_text(pr, f, sizeof f);
        return ht_fail_at(err, pr, "output.probes", "expected a list of probes {name, vessel, x}, found %s", f);
    }
    c->probes = calloc(pr->n ? pr->n : 1, sizeof *c->probes);
    if (!c->probes) return ht_fail_at(err, pr, "output.probes", "out of memory");
    c->n_probes = (int)pr->n;
    for (size_t k = 0; k < pr->n; ++k) {
        ht_probe_spec *p = &c->probes[k];
        const yt_node *it = pr->items[k];
        char path[128], kp[160];
        snprintf(path, sizeof path, "output.probes.%zu", k);
        if ((rc = ht_expect_map(it, path, "a probe {name, vessel, x}", err)) || (rc = ht_check_keys(it, path, pk, err)))
            return rc;
        /* a named site instead of vessel + x */
        const yt_node *sn = yt_get(it, "site");
        int site = -1;
        if (sn) {
            ht_join(kp, sizeof kp, path, "site");
            if (yt_get(it, "vessel") || yt_get(it, "x"))
                return ht_fail_at(err, sn, kp, "give either site or vessel and x, not both");
            if ((rc = site_ref(c, sn, kp, &site, err))) return rc;
            p->vessel = c->sites[site].vessel;
        } else {
            ht_join(kp, sizeof kp, path, "vessel");
            if (!yt_get(it, "vessel"))
                return ht_fail_at(err, it, kp, "missing: the vessel the probe is in (or site: a named site)");
            if ((rc = vessel_ref(c, yt_get(it, "vessel"), kp, &p->vessel, err))) return rc;
        }
        const ht_vessel_spec *vs = &c->vessels[p->vessel];
        if (yt_get(it, "name")) {
            ht_join(kp, sizeof kp, path, "name");
            if ((rc = ht_node_name(yt_get(it, "name"), kp, p->name, err))) return rc;
        } else if (site >= 0) {
            /* the site's name with spaces as underscores ("aortic root" -> aortic_root) */
            snprintf(p->name, sizeof p->name, "%s", c->sites[site].name);
            for (char *q = p->name; *q; ++q)
                if (*q == ' ') *q = '_';
        } else {
            snprintf(p->name, sizeof p->name, "%.40s_%zu", vs->name, k);
        }
        for (size_t j = 0; j < k; ++j)
            if (!strcmp(c->probes[j].name, p->name))
                return ht_fail_at(err, it, path, "duplicate probe name '%s'", p->name);
        if (site >= 0) {
            p->x = c->sites[site].x;
            continue;
        }
        if ((rc = ht_get_required(it, path, "x", "length", HT_ANY, &p->x, err))) return rc;
        if (p->x < 0 || p->x > vs->length) {
            ht_join(kp, sizeof kp, path, "x");
            return ht_fail_at(err, yt_get(it, "x"), kp,
                              "probe position %g m is outside vessel '%s', expected x in [0, %g] m (its length)", p->x,
                              vs->name, vs->length);
        }
    }
    return 0;
}

static void file_stem(const char *path, char *out, size_t len)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    size_t n = dot && dot > b ? (size_t)(dot - b) : strlen(b);
    if (n >= len) n = len - 1;
    memcpy(out, b, n);
    out[n] = 0;
}

static void add_doc(ht_sbuf *cfg, const char *what, const yt_doc *d)
{
    ht_sbuf_printf(cfg, "# ---- %s: %s ----\n", what, d->file);
    ht_sbuf_add(cfg, d->text, d->len);
    if (d->len && d->text[d->len - 1] != '\n') ht_sbuf_add(cfg, "\n", 1);
}

/* Period and output spacing from what was given; checks that make sense only as a whole. */
static int finish_run(ctx *x, ht_case *c, ht_error *err)
{
    if (c->heart.enabled) {
        double T = c->heart.period;
        if (x->period_given && fabs(T - c->period) > 1e-9 * T)
            return ht_fail_at(err, yt_get(yt_get(x->root, "run"), "period"), "run.period",
                              "the heart's cycle is %g s (heart rate %g /min): run.period (%g s) must equal it or "
                              "be left out",
                              T, 60 / T, c->period);
        c->period = T;
    }
    for (int k = 0; k < c->n_inlets; ++k) {
        const ht_waveform *w = &c->inlets[k].wave;
        if (!(w->period > 0)) continue;
        if (!(c->period > 0)) {
            c->period = w->period;
            continue;
        }
        if (fabs(w->period - c->period) > 1e-9 * c->period) {
            const char *src = x->period_given ? "run.period" : "the first periodic inlet";
            return ht_fail(err, x->inlet_at[k].file, x->inlet_at[k].line, x->inlet_at[k].path,
                           "the waveform's period %g s differs from %s (%g s); periodic inlets must share one period",
                           w->period, src, c->period);
        }
    }
    for (int k = 0; k < c->n_outlets; ++k) {
        const ht_waveform *w = &c->outlets[k].pim;
        if (c->outlets[k].kind != HT_OUTLET_CORONARY || !(w->period > 0) || !(c->period > 0)) continue;
        if (fabs(w->period - c->period) > 1e-9 * c->period)
            return ht_fail(err, x->outlet_at[k].file, x->outlet_at[k].line, x->outlet_at[k].path,
                           "the intramyocardial pressure's period %g s differs from the cardiac period %g s",
                           w->period, c->period);
    }
    if (!(c->period > 0) && !(c->t_end > 0))
        return ht_fail_at(err, x->root, "run.t_end",
                          "no inlet is periodic, so the run length needs run.t_end (or run.period with cycles)");
    if (!(c->out_interval > 0)) c->out_interval = c->period > 0 ? c->period / 100 : c->t_end / 100;
    if (!x->have_p_init) c->p_init = c->vessels[0].p_ref;
    return 0;
}

/* An override of a mesh key: applied to the mesh file when the case names one. */
static int is_mesh_set(const char *set)
{
    return !strncmp(set, "vessels.", 8) || !strncmp(set, "sites.", 6);
}

static int load_own(ctx *x, const yt_doc *cd, const char *const *sets, int n_sets, ht_case *c, ht_error *err)
{
    /* `ensemble` is read by ensemble.c, which loads each member through here: ignored */
    static const char *const keys[] = {"name", "description", "mesh", "vessels", "reference_pressure",
                                       "wall_viscosity", "blood", "inlet", "outlets", "numerics", "run",
                                       "output", "ensemble", "sites", "heart", "devices", NULL};
    static const char *const mesh_keys[] = {"name", "description", "reference_pressure", "wall_viscosity",
                                            "vessels", "sites", NULL};
    const yt_node *root = cd->root;
    yt_doc md;
    int rc, have_mesh = 0;
    memset(&md, 0, sizeof md);
    x->root = root;
    if ((rc = ht_check_keys(root, "", keys, err))) return rc;

    const yt_node *mesh = yt_get(root, "mesh");
    const yt_node *vessels = yt_get(root, "vessels");
    const yt_node *vessel_owner = root;
    double p_ref = 0, phi = 0;
    if (mesh && vessels)
        return ht_fail(err, cd->file, yt_key_line(root, "vessels"), "vessels",
                       "give either mesh: (a mesh file) or vessels: (inline), not both");
    if (!mesh && !vessels)
        return ht_fail(err, cd->file, 1, "mesh", "missing: give mesh: (a mesh file) or vessels: (inline)");
    if (mesh && yt_get(root, "sites"))
        return ht_fail(err, cd->file, yt_key_line(root, "sites"), "sites",
                       "sites belong with the vessels: put them in the mesh file (or give vessels: inline)");
    if (mesh) {
        if (mesh->kind != YT_SCALAR || !mesh->text[0])
            return ht_fail_at(err, mesh, "mesh", "expected the mesh file name, found %s", yt_kind_name(mesh));
        char full[1024], msg[HT_ERR_MAX];
        const char *base = strcmp(mesh->file, "--set") ? mesh->file : cd->file;
        if (ht_resolve_path(base, mesh->text, full, sizeof full)) return ht_fail_at(err, mesh, "mesh", "path too long");
        if (yt_load(full, &md, msg, sizeof msg)) return ht_fail_at(err, mesh, "mesh", "cannot read the mesh: %s", msg);
        have_mesh = 1;
        /* overrides of mesh keys (vessels.*, sites.*) go to the mesh when the case names one */
        for (int i = 0; i < n_sets && !rc; ++i)
            if (is_mesh_set(sets[i]) && yt_apply_set(&md, sets[i], i + 1, err->msg, sizeof err->msg))
                rc = HT_INPUT_ERROR;
        if (!rc && !md.root) rc = ht_fail(err, md.file, 1, "", "the mesh file is empty");
        if (!rc && md.root->kind != YT_MAP)
            rc = ht_fail_at(err, md.root, "", "expected a mesh (a map with vessels:), found %s", yt_kind_name(md.root));
        if (!rc) rc = ht_check_keys(md.root, "", mesh_keys, err);
        if (!rc)
            rc = ht_get_quantity(md.root, "", "reference_pressure", "pressure", HT_ANY, 0, &p_ref, NULL, err);
        if (!rc) rc = ht_get_quantity(md.root, "", "wall_viscosity", "viscosity", HT_NONNEGATIVE, 0, &phi, NULL, err);
        if (rc) goto done;
        add_doc(x->cfg, "mesh file", &md);
        vessels = yt_get(md.root, "vessels");
        vessel_owner = md.root;
    }
    if ((rc = ht_get_quantity(root, "", "reference_pressure", "pressure", HT_ANY, p_ref, &p_ref, NULL, err))) goto done;
    /* wall viscosity default for every vessel: the case's overrides the mesh's, a vessel's
     * own wall_viscosity overrides both (as for reference_pressure) */
    if ((rc = ht_get_quantity(root, "", "wall_viscosity", "viscosity", HT_NONNEGATIVE, phi, &phi, NULL, err))) goto done;

    const yt_node *nm = yt_get(root, "name");
    if (!nm && have_mesh) nm = yt_get(md.root, "name");
    if (nm) {
        if ((rc = ht_node_name(nm, "name", c->name, err))) goto done;
    } else {
        file_stem(cd->file, c->name, sizeof c->name);
    }
    if ((rc = parse_vessels(vessels, vessel_owner, p_ref, phi, c, err)) ||
        (rc = parse_sites(yt_get(vessel_owner, "sites"), c, err)) || (rc = parse_blood(root, c, err)) ||
        (rc = parse_heart(x, root, c, err)) || (rc = parse_devices(root, c, err)) ||
        (rc = parse_inlets(x, root, c, err)) || (rc = parse_outlets(x, root, c, err)) ||
        (rc = parse_numerics(x, root, c, err)) || (rc = parse_run(x, root, c, err)) ||
        (rc = parse_output(root, c, err)))
        goto done;
    /* a VA-ECMO needs the ECMO fraction */
    if (c->devices.ecmo) c->tracer = 1;
    static const ht_key_words words = {"vessels", "from", "to", "inlet", "outlets.NAME"};
    if ((rc = ht_case_check_network(c, &words, x->inlet_at, x->outlet_at, err))) goto done;
    rc = finish_run(x, c, err);
done:
    yt_free(&md);
    return rc;
}

int ht_case_load(const char *path, const char *const *sets, int n_sets, ht_case *c, ht_error *err)
{
    yt_doc cd;
    ht_sbuf cfg = {0};
    ctx x;
    int rc = 0;
    memset(c, 0, sizeof *c);
    memset(&x, 0, sizeof x);
    err->msg[0] = 0;
    snprintf(c->path, sizeof c->path, "%s", path);
    ht_case_defaults(c);
    if (yt_load(path, &cd, err->msg, sizeof err->msg)) return HT_INPUT_ERROR;
    if (!cd.root || cd.root->kind != YT_MAP) {
        rc = ht_fail(err, path, cd.root ? cd.root->line : 1, "",
                     "expected a case (a map of sections such as mesh:, inlet:, outlets:), found %s",
                     cd.root ? yt_kind_name(cd.root) : "an empty file");
        goto done;
    }
    x.case_file = cd.file;
    x.cfg = &cfg;
    ht_sbuf_printf(&cfg, "# hemotree resolved input (version %s)\n", HT_VERSION);
    add_doc(&cfg, "case file", &cd);

    /* the file as written decides the format and where vessels.* overrides go */
    const yt_node *net = yt_get(cd.root, "network");
    int is_openbf = net && net->kind == YT_SEQ;
    int case_has_mesh = yt_get(cd.root, "mesh") && !yt_get(cd.root, "vessels");
    if (is_openbf && yt_get(cd.root, "ensemble")) {
        rc = ht_fail(err, path, yt_key_line(cd.root, "ensemble"), "ensemble",
                     "ensembles are not supported in openBF network files; write a hemotree case "
                     "(docs/input.md) or vary the network with --set");
        goto done;
    }
    if (n_sets > 0) ht_sbuf_printf(&cfg, "# ---- overrides (--set), applied in this order ----\n");
    for (int i = 0; i < n_sets; ++i) {
        ht_sbuf_printf(&cfg, "# %s\n", sets[i]);
        /* vessels.* and sites.* overrides are for the mesh file when the case names one */
        if (!is_openbf && case_has_mesh && is_mesh_set(sets[i])) continue;
        if (yt_apply_set(&cd, sets[i], i + 1, err->msg, sizeof err->msg)) {
            rc = HT_INPUT_ERROR;
            goto done;
        }
    }
    rc = is_openbf ? ht_openbf_build(&cd, c, &cfg, err) : load_own(&x, &cd, sets, n_sets, c, err);
    if (!rc && cfg.oom) rc = ht_fail(err, path, 1, "", "out of memory");
    if (!rc) {
        c->config_text = cfg.s;
        cfg.s = NULL;
    }
done:
    free(cfg.s);
    free(x.inlet_at);
    free(x.outlet_at);
    yt_free(&cd);
    if (rc) ht_case_free(c);
    return rc;
}
