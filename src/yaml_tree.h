/* A YAML document as a small tree of maps, sequences and scalars, each node remembering
 * the file and line it came from, so that the case loader can say where a bad value is.
 * libyaml does the parsing; this layer adds lookup, --set overrides and ownership. */
#ifndef HT_YAML_TREE_H
#define HT_YAML_TREE_H
#include <stddef.h>

typedef enum { YT_SCALAR = 0, YT_MAP, YT_SEQ } yt_kind;

typedef struct yt_node {
    yt_kind kind;
    const char *file;          /* the document's file name, or "--set"; not owned */
    int line;                  /* 1-based; for --set nodes, the option's position */
    char *text;                /* scalar: the value as written (never NULL) */
    int plain;                 /* scalar: written without quotes */
    size_t n, cap;             /* map: entries; sequence: items */
    char **keys;               /* map: keys[n] */
    int *key_lines;            /* map: line of each key */
    struct yt_node **items;    /* map: values[n]; sequence: items[n] */
} yt_node;

typedef struct {
    char *file;                /* the path as given */
    char *text;                /* the file's bytes, NUL-terminated (for /config) */
    size_t len;
    yt_node *root;
} yt_doc;

/* Reads and parses one YAML file. Errors read "FILE:LINE: ...". Returns 0 or -1. A file
 * holding no document gives root == NULL (not an error here). */
int yt_load(const char *path, yt_doc *doc, char *msg, size_t msglen);
void yt_free(yt_doc *doc);

/* The value under `key` of a map, or NULL (also when `map` is NULL or not a map). */
const yt_node *yt_get(const yt_node *map, const char *key);
/* Line of `key` in `map` (the value's line when the key is absent: 0 when map is NULL). */
int yt_key_line(const yt_node *map, const char *key);
int yt_is_null(const yt_node *n);
const char *yt_kind_name(const yt_node *n);

/* Applies one override "a.b.c=value" to the document. Path segments name map keys; in a
 * sequence a segment is an index (0-based) or the `name`/`label` of a map item; the
 * segment 0 on a map that has no key "0" stands for the map itself, and a one-item list
 * stands for its item (so `inlet.0.x` and `inlet.x` work whether `inlet` is one map or a
 * list of one). Missing map keys, intermediate ones
 * included, are created. A value starting with '[' or '{' is read as YAML flow, anything
 * else is one scalar. Nodes it makes report file "--set" and line `index` (1-based).
 * Returns 0, or -1 with "--set:INDEX: key 'a.b': ..." in msg. */
int yt_apply_set(yt_doc *doc, const char *assignment, int index, char *msg, size_t msglen);

#endif
