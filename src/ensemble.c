/* Parameter ensembles (ensemble.h): reading and checking the `ensemble:` section, member
 * enumeration, the runner and the summary.
 *
 * Members run in launches: up to `batch` consecutive members whose networks share one shape
 * (ht_network_stack) and one output schedule are stacked into one network and advanced
 * together by ht_run_members: on the GPU in one graph launch, on the CPU one member per
 * thread. Members of another shape (a parameter that changes the mesh or the numerics)
 * start a new launch. Each member still writes exactly the file its single run would, and
 * steps with its own dt, so member k equals the single run bitwise on the CPU.
 *
 * Each launch runs in a child process (fork): a launch that crashes or runs out of memory
 * cannot take the rest of the ensemble down, and the parent touches neither HDF5 nor CUDA,
 * so every child starts from a clean runtime. The child hands each member's outcome
 * (ht_member_result, with its message) back through a temporary file.
 *
 * The summary HDF5 file is written here, not in output.c: it is a different file with a
 * table of strings and numbers that the single-run writer has no use for. */
#include "ensemble.h"
#include "output.h"
#include "checkpoint.h"
#include "case_internal.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static char *dup_s(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

/* ---------------------------------------------------------------- values */

/* A value's dimension is not known here (the key path decides it when the member is
 * loaded), so a value is accepted if it parses as any known dimension; the SI value does not
 * depend on which one (the unit fixes the factor). The bitmask of dimensions it parses as
 * lets all values of one parameter be checked for a common dimension (a bare number parses
 * as every one). */
static int parse_text(const char *text, double *si, unsigned *mask)
{
    *mask = ht_units_parse_any(text, si);
    return *mask && isfinite(*si) ? 0 : -1;
}

static int parse_value(const yt_node *n, const char *kp, double *si, unsigned *mask, ht_error *err)
{
    if (!n || n->kind != YT_SCALAR || yt_is_null(n))
        return ht_fail_at(err, n, kp, "expected a number, optionally with a unit (e.g. 6e7 or \"3 mPa s\"), found %s",
                          n && !yt_is_null(n) ? yt_kind_name(n) : "nothing");
    if (parse_text(n->text, si, mask) && !*mask)
        return ht_fail_at(err, n, kp,
                          "expected a number, optionally with a unit (e.g. 6e7 or \"3 mPa s\"), found \"%.60s\"",
                          n->text);
    if (!isfinite(*si)) return ht_fail_at(err, n, kp, "the value \"%.60s\" is not finite", n->text);
    return 0;
}

static int add_value(ht_ens_param *p, const char *text, double si)
{
    char *t = dup_s(text);
    if (!t) return -1;
    p->text[p->n] = t;
    p->si[p->n] = si;
    p->n++;
    return 0;
}

/* params->text/si sized for n values */
static int alloc_values(ht_ens_param *p, long n)
{
    p->text = calloc((size_t)n, sizeof *p->text);
    p->si = calloc((size_t)n, sizeof *p->si);
    return p->text && p->si ? 0 : -1;
}

static int parse_list(const yt_node *v, const char *kp, ht_ens_param *p, ht_error *err)
{
    if (v->n == 0) return ht_fail_at(err, v, kp, "the list of values is empty");
    if ((long)v->n > HT_ENS_MAX_MEMBERS)
        return ht_fail_at(err, v, kp, "%zu values: more than %ld members", v->n, HT_ENS_MAX_MEMBERS);
    if (alloc_values(p, (long)v->n)) return ht_fail_at(err, v, kp, "out of memory");
    unsigned common = ~0u;
    for (size_t i = 0; i < v->n; ++i) {
        double si;
        unsigned mask;
        int rc = parse_value(v->items[i], kp, &si, &mask, err);
        if (rc) return rc;
        common &= mask;
        if (!common)
            return ht_fail_at(err, v->items[i], kp, "\"%.60s\" has a different dimension than the values before it",
                              v->items[i]->text);
        /* the text as written: the member is then exactly `--set key=<text>` */
        if (add_value(p, v->items[i]->text, si)) return ht_fail_at(err, v, kp, "out of memory");
    }
    return 0;
}

static int parse_range(const yt_node *v, const char *kp, ht_ens_param *p, ht_error *err)
{
    static const char *const keys[] = {"from", "to", "count", "spacing", NULL};
    int rc = ht_check_keys(v, kp, keys, err);
    if (rc) return rc;
    const char *names[2] = {"from", "to"};
    double ends[2];
    unsigned masks[2];
    for (int i = 0; i < 2; ++i) {
        const yt_node *n = yt_get(v, names[i]);
        char sub[256];
        ht_join(sub, sizeof sub, kp, names[i]);
        if (!n) return ht_fail_at(err, v, sub, "missing: a range needs from, to and count");
        if ((rc = parse_value(n, sub, &ends[i], &masks[i], err))) return rc;
    }
    if (!(masks[0] & masks[1]))
        return ht_fail_at(err, yt_get(v, "to"), kp, "from and to have different dimensions");
    if (!yt_get(v, "count")) return ht_fail_at(err, v, kp, "missing count: a range needs from, to and count");
    int count;
    if ((rc = ht_get_int(v, kp, "count", 1, (int)HT_ENS_MAX_MEMBERS, 1, &count, err))) return rc;
    int log_spacing = 0;
    const yt_node *sp = yt_get(v, "spacing");
    if (sp) {
        char sub[256];
        ht_join(sub, sizeof sub, kp, "spacing");
        if (sp->kind == YT_SCALAR && !strcmp(sp->text, "log")) log_spacing = 1;
        else if (!(sp->kind == YT_SCALAR && !strcmp(sp->text, "linear")))
            return ht_fail_at(err, sp, sub, "expected linear or log");
        if (log_spacing && !(ends[0] > 0 && ends[1] > 0))
            return ht_fail_at(err, sp, sub, "log spacing needs from > 0 and to > 0");
    }
    if (alloc_values(p, count)) return ht_fail_at(err, v, kp, "out of memory");
    for (int i = 0; i < count; ++i) {
        /* the ends exactly as given; interior points by the fraction along the range */
        double f = count > 1 ? (double)i / (double)(count - 1) : 0, x;
        if (i == 0) x = ends[0];
        else if (i == count - 1) x = ends[1];
        else if (log_spacing) x = exp(log(ends[0]) + f * (log(ends[1]) - log(ends[0])));
        else x = ends[0] + f * (ends[1] - ends[0]);
        /* SI, the shortest text that reads back as exactly x (the member sees x itself) */
        char t[40];
        for (int prec = 15; prec <= 17; ++prec) {
            snprintf(t, sizeof t, "%.*g", prec, x);
            if (strtod(t, NULL) == x) break;
        }
        if (add_value(p, t, x)) return ht_fail_at(err, v, kp, "out of memory");
    }
    return 0;
}

/* ---------------------------------------------------------------- loading */

void ht_ensemble_free(ht_ensemble *e)
{
    for (int p = 0; p < e->n_params; ++p) {
        ht_ens_param *q = &e->params[p];
        for (int i = 0; i < q->n; ++i) free(q->text[i]);
        free(q->text);
        free(q->si);
        free(q->key);
    }
    free(e->params);
    ht_ensemble_sets_free(e->sets, e->n_sets);
    free(e->path);
    memset(e, 0, sizeof *e);
}

void ht_ensemble_sets_free(char **sets, int n)
{
    if (!sets) return;
    for (int i = 0; i < n; ++i) free(sets[i]);
    free(sets);
}

int ht_ensemble_value_index(const ht_ensemble *e, long k, int p)
{
    if (e->combine != HT_ENS_PRODUCT) return (int)k; /* zip, rows */
    for (int q = e->n_params - 1; q > p; --q) k /= e->params[q].n;
    return (int)(k % e->params[p].n);
}

static char *assignment(const char *key, const char *value)
{
    size_t n = strlen(key) + strlen(value) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s=%s", key, value);
    return s;
}

/* the command's sets, then `extra` (n_extra assignments) */
static int sets_with(const ht_ensemble *e, char **extra, int n_extra, char ***out, int *n_out)
{
    int n = e->n_sets + n_extra;
    char **s = calloc((size_t)(n > 0 ? n : 1), sizeof *s);
    if (!s) return -1;
    for (int i = 0; i < e->n_sets; ++i)
        if (!(s[i] = dup_s(e->sets[i]))) {
            ht_ensemble_sets_free(s, n);
            return -1;
        }
    for (int i = 0; i < n_extra; ++i) s[e->n_sets + i] = extra[i];
    *out = s;
    *n_out = n;
    return 0;
}

int ht_ensemble_member_sets(const ht_ensemble *e, long k, char ***out, int *n_out)
{
    char **extra = calloc((size_t)e->n_params, sizeof *extra);
    if (!extra) return -1;
    for (int p = 0; p < e->n_params; ++p) {
        const ht_ens_param *q = &e->params[p];
        if (!(extra[p] = assignment(q->key, q->text[ht_ensemble_value_index(e, k, p)]))) {
            ht_ensemble_sets_free(extra, p);
            return -1;
        }
    }
    /* sets_with takes the strings of extra; only the array itself is freed here */
    int rc = sets_with(e, extra, e->n_params, out, n_out);
    if (rc) ht_ensemble_sets_free(extra, e->n_params);
    else free(extra);
    return rc;
}

static int load_with(const ht_ensemble *e, char **sets, int n, ht_case *c, ht_error *err)
{
    return ht_case_load(e->path, (const char *const *)sets, n, c, err);
}

int ht_ensemble_load_member(const ht_ensemble *e, long k, ht_case *c, ht_error *err)
{
    char **sets;
    int n;
    if (ht_ensemble_member_sets(e, k, &sets, &n)) {
        memset(c, 0, sizeof *c);
        snprintf(err->msg, sizeof err->msg, "%s: out of memory", e->path);
        return HT_INPUT_ERROR;
    }
    int rc = load_with(e, sets, n, c, err);
    ht_ensemble_sets_free(sets, n);
    return rc;
}

/* A key path is accepted when at least one of its values loads on the base case: a typo
 * then fails for every value ("unknown key"), while a bad value among good ones (a negative
 * resistance in a list) is left to fail its own member only. `section` prefixes the key
 * path in messages ("ensemble.parameters"; "" for a rows file, whose columns are key paths). */
static int check_key(const ht_ensemble *e, const ht_ens_param *q, const char *file, const char *section,
                     ht_error *err)
{
    ht_error first;
    first.msg[0] = 0;
    const char *sec = section[0] ? section : q->key;
    for (int i = 0; i < q->n; ++i) {
        char *a = assignment(q->key, q->text[i]);
        char **sets;
        int n;
        if (!a) return ht_fail(err, file, q->line, sec, "out of memory");
        if (sets_with(e, &a, 1, &sets, &n)) {
            free(a);
            return ht_fail(err, file, q->line, sec, "out of memory");
        }
        ht_case c;
        ht_error le;
        int rc = load_with(e, sets, n, &c, &le);
        ht_ensemble_sets_free(sets, n);
        if (!rc) {
            ht_case_free(&c);
            return 0;
        }
        if (!first.msg[0]) memcpy(&first, &le, sizeof first);
        if (strstr(le.msg, "unknown key")) break; /* the key, not the value: no use trying others */
    }
    char kp[512];
    ht_join(kp, sizeof kp, section, q->key);
    if (strstr(first.msg, "unknown key"))
        return ht_fail(err, file, q->line, kp, "unknown key path: %s", first.msg);
    return ht_fail(err, file, q->line, kp, "no value of this parameter can be set on the case (%s=%s: %s)", q->key,
                   q->text[0], first.msg);
}

/* e->path and e->sets; params for n_params parameters */
static int init_base(ht_ensemble *e, const char *path, const char *const *sets, int n_sets, size_t n_params)
{
    if (!(e->path = dup_s(path)) || !(e->params = calloc(n_params ? n_params : 1, sizeof *e->params)) ||
        !(e->sets = calloc((size_t)(n_sets > 0 ? n_sets : 1), sizeof *e->sets)))
        return -1;
    for (int i = 0; i < n_sets; ++i) {
        if (!(e->sets[i] = dup_s(sets[i]))) return -1;
        e->n_sets = i + 1;
    }
    return 0;
}

/* A parameter's key path: that of a case value, not of the ensemble itself */
static int bad_key(const char *key)
{
    return !key[0] || strchr(key, '=') || !strncmp(key, "ensemble", 8) || strstr(key, "..") || key[0] == '.' ||
           key[strlen(key) - 1] == '.';
}

/* The last checks once the parameters are read: the base case (the file with the command's
 * sets) must load, then every key path. */
static int check_params(ht_ensemble *e, const char *file, const char *section, ht_error *err)
{
    ht_case c;
    int rc = ht_case_load(e->path, (const char *const *)e->sets, e->n_sets, &c, err);
    if (rc) return rc;
    ht_case_free(&c);
    for (int p = 0; p < e->n_params; ++p)
        if ((rc = check_key(e, &e->params[p], file, section, err))) return rc;
    return 0;
}

int ht_ensemble_parse(const char *path, const yt_node *ens, const char *section, const char *const *sets,
                      int n_sets, ht_ensemble *e, ht_error *err)
{
    int rc = 0;
    char kp_combine[256], kp_params[256];
    memset(e, 0, sizeof *e);
    ht_join(kp_combine, sizeof kp_combine, section, "combine");
    ht_join(kp_params, sizeof kp_params, section, "parameters");
    const yt_node *cb = yt_get(ens, "combine");
    if (cb) {
        if (cb->kind == YT_SCALAR && !strcmp(cb->text, "product")) e->combine = HT_ENS_PRODUCT;
        else if (cb->kind == YT_SCALAR && !strcmp(cb->text, "zip")) e->combine = HT_ENS_ZIP;
        else {
            rc = ht_fail_at(err, cb, kp_combine, "expected product or zip, found %s",
                            cb->kind == YT_SCALAR ? cb->text : yt_kind_name(cb));
            goto fail;
        }
    }
    const yt_node *pm = yt_get(ens, "parameters");
    if ((rc = ht_expect_map(pm, kp_params, "the varied parameters (key path: values)", err))) goto fail;
    if (pm->n == 0) {
        rc = ht_fail_at(err, pm, kp_params, "no parameters: give at least one key path with its values");
        goto fail;
    }
    if (init_base(e, path, sets, n_sets, pm->n)) {
        rc = ht_fail_at(err, pm, kp_params, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < pm->n; ++i) {
        ht_ens_param *q = &e->params[e->n_params++];
        const yt_node *v = pm->items[i];
        char kp[512];
        ht_join(kp, sizeof kp, kp_params, pm->keys[i]);
        q->line = pm->key_lines[i];
        if (!(q->key = dup_s(pm->keys[i]))) {
            rc = ht_fail(err, pm->file, q->line, kp, "out of memory");
            goto fail;
        }
        if (bad_key(q->key)) {
            rc = ht_fail(err, pm->file, q->line, kp,
                         "expected the key path of a case value (e.g. outlets.d1.R1 or blood.viscosity)");
            goto fail;
        }
        if (v->kind == YT_SEQ) rc = parse_list(v, kp, q, err);
        else if (v->kind == YT_MAP) rc = parse_range(v, kp, q, err);
        else
            rc = ht_fail_at(err, v, kp, "expected a list of values [a, b, ...] or a range {from: a, to: b, count: n}, "
                                        "found %s", yt_is_null(v) ? "nothing" : "one value");
        if (rc) goto fail;
    }
    /* member count */
    int line = yt_key_line(ens, "parameters");
    if (e->combine == HT_ENS_ZIP) {
        for (int p = 1; p < e->n_params; ++p)
            if (e->params[p].n != e->params[0].n) {
                char kp[512];
                ht_join(kp, sizeof kp, kp_params, e->params[p].key);
                rc = ht_fail(err, pm->file, e->params[p].line, kp,
                             "combine: zip needs the same number of values for every parameter: %d here, %d for '%s'",
                             e->params[p].n, e->params[0].n, e->params[0].key);
                goto fail;
            }
        e->n_members = e->params[0].n;
    } else {
        long m = 1;
        for (int p = 0; p < e->n_params; ++p) {
            m *= e->params[p].n; /* both factors <= 1e5 before the check: no overflow */
            if (m > HT_ENS_MAX_MEMBERS) {
                rc = ht_fail(err, pm->file, line, kp_params,
                             "the product of the parameters' values has more than %ld members", HT_ENS_MAX_MEMBERS);
                goto fail;
            }
        }
        e->n_members = m;
    }
    if ((rc = check_params(e, pm->file, kp_params, err))) goto fail;
    return 0;
fail:
    ht_ensemble_free(e);
    return rc ? rc : HT_INPUT_ERROR;
}

int ht_ensemble_load(const char *path, const char *const *sets, int n_sets, ht_ensemble *e, ht_error *err)
{
    static const char *const keys[] = {"combine", "parameters", "description", NULL};
    yt_doc d;
    char msg[HT_ERR_MAX];
    int rc = 0;
    memset(e, 0, sizeof *e);
    err->msg[0] = 0;
    /* anything wrong with the file itself is ht_case_load's to report, in its words */
    if (yt_load(path, &d, msg, sizeof msg)) return 0;
    const yt_node *root = d.root;
    const yt_node *net = yt_get(root, "network");
    if (!root || root->kind != YT_MAP || (net && net->kind == YT_SEQ) || !yt_get(root, "ensemble")) {
        yt_free(&d);
        return 0;
    }
    /* --set ensemble.combine=zip and the like change the ensemble itself */
    for (int i = 0; i < n_sets; ++i)
        if (!strncmp(sets[i], "ensemble.", 9) && yt_apply_set(&d, sets[i], i + 1, err->msg, sizeof err->msg)) {
            rc = HT_INPUT_ERROR;
            goto done;
        }
    const yt_node *ens = yt_get(d.root, "ensemble");
    if ((rc = ht_expect_map(ens, "ensemble", "the ensemble section (combine:, parameters:)", err)) ||
        (rc = ht_check_keys(ens, "ensemble", keys, err)))
        goto done;
    rc = ht_ensemble_parse(path, ens, "ensemble", sets, n_sets, e, err);
done:
    yt_free(&d);
    return rc;
}

/* ---------------------------------------------------------------- rows (a CSV file) */

int ht_csv_next(const char **p, char *out, size_t len)
{
    const char *s = *p;
    size_t o = 0;
    while (*s == ' ' || *s == '\t') ++s;
    if (*s == '"') {
        ++s;
        for (;;) {
            if (!*s || *s == '\n' || *s == '\r') return -1;
            if (*s == '"') {
                if (s[1] != '"') break;
                ++s;
            }
            if (o + 1 < len) out[o++] = *s;
            ++s;
        }
        ++s;
        while (*s == ' ' || *s == '\t') ++s;
    } else {
        while (*s && *s != ',' && *s != '\n' && *s != '\r') {
            if (o + 1 < len) out[o++] = *s;
            ++s;
        }
        while (o && (out[o - 1] == ' ' || out[o - 1] == '\t')) --o;
    }
    out[o] = 0;
    if (*s == ',') ++s;
    else if (*s && *s != '\n' && *s != '\r') return -1;
    *p = s;
    return 0;
}

/* the fields of one line (NUL-terminated, no newline): up to max, count in *n */
static int csv_line(const char *line, char (*f)[256], int max, int *n)
{
    const char *p = line;
    *n = 0;
    for (;;) {
        if (*n == max) return -2;
        if (ht_csv_next(&p, f[*n], sizeof f[*n])) return -1;
        ++*n;
        if (!*p || *p == '\n' || *p == '\r') return 0;
    }
}

#define HT_ROWS_MAX_COLS 64

int ht_ensemble_rows(const char *path, const char *csv_path, const char *const *sets, int n_sets, ht_ensemble *e,
                     ht_error *err)
{
    int rc = 0, line = 0, nf = 0;
    size_t cap = 0;
    char *buf = NULL;
    char(*f)[256] = calloc(HT_ROWS_MAX_COLS, sizeof *f);
    unsigned *common = calloc(HT_ROWS_MAX_COLS, sizeof *common);
    long rows_cap = 0;
    memset(e, 0, sizeof *e);
    e->combine = HT_ENS_ROWS;
    FILE *in = fopen(csv_path, "r");
    if (!f || !common) {
        rc = ht_fail(err, csv_path, 1, "rows", "out of memory");
        goto fail;
    }
    if (!in) {
        rc = ht_fail(err, csv_path, 0, "rows", "cannot read the file: %s", strerror(errno));
        goto fail;
    }
    while (getline(&buf, &cap, in) > 0) {
        ++line;
        const char *s = buf;
        while (*s == ' ' || *s == '\t') ++s;
        if (!*s || *s == '\n' || *s == '\r' || *s == '#') continue; /* blank lines and comments */
        int got = 0, lr = csv_line(s, f, HT_ROWS_MAX_COLS, &got);
        if (lr == -2) {
            rc = ht_fail(err, csv_path, line, "rows", "more than %d columns", HT_ROWS_MAX_COLS);
            goto fail;
        }
        if (lr) {
            rc = ht_fail(err, csv_path, line, "rows", "a quoted field is not closed");
            goto fail;
        }
        if (!e->params) {
            /* the header: one key path per column */
            if (init_base(e, path, sets, n_sets, (size_t)got)) {
                rc = ht_fail(err, csv_path, line, "rows", "out of memory");
                goto fail;
            }
            for (int c = 0; c < got; ++c) {
                ht_ens_param *q = &e->params[e->n_params++];
                q->line = line;
                if (!(q->key = dup_s(f[c]))) {
                    rc = ht_fail(err, csv_path, line, "rows", "out of memory");
                    goto fail;
                }
                if (bad_key(q->key)) {
                    rc = ht_fail(err, csv_path, line, q->key[0] ? q->key : "rows",
                                 "column %d: expected the key path of a case value (e.g. outlets.d1.R1)", c + 1);
                    goto fail;
                }
                for (int b = 0; b < c; ++b)
                    if (!strcmp(e->params[b].key, q->key)) {
                        rc = ht_fail(err, csv_path, line, q->key, "the column appears twice");
                        goto fail;
                    }
                common[c] = ~0u;
            }
            nf = got;
            continue;
        }
        if (got != nf) {
            rc = ht_fail(err, csv_path, line, "rows", "%d values for %d columns (the header's)", got, nf);
            goto fail;
        }
        if (e->n_members == HT_ENS_MAX_MEMBERS) {
            rc = ht_fail(err, csv_path, line, "rows", "more than %ld members", HT_ENS_MAX_MEMBERS);
            goto fail;
        }
        if (e->n_members == rows_cap) {
            rows_cap = rows_cap ? 2 * rows_cap : 64;
            for (int c = 0; c < nf; ++c) {
                ht_ens_param *q = &e->params[c];
                char **t = realloc(q->text, sizeof *t * (size_t)rows_cap);
                if (t) q->text = t;
                double *v = realloc(q->si, sizeof *v * (size_t)rows_cap);
                if (v) q->si = v;
                if (!t || !v) {
                    rc = ht_fail(err, csv_path, line, "rows", "out of memory");
                    goto fail;
                }
            }
        }
        for (int c = 0; c < nf; ++c) {
            ht_ens_param *q = &e->params[c];
            double si;
            unsigned mask;
            if (parse_text(f[c], &si, &mask)) {
                rc = ht_fail(err, csv_path, line, q->key,
                             "expected a number, optionally with a unit (e.g. 6e7 or 3 mPa s), found \"%.60s\"", f[c]);
                goto fail;
            }
            common[c] &= mask;
            if (!common[c]) {
                rc = ht_fail(err, csv_path, line, q->key, "\"%.60s\" has a different dimension than the values above it",
                             f[c]);
                goto fail;
            }
            if (add_value(q, f[c], si)) {
                rc = ht_fail(err, csv_path, line, "rows", "out of memory");
                goto fail;
            }
        }
        e->n_members++;
    }
    if (!e->params || e->n_params == 0) {
        rc = ht_fail(err, csv_path, line, "rows", "no header: the first line names the key paths, one per column");
        goto fail;
    }
    if (e->n_members == 0) {
        rc = ht_fail(err, csv_path, line, "rows", "no rows: one member per line after the header");
        goto fail;
    }
    if ((rc = check_params(e, csv_path, "", err))) goto fail;
    goto done;
fail:
    ht_ensemble_free(e);
    if (!rc) rc = HT_INPUT_ERROR;
done:
    if (in) fclose(in);
    free(buf);
    free(f);
    free(common);
    return rc;
}

/* ---------------------------------------------------------------- check */

static const char *combine_name(const ht_ensemble *e)
{
    return e->combine == HT_ENS_ZIP ? "zip" : e->combine == HT_ENS_ROWS ? "rows" : "product";
}

int ht_ensemble_check(const ht_ensemble *e)
{
    ht_case c;
    ht_error err;
    if (ht_case_load(e->path, (const char *const *)e->sets, e->n_sets, &c, &err)) {
        fprintf(stderr, "hemotree: %s\n", err.msg);
        return 2;
    }
    int rc = ht_check(&c);
    ht_case_free(&c);
    if (rc) return rc;
    if (e->combine == HT_ENS_ZIP) {
        printf("ensemble  %ld members (zip of %d parameter%s with %d values each)", e->n_members, e->n_params,
               e->n_params > 1 ? "s" : "", e->params[0].n);
    } else {
        printf("ensemble  %ld members (product of %d parameter%s:", e->n_members, e->n_params,
               e->n_params > 1 ? "s" : "");
        for (int p = 0; p < e->n_params; ++p) printf("%s%d", p ? " x " : " ", e->params[p].n);
        printf(" values)");
    }
    printf("; run writes OUT_m<k>.h5 per member and OUT_summary.csv, OUT_summary.h5\n");
    int *w = calloc((size_t)e->n_params, sizeof *w);
    if (!w) {
        fprintf(stderr, "hemotree: out of memory\n");
        return 2;
    }
    for (int p = 0; p < e->n_params; ++p) {
        w[p] = (int)strlen(e->params[p].key);
        for (int i = 0; i < e->params[p].n; ++i) {
            int l = (int)strlen(e->params[p].text[i]);
            w[p] = l > w[p] ? l : w[p];
        }
    }
    printf("%8s", "member");
    for (int p = 0; p < e->n_params; ++p) printf("  %-*s", w[p], e->params[p].key);
    printf("  %s\n", "input");
    long bad = 0;
    for (long k = 0; k < e->n_members; ++k) {
        printf("%8ld", k);
        for (int p = 0; p < e->n_params; ++p) printf("  %-*s", w[p], e->params[p].text[ht_ensemble_value_index(e, k, p)]);
        /* each member is loaded, so check finds the bad values a run would fail on */
        if (ht_ensemble_load_member(e, k, &c, &err)) {
            printf("  bad: %s\n", err.msg);
            ++bad;
        } else {
            printf("  ok\n");
            ht_case_free(&c);
        }
    }
    free(w);
    if (bad) {
        fprintf(stderr, "hemotree: %ld of %ld ensemble members are bad input (see the table)\n", bad, e->n_members);
        return 2;
    }
    return 0;
}

/* ---------------------------------------------------------------- run */

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* One launch's members, loaded in the child. */
typedef struct {
    ht_case c;
    ht_network nw;
    int loaded;             /* case and network built */
} launch_member;

int ht_ensemble_run_chunk(const ht_ensemble *e, const long *ks, long count, const ht_run_opts *o,
                          const char *const *out, ht_member_result *res)
{
    int rc = -1;
    launch_member *lm = calloc((size_t)count, sizeof *lm);
    const ht_case **cs = calloc((size_t)count, sizeof *cs);
    const ht_network **nws = calloc((size_t)count, sizeof *nws);
    const char **paths = calloc((size_t)count, sizeof *paths);
    ht_member_result *rr = calloc((size_t)count, sizeof *rr);
    if (!lm || !cs || !nws || !paths || !rr) goto done;
    for (long i = 0; i < count; ++i) {
        ht_error err;
        memset(&res[i], 0, sizeof res[i]);
        res[i].code = 2;
        res[i].imbalance = res[i].periodicity = NAN;
        if (ht_ensemble_load_member(e, ks[i], &lm[i].c, &err)) {
            snprintf(res[i].msg, sizeof res[i].msg, "%s", err.msg);
            continue;
        }
        if (ht_network_build(&lm[i].c, &lm[i].nw, &err)) {
            snprintf(res[i].msg, sizeof res[i].msg, "%s", err.msg);
            ht_case_free(&lm[i].c);
            continue;
        }
        lm[i].loaded = 1;
    }
    long i = 0;
    while (i < count) {
        if (!lm[i].loaded) {
            ++i;
            continue;
        }
        /* the launch: i and the loaded members after it (consecutive members, so that
         * messages name them by member_base + m) that share its shape and schedule */
        int M = 0;
        for (long j = i; j < count; ++j) {
            if (!lm[j].loaded) continue;
            if (j > i && (ks[j] - ks[i] != j - i || !ht_network_same_shape(&lm[i].nw, &lm[j].nw, NULL) ||
                          !ht_schedule_equal(&lm[i].c, &lm[j].c, o)))
                break;
            cs[M] = &lm[j].c;
            nws[M] = &lm[j].nw;
            paths[M] = out[j];
            ++M;
        }
        if (!o->quiet)
            fprintf(stderr, "hemotree: launch: %d member%s from member %ld, %d cells each\n", M, M > 1 ? "s" : "",
                    ks[i], nws[0]->net.n_cells);
        ht_run_opts mo = *o;
        mo.progress = 0;
        mo.quiet = 1;
        mo.member_base = ks[i];
        char *ck = NULL;
        if (o->launch_ckpt) {
            /* the launch is named by its first member: a rerun of the same chunk forms the
             * same launches and finds their checkpoints (anything else is not used) */
            if (!(ck = ht_ckpt_path_for(paths[0]))) goto done;
            mo.restart = ck;
            mo.restart_optional = 1;
        }
        ht_run_members(cs, nws, M, paths, &mo, rr);
        if (ck) {
            /* the launch has ended (each member completed or failed): its results go back
             * to rank 0 now, and a rerun would not run it again */
            if (remove(ck) && errno != ENOENT)
                fprintf(stderr, "hemotree: cannot remove %s: %s\n", ck, strerror(errno));
            free(ck);
        }
        /* back to member order, skipping the bad inputs between them */
        long j = i;
        for (int m = 0; m < M; ++j) {
            if (!lm[j].loaded) continue;
            res[j] = rr[m++];
            ht_network_free(&lm[j].nw);
            ht_case_free(&lm[j].c);
            lm[j].loaded = 0;
        }
        i = j;
    }
    rc = 0;
done:
    free(lm);
    free(cs);
    free(nws);
    free(paths);
    free(rr);
    return rc;
}

/* In the child: members first .. first + count - 1 (outputs out[k]) through
 * ht_ensemble_run_chunk; each member's ht_member_result is written to r_file in order.
 * Never returns. */
static void launch_child(const ht_ensemble *e, long first, long count, const ht_run_opts *o, char **out, int threads,
                         FILE *r_file)
{
#ifdef _OPENMP
    if (threads > 0) omp_set_num_threads(threads);
#else
    (void)threads;
#endif
    ht_member_result *res = calloc((size_t)count, sizeof *res);
    long *ks = calloc((size_t)count, sizeof *ks);
    if (!res || !ks) _exit(1);
    for (long i = 0; i < count; ++i) ks[i] = first + i;
    if (ht_ensemble_run_chunk(e, ks, count, o, (const char *const *)out, res)) _exit(1);
    fflush(stdout);
    fflush(stderr);
    int ok = fwrite(res, sizeof *res, (size_t)count, r_file) == (size_t)count && fflush(r_file) == 0;
    /* _exit: the parent's stdio buffers, copied by fork, must not be flushed twice */
    _exit(ok ? 0 : 1);
}

void ht_ensemble_member_path(char *out, size_t len, const char *dir, const char *prefix, long k, long M)
{
    int digits = 1;
    for (long m = M - 1; m >= 10; m /= 10) ++digits;
    /* zero-padded by hand: digits <= 6, which -Wformat-truncation cannot see */
    char num[24], pad[8] = "000000";
    int nl = snprintf(num, sizeof num, "%ld", k);
    pad[digits > nl ? digits - nl : 0] = 0;
    snprintf(out, len, "%s%s%s%s.h5", dir, prefix, pad, num);
}

/* "OUT" of OUT.h5 (also .hdf5, .hdf); any other name is its own stem */
static char *out_stem(const char *path)
{
    char *s = dup_s(path);
    if (!s) return NULL;
    size_t n = strlen(s);
    static const char *const ext[] = {".h5", ".hdf5", ".hdf"};
    for (int i = 0; i < 3; ++i) {
        size_t l = strlen(ext[i]);
        if (n > l && !strcmp(s + n - l, ext[i])) {
            s[n - l] = 0;
            break;
        }
    }
    return s;
}

/* the shortest text that reads back as exactly x */
void ht_csv_num(FILE *f, double x)
{
    char t[40];
    for (int prec = 15; prec <= 17; ++prec) {
        snprintf(t, sizeof t, "%.*g", prec, x);
        if (strtod(t, NULL) == x) break;
    }
    fputs(t, f);
}

void ht_csv_text(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; ++s) {
        if (*s == '"') fputc('"', f);
        fputc(*s == '\n' ? ' ' : *s, f);
    }
    fputc('"', f);
}

/* Per-member metrics for the summary, read back from each completed member's own file
 * (so a sweep's rerun summarises members of an earlier run as well): the simulated time,
 * the last beat's /metrics/cycles (SV, EF, CO, LVEDP, stroke work, ...) and the last beat's
 * /metrics/watershed (front position, ECMO fraction and saturation delivered per branch).
 * Columns are the union over members in first-seen order; NaN where a member lacks one. */
typedef struct {
    int n, cap;
    char **names, **units;
    double **v;             /* [n][M] */
} metric_cols;

static void metric_cols_free(metric_cols *mc)
{
    for (int c = 0; c < mc->n; ++c) {
        free(mc->names[c]);
        free(mc->units[c]);
        free(mc->v[c]);
    }
    free(mc->names);
    free(mc->units);
    free(mc->v);
    memset(mc, 0, sizeof *mc);
}

static int metric_col(metric_cols *mc, const char *name, const char *units, long M)
{
    for (int c = 0; c < mc->n; ++c)
        if (!strcmp(mc->names[c], name)) return c;
    if (mc->n == mc->cap) {
        int cap = mc->cap ? 2 * mc->cap : 32;
        char **nn = realloc(mc->names, sizeof *nn * (size_t)cap);
        if (nn) mc->names = nn;
        char **uu = nn ? realloc(mc->units, sizeof *uu * (size_t)cap) : NULL;
        if (uu) mc->units = uu;
        double **vv = uu ? realloc(mc->v, sizeof *vv * (size_t)cap) : NULL;
        if (!vv) return -1;
        mc->v = vv;
        mc->cap = cap;
    }
    int c = mc->n;
    mc->names[c] = dup_s(name);
    mc->units[c] = dup_s(units);
    mc->v[c] = malloc(sizeof(double) * (size_t)(M > 0 ? M : 1));
    if (!mc->names[c] || !mc->units[c] || !mc->v[c]) {
        free(mc->names[c]);
        free(mc->units[c]);
        free(mc->v[c]);
        return -1;
    }
    for (long k = 0; k < M; ++k) mc->v[c][k] = NAN;
    mc->n++;
    return c;
}

static int collect_metrics(const ht_ensemble *e, const ht_ens_results *R, metric_cols *mc)
{
    static const char *const groups[] = {"/metrics/performance", "/metrics/cycles", "/metrics/watershed"};
    /* bookkeeping columns of the tables, not results */
    static const char *const skip[] = {"beat", "t_start", "edv_change", "esv_change", "front_vessel_id", "steps",
                                       "wall_seconds", "cell_updates_per_second", NULL};
    long M = e->n_members;
    memset(mc, 0, sizeof *mc);
    for (long k = 0; k < M; ++k) {
        if (R->r[k].code != 0 || !R->out[k] || !R->out[k][0]) continue;
        for (size_t g = 0; g < sizeof groups / sizeof *groups; ++g) {
            ht_table_row row;
            if (ht_output_read_row(R->out[k], groups[g], &row)) return -1;
            for (int j = 0; j < row.n; ++j) {
                int s = 0;
                while (skip[s] && strcmp(skip[s], row.names[j])) ++s;
                if (skip[s]) continue;
                int c = metric_col(mc, row.names[j], row.units[j], M);
                if (c < 0) {
                    ht_table_row_free(&row);
                    return -1;
                }
                mc->v[c][k] = row.v[j];
            }
            ht_table_row_free(&row);
        }
    }
    return 0;
}

static int write_csv(const char *path, const ht_ensemble *e, const ht_ens_results *R, const metric_cols *mc)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "member");
    for (int p = 0; p < e->n_params; ++p) {
        fputc(',', f);
        ht_csv_text(f, e->params[p].key);
    }
    fprintf(f, ",status,exit_code,output,volume_imbalance,periodicity_change,wall_seconds");
    for (int c = 0; c < mc->n; ++c) {
        fputc(',', f);
        ht_csv_text(f, mc->names[c]);
    }
    fprintf(f, ",message\n");
    for (long k = 0; k < e->n_members; ++k) {
        fprintf(f, "%ld", k);
        for (int p = 0; p < e->n_params; ++p) {
            fputc(',', f);
            ht_csv_num(f, e->params[p].si[ht_ensemble_value_index(e, k, p)]);
        }
        fprintf(f, ",%d,%d,", R->r[k].code != 0, R->r[k].code);
        ht_csv_text(f, R->out[k]);
        /* NaN (not written: a failed member, or fewer than two cycles) as an empty field */
        fputc(',', f);
        if (isfinite(R->r[k].imbalance)) ht_csv_num(f, R->r[k].imbalance);
        fputc(',', f);
        if (isfinite(R->r[k].periodicity)) ht_csv_num(f, R->r[k].periodicity);
        fprintf(f, ",%.3f", R->wall[k]);
        for (int c = 0; c < mc->n; ++c) {
            fputc(',', f);
            if (isfinite(mc->v[c][k])) ht_csv_num(f, mc->v[c][k]);
        }
        fputc(',', f);
        ht_csv_text(f, R->msg[k] ? R->msg[k] : "");
        fputc('\n', f);
    }
    int bad = ferror(f);
    return fclose(f) || bad ? -1 : 0;
}

/* The summary as a table file (output.h): one /members column per parameter and result. */
static int write_h5(const char *path, const ht_ensemble *e, const ht_ens_results *R, long n_failed,
                    const metric_cols *mc)
{
    long M = e->n_members;
    int nc = 8 + e->n_params + mc->n, c = 0, rc = -1;
    int *member = malloc(sizeof(int) * (size_t)M), *status = malloc(sizeof(int) * (size_t)M);
    int *code = malloc(sizeof(int) * (size_t)M);
    double *vals = malloc(sizeof(double) * (size_t)(M * (e->n_params + 3)));
    const char **outs = malloc(sizeof(char *) * (size_t)M), **msgs = malloc(sizeof(char *) * (size_t)M);
    char **names = calloc((size_t)nc, sizeof *names);
    ht_column *cols = calloc((size_t)nc, sizeof *cols);
    if (!member || !status || !code || !vals || !outs || !msgs || !names || !cols) goto done;
    for (long k = 0; k < M; ++k) {
        member[k] = (int)k;
        status[k] = R->r[k].code != 0;
        code[k] = R->r[k].code;
        outs[k] = R->out[k];
        msgs[k] = R->msg[k] ? R->msg[k] : "";
    }
    cols[c++] = (ht_column){"member", "1", 'i', member, NULL};
    for (int p = 0; p < e->n_params; ++p) {
        /* the key path names the column ('/' would make it a group path) */
        char *nm = dup_s(e->params[p].key);
        if (!nm) goto done;
        for (char *q = nm; *q; ++q)
            if (*q == '/') *q = '_';
        names[p] = nm;
        double *v = vals + (size_t)p * (size_t)M;
        for (long k = 0; k < M; ++k) v[k] = e->params[p].si[ht_ensemble_value_index(e, k, p)];
        cols[c++] = (ht_column){nm, "SI", 'd', v, e->params[p].key};
    }
    double *imb = vals + (size_t)e->n_params * (size_t)M, *per = imb + M, *wall = per + M;
    for (long k = 0; k < M; ++k) {
        imb[k] = R->r[k].imbalance;
        per[k] = R->r[k].periodicity;
        wall[k] = R->wall[k];
    }
    cols[c++] = (ht_column){"status", "1", 'i', status, NULL};
    cols[c++] = (ht_column){"exit_code", "1", 'i', code, NULL};
    cols[c++] = (ht_column){"output", "1", 's', outs, NULL};
    cols[c++] = (ht_column){"volume_imbalance", "m^3", 'd', imb, NULL};
    cols[c++] = (ht_column){"periodicity_change", "1", 'd', per, NULL};
    cols[c++] = (ht_column){"wall_seconds", "s", 'd', wall, NULL};
    for (int j = 0; j < mc->n; ++j) cols[c++] = (ht_column){mc->names[j], mc->units[j], 'd', mc->v[j], NULL};
    cols[c++] = (ht_column){"message", "1", 's', msgs, NULL};
    const ht_attr attrs[] = {
        {"format", "hemotree-ensemble 1", 0}, {"case", e->path, 0},
        {"combine", combine_name(e), 0},      {"members", NULL, (double)M},
        {"failed", NULL, (double)n_failed},   {"version", HT_VERSION, 0},
        {"git_hash", HT_GIT_HASH, 0},
    };
    char err[512];
    rc = ht_table_file_write(path, attrs, (int)(sizeof attrs / sizeof attrs[0]), "/members", cols, c,
                             (size_t)M, err, sizeof err);
    if (rc) fprintf(stderr, "hemotree: %s\n", err);
done:
    if (names)
        for (int p = 0; p < nc; ++p) free(names[p]);
    free(names);
    free(cols);
    free(member);
    free(status);
    free(code);
    free(vals);
    free(outs);
    free(msgs);
    return rc;
}

int ht_ensemble_write_summary(const ht_ensemble *e, const ht_ens_results *R, const char *csv, const char *h5)
{
    long n_failed = 0;
    int rc = 0;
    for (long k = 0; k < e->n_members; ++k) n_failed += R->r[k].code != 0;
    metric_cols mc;
    if (collect_metrics(e, R, &mc)) {
        metric_cols_free(&mc);
        fprintf(stderr, "hemotree: out of memory for the summary\n");
        return -1;
    }
    if (write_csv(csv, e, R, &mc)) {
        fprintf(stderr, "hemotree: cannot write %s: %s\n", csv, strerror(errno));
        rc = -1;
    }
    if (write_h5(h5, e, R, n_failed, &mc)) {
        fprintf(stderr, "hemotree: cannot write %s\n", h5);
        rc = -1;
    }
    metric_cols_free(&mc);
    return rc;
}

/* `hemotree run` on an ensemble: launches of up to `batch` members, one child process each,
 * one after another (a launch already fills the device or every core). */
int ht_ensemble_run(const ht_ensemble *e, const ht_run_opts *o, int jobs, int batch)
{
    const long M = e->n_members;
    int status = 2;
    char *stem = NULL, *csv = NULL, *h5 = NULL;
    ht_member_result *got = NULL;
    ht_ens_results R;
    memset(&R, 0, sizeof R);

    /* OUT defaults to <case name>.h5, as for a single run */
    if (o->out_path) {
        stem = out_stem(o->out_path);
    } else {
        ht_case c;
        ht_error err;
        if (ht_case_load(e->path, (const char *const *)e->sets, e->n_sets, &c, &err)) {
            fprintf(stderr, "hemotree: %s\n", err.msg);
            return 2;
        }
        stem = dup_s(c.name);
        ht_case_free(&c);
    }
    int digits = 1;
    for (long m = M - 1; m >= 10; m /= 10) ++digits;
    if (batch <= 0) batch = HT_ENS_BATCH;
    if (batch > M) batch = (int)M;
    size_t plen = stem ? strlen(stem) + 32 : 0;
    if (!stem || !(csv = malloc(plen)) || !(h5 = malloc(plen)) || !(R.r = calloc((size_t)M, sizeof *R.r)) ||
        !(R.msg = calloc((size_t)M, sizeof *R.msg)) || !(R.out = calloc((size_t)M, sizeof *R.out)) ||
        !(R.wall = calloc((size_t)M, sizeof *R.wall)) || !(got = calloc((size_t)batch, sizeof *got)))
        goto oom;
    snprintf(csv, plen, "%s_summary.csv", stem);
    snprintf(h5, plen, "%s_summary.h5", stem);
    for (long k = 0; k < M; ++k) {
        if (!(R.out[k] = malloc(plen))) goto oom;
        ht_ensemble_member_path(R.out[k], plen, stem, "_m", k, M);
        R.r[k].code = 1;
        R.r[k].imbalance = R.r[k].periodicity = NAN;
    }
    const char *dev = o->backend == HT_BACKEND_CUDA ? "cuda" : o->backend == HT_BACKEND_CPU ? "cpu" : "auto";
    if (!o->quiet)
        printf("hemotree: ensemble of %ld members (%s), up to %d per launch, backend %s\n", M, combine_name(e), batch,
               dev);

    long n_failed = 0, finished = 0;
    double w0 = wall_now();
    for (long first = 0; first < M; first += batch) {
        long count = M - first < batch ? M - first : batch;
        fflush(stdout);
        fflush(stderr);
        double t0 = wall_now();
        FILE *res = tmpfile();
        pid_t pid = res ? fork() : -1;
        if (pid == 0) launch_child(e, first, count, o, R.out + first, jobs, res);
        int ws = 0, have = 0;
        if (pid > 0) {
            while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
            }
            rewind(res);
            have = fread(got, sizeof *got, (size_t)count, res) == (size_t)count;
        }
        if (res) fclose(res);
        for (long i = 0; i < count; ++i) {
            long k = first + i;
            if (have) {
                R.r[k].code = got[i].code;
                R.r[k].imbalance = got[i].imbalance;
                R.r[k].periodicity = got[i].periodicity;
                if (got[i].code) R.msg[k] = dup_s(got[i].msg[0] ? got[i].msg : "failed");
            } else {
                char m[256];
                if (pid < 0) snprintf(m, sizeof m, "cannot start the launch: %s", strerror(errno));
                else if (WIFSIGNALED(ws)) snprintf(m, sizeof m, "launch terminated by signal %d", WTERMSIG(ws));
                else snprintf(m, sizeof m, "launch ended with exit status %d and no results", WEXITSTATUS(ws));
                R.r[k].code = 1;
                R.msg[k] = dup_s(m);
            }
            R.wall[k] = wall_now() - t0;
            if (R.r[k].code == 2) R.out[k][0] = 0; /* bad input: no output file was made */
            if (R.r[k].code) ++n_failed;
            ++finished;
            /* one line per finished member, on stderr so that stdout keeps the summary */
            fprintf(stderr, "hemotree: [%*ld/%ld] member %0*ld", digits, finished, M, digits, k);
            for (int p = 0; p < e->n_params; ++p)
                fprintf(stderr, " %s=%s", e->params[p].key, e->params[p].text[ht_ensemble_value_index(e, k, p)]);
            if (R.r[k].code)
                fprintf(stderr, ": FAILED (exit %d): %s\n", R.r[k].code, R.msg[k] ? R.msg[k] : "out of memory");
            else
                fprintf(stderr, ": ok, %.2f s (launch)\n", R.wall[k]);
        }
    }

    status = n_failed ? 1 : 0;
    if (ht_ensemble_write_summary(e, &R, csv, h5)) status = 1;
    if (!o->quiet) {
        printf("hemotree: ensemble: %ld members, %ld completed, %ld failed, %.3g s wall\n", M, M - n_failed, n_failed,
               wall_now() - w0);
        printf("output: %s ... %s, summary %s, %s\n", R.out[0], R.out[M - 1], csv, h5);
    }
    goto done;
oom:
    fprintf(stderr, "hemotree: out of memory\n");
    status = 1;
done:
    if (R.out)
        for (long k = 0; k < M; ++k) free(R.out[k]);
    if (R.msg)
        for (long k = 0; k < M; ++k) free(R.msg[k]);
    free(R.out);
    free(R.msg);
    free(R.r);
    free(R.wall);
    free(got);
    free(stem);
    free(csv);
    free(h5);
    return status;
}
