#include "yaml_tree.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static const char SET_FILE[] = "--set";

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static char *dup_s(const char *s) { return dup_n(s, strlen(s)); }

static void set_msg(char *msg, size_t len, const char *fmt, ...)
{
    if (!msg || !len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
}

static yt_node *node_new(yt_kind kind, const char *file, int line)
{
    yt_node *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->kind = kind;
    n->file = file;
    n->line = line;
    return n;
}

static yt_node *scalar_new(const char *text, size_t len, int plain, const char *file, int line)
{
    yt_node *n = node_new(YT_SCALAR, file, line);
    if (!n) return NULL;
    n->text = dup_n(text, len);
    if (!n->text) {
        free(n);
        return NULL;
    }
    n->plain = plain;
    return n;
}

static void node_free(yt_node *n)
{
    if (!n) return;
    for (size_t i = 0; i < n->n; ++i) {
        if (n->keys) free(n->keys[i]);
        node_free(n->items[i]);
    }
    free(n->keys);
    free(n->key_lines);
    free(n->items);
    free(n->text);
    free(n);
}

static int grow(yt_node *n)
{
    if (n->n < n->cap) return 0;
    size_t cap = n->cap ? 2 * n->cap : 4;
    yt_node **items = realloc(n->items, cap * sizeof *items);
    if (!items) return -1;
    n->items = items;
    if (n->kind == YT_MAP) {
        char **keys = realloc(n->keys, cap * sizeof *keys);
        if (!keys) return -1;
        n->keys = keys;
        int *kl = realloc(n->key_lines, cap * sizeof *kl);
        if (!kl) return -1;
        n->key_lines = kl;
    }
    n->cap = cap;
    return 0;
}

/* Takes ownership of key and value (also on failure, so callers have one path). */
static int map_add(yt_node *map, char *key, int key_line, yt_node *value)
{
    if (grow(map)) {
        free(key);
        node_free(value);
        return -1;
    }
    map->keys[map->n] = key;
    map->key_lines[map->n] = key_line;
    map->items[map->n] = value;
    map->n++;
    return 0;
}

static int seq_add(yt_node *seq, yt_node *value)
{
    if (grow(seq)) {
        node_free(value);
        return -1;
    }
    seq->items[seq->n++] = value;
    return 0;
}

static long map_find(const yt_node *map, const char *key)
{
    if (!map || map->kind != YT_MAP) return -1;
    for (size_t i = 0; i < map->n; ++i)
        if (!strcmp(map->keys[i], key)) return (long)i;
    return -1;
}

static yt_node *node_copy(const yt_node *s)
{
    yt_node *d = node_new(s->kind, s->file, s->line);
    if (!d) return NULL;
    d->plain = s->plain;
    if (s->text && !(d->text = dup_s(s->text))) goto fail;
    for (size_t i = 0; i < s->n; ++i) {
        yt_node *c = node_copy(s->items[i]);
        if (!c) goto fail;
        if (s->kind == YT_MAP) {
            char *k = dup_s(s->keys[i]);
            if (!k) {
                node_free(c);
                goto fail;
            }
            if (map_add(d, k, s->key_lines[i], c)) goto fail;
        } else if (seq_add(d, c)) {
            goto fail;
        }
    }
    return d;
fail:
    node_free(d);
    return NULL;
}

static void node_relocate(yt_node *n, const char *file, int line)
{
    n->file = file;
    n->line = line;
    for (size_t i = 0; i < n->n; ++i) {
        if (n->kind == YT_MAP) n->key_lines[i] = line;
        node_relocate(n->items[i], file, line);
    }
}

const yt_node *yt_get(const yt_node *map, const char *key)
{
    long i = map_find(map, key);
    return i < 0 ? NULL : map->items[i];
}

int yt_key_line(const yt_node *map, const char *key)
{
    long i = map_find(map, key);
    if (i >= 0) return map->key_lines[i];
    return map ? map->line : 0;
}

int yt_is_null(const yt_node *n)
{
    if (!n) return 1;
    if (n->kind != YT_SCALAR || !n->plain) return 0;
    return !n->text[0] || !strcmp(n->text, "~") || !strcmp(n->text, "null") ||
           !strcmp(n->text, "Null") || !strcmp(n->text, "NULL");
}

const char *yt_kind_name(const yt_node *n)
{
    if (!n) return "nothing";
    switch (n->kind) {
    case YT_MAP: return "a map";
    case YT_SEQ: return "a list";
    default: return yt_is_null(n) ? "nothing" : "a value";
    }
}

/* ---- building a tree from libyaml events ---- */

typedef struct {
    yt_node *node;
    char *key;          /* map: key read, waiting for its value */
    int key_line;
    char *anchor;       /* anchor of this collection, recorded when it is complete */
} frame;

typedef struct {
    char *name;
    yt_node *copy;      /* private copy: aliases copy from it */
} anchor;

typedef struct {
    const char *file;
    frame *st;
    int depth, cap;
    anchor *an;
    int n_an, cap_an;
    yt_node *root;
    int have_root;
    char *msg;
    size_t msglen;
} builder;

/* The key path of the value being built, for messages: "a.b.3.c". */
static void build_path(const builder *b, char *out, size_t len)
{
    size_t o = 0;
    out[0] = 0;
    for (int i = 0; i < b->depth; ++i) {
        const frame *f = &b->st[i];
        char seg[128];
        if (f->node->kind == YT_MAP) {
            if (!f->key) break;
            snprintf(seg, sizeof seg, "%s", f->key);
        } else {
            snprintf(seg, sizeof seg, "%zu", f->node->n);
        }
        int w = snprintf(out + o, len - o, "%s%s", o ? "." : "", seg);
        if (w < 0 || (size_t)w >= len - o) break;
        o += (size_t)w;
    }
}

static int oom(builder *b, int line)
{
    set_msg(b->msg, b->msglen, "%s:%d: out of memory while reading YAML", b->file, line);
    return -1;
}

static int add_anchor(builder *b, const char *name, const yt_node *n, int line)
{
    if (b->n_an == b->cap_an) {
        int cap = b->cap_an ? 2 * b->cap_an : 8;
        anchor *a = realloc(b->an, (size_t)cap * sizeof *a);
        if (!a) return oom(b, line);
        b->an = a;
        b->cap_an = cap;
    }
    anchor *a = &b->an[b->n_an];
    a->name = dup_s(name);
    a->copy = node_copy(n);
    if (!a->name || !a->copy) {
        free(a->name);
        node_free(a->copy);
        return oom(b, line);
    }
    b->n_an++;
    return 0;
}

/* "<<: *base" (YAML merge key): keys of the merged map(s) that the map does not set. */
static int apply_merge(builder *b, yt_node *map)
{
    long i = map_find(map, "<<");
    if (i < 0) return 0;
    yt_node *m = map->items[i];
    size_t nsrc = m->kind == YT_SEQ ? m->n : 1;
    for (size_t s = 0; s < nsrc; ++s) {
        const yt_node *src = m->kind == YT_SEQ ? m->items[s] : m;
        if (src->kind != YT_MAP) {
            set_msg(b->msg, b->msglen, "%s:%d: key '<<': a merge key needs a map (or a list of maps), found %s",
                    b->file, map->key_lines[i], yt_kind_name(src));
            return -1;
        }
        for (size_t k = 0; k < src->n; ++k) {
            if (map_find(map, src->keys[k]) >= 0) continue;
            char *key = dup_s(src->keys[k]);
            yt_node *v = key ? node_copy(src->items[k]) : NULL;
            if (!v) {
                free(key);
                return oom(b, map->line);
            }
            if (map_add(map, key, src->key_lines[k], v)) return oom(b, map->line);
        }
    }
    /* remove the "<<" entry itself; map_add may have moved the arrays */
    i = map_find(map, "<<");
    free(map->keys[i]);
    node_free(map->items[i]);
    for (size_t k = (size_t)i + 1; k < map->n; ++k) {
        map->keys[k - 1] = map->keys[k];
        map->key_lines[k - 1] = map->key_lines[k];
        map->items[k - 1] = map->items[k];
    }
    map->n--;
    return 0;
}

/* Hands a finished node to its parent (or makes it the root). Owns n. */
static int attach(builder *b, yt_node *n)
{
    int line = n->line; /* n may be freed below */
    if (b->depth == 0) {
        if (b->have_root) {
            node_free(n);
            set_msg(b->msg, b->msglen, "%s:%d: more than one YAML document in the file", b->file, line);
            return -1;
        }
        b->root = n;
        b->have_root = 1;
        return 0;
    }
    frame *f = &b->st[b->depth - 1];
    if (f->node->kind == YT_SEQ) return seq_add(f->node, n) ? oom(b, line) : 0;
    if (!f->key) {
        if (n->kind != YT_SCALAR) {
            char path[512];
            build_path(b, path, sizeof path);
            set_msg(b->msg, b->msglen, "%s:%d: key '%s': a map or list cannot be used as a key", b->file,
                    n->line, path);
            node_free(n);
            return -1;
        }
        f->key = n->text;
        f->key_line = n->line;
        n->text = NULL;
        node_free(n);
        return 0;
    }
    long dup = map_find(f->node, f->key);
    if (dup >= 0) {
        char path[512];
        build_path(b, path, sizeof path);
        set_msg(b->msg, b->msglen, "%s:%d: key '%s': duplicate key (first given at line %d)", b->file,
                f->key_line, path, f->node->key_lines[dup]);
        node_free(n);
        return -1;
    }
    char *key = f->key;
    f->key = NULL;
    return map_add(f->node, key, f->key_line, n) ? oom(b, line) : 0;
}

static int push(builder *b, yt_node *n, const char *anchor_name)
{
    if (b->depth > 0) {
        frame *f = &b->st[b->depth - 1];
        if (f->node->kind == YT_MAP && !f->key) {
            char path[512];
            build_path(b, path, sizeof path);
            set_msg(b->msg, b->msglen, "%s:%d: key '%s': a map or list cannot be used as a key", b->file,
                    n->line, path);
            node_free(n);
            return -1;
        }
    }
    if (b->depth == b->cap) {
        int cap = b->cap ? 2 * b->cap : 16;
        frame *st = realloc(b->st, (size_t)cap * sizeof *st);
        if (!st) {
            int line = n->line;
            node_free(n);
            return oom(b, line);
        }
        b->st = st;
        b->cap = cap;
    }
    frame *f = &b->st[b->depth++];
    memset(f, 0, sizeof *f);
    f->node = n;
    if (anchor_name && !(f->anchor = dup_s(anchor_name))) return oom(b, n->line);
    return 0;
}

static int pop(builder *b)
{
    frame *f = &b->st[--b->depth];
    yt_node *n = f->node;
    char *an = f->anchor;
    free(f->key);
    int rc = n->kind == YT_MAP ? apply_merge(b, n) : 0;
    if (!rc && an) rc = add_anchor(b, an, n, n->line);
    free(an);
    if (rc) {
        node_free(n);
        return -1;
    }
    return attach(b, n);
}

static void builder_free(builder *b)
{
    while (b->depth > 0) {
        frame *f = &b->st[--b->depth];
        free(f->key);
        free(f->anchor);
        node_free(f->node);
    }
    free(b->st);
    for (int i = 0; i < b->n_an; ++i) {
        free(b->an[i].name);
        node_free(b->an[i].copy);
    }
    free(b->an);
}

static int handle_event(builder *b, const yaml_event_t *ev)
{
    int line = (int)ev->start_mark.line + 1;
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        yt_node *n = scalar_new((const char *)ev->data.scalar.value, ev->data.scalar.length,
                                ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE, b->file, line);
        if (!n) return oom(b, line);
        if (ev->data.scalar.anchor && add_anchor(b, (const char *)ev->data.scalar.anchor, n, line)) {
            node_free(n);
            return -1;
        }
        return attach(b, n);
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        int is_map = ev->type == YAML_MAPPING_START_EVENT;
        yt_node *n = node_new(is_map ? YT_MAP : YT_SEQ, b->file, line);
        if (!n) return oom(b, line);
        const yaml_char_t *an = is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
        return push(b, n, (const char *)an);
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return pop(b);
    case YAML_ALIAS_EVENT: {
        const char *name = (const char *)ev->data.alias.anchor;
        for (int i = b->n_an - 1; i >= 0; --i) {
            if (strcmp(b->an[i].name, name)) continue;
            yt_node *n = node_copy(b->an[i].copy);
            if (!n) return oom(b, line);
            return attach(b, n);
        }
        char path[512];
        build_path(b, path, sizeof path);
        set_msg(b->msg, b->msglen, "%s:%d: key '%s': alias '*%s' names no complete anchor before it", b->file,
                line, path, name);
        return -1;
    }
    default:
        return 0;
    }
}

/* Parses text into a tree; node file names point at `file`, which must outlive the tree. */
static int parse_text(const char *file, const char *text, size_t len, yt_node **root, char *msg, size_t msglen)
{
    yaml_parser_t p;
    builder b;
    memset(&b, 0, sizeof b);
    b.file = file;
    b.msg = msg;
    b.msglen = msglen;
    *root = NULL;
    if (!yaml_parser_initialize(&p)) {
        set_msg(msg, msglen, "%s: cannot initialise the YAML parser", file);
        return -1;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    int rc = 0, done = 0;
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            int line = (int)p.problem_mark.line + 1;
            if (p.context)
                set_msg(msg, msglen, "%s:%d: YAML syntax error: %s (%s at line %d)", file, line,
                        p.problem ? p.problem : "unknown problem", p.context, (int)p.context_mark.line + 1);
            else
                set_msg(msg, msglen, "%s:%d: YAML syntax error: %s", file, line,
                        p.problem ? p.problem : "unknown problem");
            rc = -1;
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        rc = handle_event(&b, &ev);
        yaml_event_delete(&ev);
        if (rc) break;
    }
    yaml_parser_delete(&p);
    builder_free(&b);
    if (rc) {
        node_free(b.root);
        return -1;
    }
    *root = b.root;
    return 0;
}

int yt_load(const char *path, yt_doc *doc, char *msg, size_t msglen)
{
    memset(doc, 0, sizeof *doc);
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_msg(msg, msglen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    if (!text) {
        fclose(f);
        set_msg(msg, msglen, "%s: out of memory", path);
        return -1;
    }
    for (;;) {
        if (len + 1 >= cap) {
            char *t = realloc(text, 2 * cap);
            if (!t) {
                free(text);
                fclose(f);
                set_msg(msg, msglen, "%s: out of memory", path);
                return -1;
            }
            text = t;
            cap *= 2;
        }
        size_t r = fread(text + len, 1, cap - 1 - len, f);
        len += r;
        if (r == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(text);
        set_msg(msg, msglen, "%s: read error", path);
        return -1;
    }
    text[len] = 0;
    doc->text = text;
    doc->len = len;
    doc->file = dup_s(path);
    if (!doc->file) {
        yt_free(doc);
        set_msg(msg, msglen, "%s: out of memory", path);
        return -1;
    }
    if (parse_text(doc->file, text, len, &doc->root, msg, msglen)) {
        yt_free(doc);
        return -1;
    }
    return 0;
}

void yt_free(yt_doc *doc)
{
    if (!doc) return;
    node_free(doc->root);
    free(doc->text);
    free(doc->file);
    memset(doc, 0, sizeof *doc);
}

/* ---- --set overrides ---- */

static int is_index(const char *s, size_t *out)
{
    if (!*s) return 0;
    size_t v = 0;
    for (const char *p = s; *p; ++p) {
        if (*p < '0' || *p > '9') return 0;
        v = v * 10 + (size_t)(*p - '0');
        if (v > 100000000) return 0;
    }
    *out = v;
    return 1;
}

static long seq_find_named(const yt_node *seq, const char *name)
{
    for (size_t i = 0; i < seq->n; ++i) {
        const yt_node *it = seq->items[i];
        const yt_node *nm = yt_get(it, "name");
        if (!nm) nm = yt_get(it, "label");
        if (nm && nm->kind == YT_SCALAR && !strcmp(nm->text, name)) return (long)i;
    }
    return -1;
}

static void trim(char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t')) {
        ++*s;
        --*len;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t')) --*len;
}

int yt_apply_set(yt_doc *doc, const char *assignment, int index, char *msg, size_t msglen)
{
    const char *eq = strchr(assignment, '=');
    char *path = NULL, *pathbuf = NULL;
    yt_node *value = NULL;
    int rc = -1;
    if (!eq) {
        set_msg(msg, msglen, "%s:%d: '%s': expected key.path=value", SET_FILE, index, assignment);
        return -1;
    }
    char *p = (char *)assignment;
    size_t plen = (size_t)(eq - assignment);
    trim(&p, &plen);
    if (!plen) {
        set_msg(msg, msglen, "%s:%d: '%s': expected key.path=value, the key path is empty", SET_FILE, index,
                assignment);
        return -1;
    }
    path = dup_n(p, plen);
    pathbuf = malloc(plen + 1);
    if (!path || !pathbuf) goto nomem;
    pathbuf[0] = 0;

    char *v = (char *)eq + 1;
    size_t vlen = strlen(v);
    trim(&v, &vlen);
    if (vlen && (v[0] == '[' || v[0] == '{')) {
        char *vt = dup_n(v, vlen);
        if (!vt) goto nomem;
        char sub[512];
        int prc = parse_text(SET_FILE, vt, vlen, &value, sub, sizeof sub);
        free(vt);
        if (prc || !value) {
            set_msg(msg, msglen, "%s:%d: key '%s': the value is not valid YAML flow: %s", SET_FILE, index, path,
                    prc ? sub : "empty");
            goto done;
        }
        node_relocate(value, SET_FILE, index);
    } else {
        value = scalar_new(v, vlen, 1, SET_FILE, index);
        if (!value) goto nomem;
    }

    if (!doc->root && !(doc->root = node_new(YT_MAP, SET_FILE, index))) goto nomem;
    yt_node *cur = doc->root;
    char *save = NULL;
    for (char *seg = strtok_r(path, ".", &save); seg; seg = strtok_r(NULL, ".", &save)) {
        int last = save == NULL || *save == 0;
        size_t idx;
        strcat(strcat(pathbuf, pathbuf[0] ? "." : ""), seg);
    again:
        if (cur->kind == YT_MAP) {
            long i = map_find(cur, seg);
            if (i < 0 && !last && !strcmp(seg, "0")) continue; /* one map standing for a list */
            if (last) {
                if (i >= 0) {
                    node_free(cur->items[i]);
                    cur->items[i] = value;
                    value = NULL;
                } else {
                    char *k = dup_s(seg);
                    if (!k) goto nomem;
                    yt_node *vv = value;
                    value = NULL;
                    if (map_add(cur, k, index, vv)) goto nomem;
                }
                rc = 0;
                goto done;
            }
            if (i < 0 || yt_is_null(cur->items[i])) {
                yt_node *m = node_new(YT_MAP, SET_FILE, index);
                if (!m) goto nomem;
                if (i >= 0) {
                    node_free(cur->items[i]);
                    cur->items[i] = m;
                } else {
                    char *k = dup_s(seg);
                    if (!k) {
                        node_free(m);
                        goto nomem;
                    }
                    if (map_add(cur, k, index, m)) goto nomem;
                }
                cur = m;
                continue;
            }
            cur = cur->items[i];
        } else if (cur->kind == YT_SEQ) {
            long i;
            if (is_index(seg, &idx)) {
                if (idx >= cur->n) {
                    set_msg(msg, msglen, "%s:%d: key '%s': index %zu is out of range (the list at %s:%d has %zu items)",
                            SET_FILE, index, pathbuf, idx, cur->file, cur->line, cur->n);
                    goto done;
                }
                i = (long)idx;
            } else if ((i = seq_find_named(cur, seg)) < 0) {
                if (cur->n == 1 && cur->items[0]->kind == YT_MAP) {
                    cur = cur->items[0]; /* a one-item list standing for its item */
                    goto again;
                }
                set_msg(msg, msglen, "%s:%d: key '%s': the list at %s:%d has no item with name or label '%s' "
                        "(use an index or an existing name)", SET_FILE, index, pathbuf, cur->file, cur->line, seg);
                goto done;
            }
            if (last) {
                node_free(cur->items[i]);
                cur->items[i] = value;
                value = NULL;
                rc = 0;
                goto done;
            }
            cur = cur->items[i];
        }
        if (cur->kind == YT_SCALAR) {
            set_msg(msg, msglen, "%s:%d: key '%s': this is a value (%s:%d), not a section that holds keys",
                    SET_FILE, index, pathbuf, cur->file, cur->line);
            goto done;
        }
    }
    set_msg(msg, msglen, "%s:%d: '%s': expected key.path=value", SET_FILE, index, assignment);
    goto done;
nomem:
    set_msg(msg, msglen, "%s:%d: out of memory", SET_FILE, index);
done:
    node_free(value);
    free(path);
    free(pathbuf);
    return rc;
}
