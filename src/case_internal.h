/* Shared by the two case readers (case_load.c: own format, openbf.c: openBF networks):
 * typed getters that report "FILE:LINE: key 'a.b': ...", the inlet table reader, the
 * growing text of /config, and the checks every network must pass. Not a public API. */
#ifndef HT_CASE_INTERNAL_H
#define HT_CASE_INTERNAL_H
#include "case.h"
#include "yaml_tree.h"

#define HT_INPUT_ERROR 2

/* growing text buffer; `oom` remembers a failed allocation so callers check once */
typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} ht_sbuf;
void ht_sbuf_add(ht_sbuf *b, const char *s, size_t n);
void ht_sbuf_printf(ht_sbuf *b, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Write "FILE:LINE: key 'PATH': MESSAGE" into err and return HT_INPUT_ERROR; the _at form
 * takes file and line from a node. */
int ht_fail(ht_error *err, const char *file, int line, const char *path, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 5, 6)))
#endif
    ;
int ht_fail_at(ht_error *err, const yt_node *at, const char *path, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* "parent.key" (or "key") */
void ht_join(char *out, size_t len, const char *parent, const char *key);

/* Errors on any key of `map` not in the NULL-terminated list `allowed`. */
int ht_check_keys(const yt_node *map, const char *path, const char *const *allowed, ht_error *err);
/* Errors unless `n` is a map; `what` describes it ("the blood section"). */
int ht_expect_map(const yt_node *n, const char *path, const char *what, ht_error *err);

typedef enum { HT_ANY = 0, HT_POSITIVE, HT_NONNEGATIVE } ht_sign;

/* A quantity (number with optional unit) from a scalar node, checked for its dimension
 * and sign. */
int ht_node_quantity(const yt_node *n, const char *path, const char *dim, ht_sign sign, double *out,
                     ht_error *err);
/* map[key] as a quantity; when absent, *out = def and *given = 0 (given may be NULL). */
int ht_get_quantity(const yt_node *map, const char *parent, const char *key, const char *dim, ht_sign sign,
                    double def, double *out, int *given, ht_error *err);
int ht_get_required(const yt_node *map, const char *parent, const char *key, const char *dim, ht_sign sign,
                    double *out, ht_error *err);
int ht_get_int(const yt_node *map, const char *parent, const char *key, int lo, int hi, int def, int *out,
               ht_error *err);
int ht_get_bool(const yt_node *map, const char *parent, const char *key, int def, int *out, ht_error *err);
/* A scalar as a name (non-empty, shorter than HT_NAME_MAX). */
int ht_node_name(const yt_node *n, const char *path, char *out, ht_error *err);

/* `rel` resolved against the directory of `base_file` (absolute paths unchanged). */
int ht_resolve_path(const char *base_file, const char *rel, char *out, size_t len);

/* Reads a two-column (t, value) table into arrays the case owns; adds the file to cfg.
 * `at`/`path` name the key that gave the file, for messages. */
int ht_read_table(const char *file, const yt_node *at, const char *path, ht_sbuf *cfg, double **t, double **v,
                  int *n, ht_error *err);

/* Index of node `name`, appended when new; -1 when out of memory. */
int ht_node_index(ht_case *c, const char *name);

/* Where an inlet or outlet was given, for messages about it. */
typedef struct {
    const char *file;
    int line;
    char path[256];
} ht_where;

/* Words the validation uses for the keys of each format ("vessels"/"from"/"to" or
 * "network"/"sn"/"tn"), so messages name keys the user wrote. */
typedef struct {
    const char *section, *from_key, *to_key, *inlet_key, *outlet_key;
} ht_key_words;

/* Network checks every case must pass: one tree (connected, no cycle), at least one
 * inlet, every free vessel end with an inlet or outlet, none at a junction node. */
int ht_case_check_network(const ht_case *c, const ht_key_words *w, const ht_where *inlet_at,
                          const ht_where *outlet_at, ht_error *err);

/* The defaults of case.h for everything the file does not set. */
void ht_case_defaults(ht_case *c);

/* openBF network (root has a `network:` list). `doc` is the loaded file. */
int ht_openbf_build(const yt_doc *doc, ht_case *c, ht_sbuf *cfg, ht_error *err);

#endif
