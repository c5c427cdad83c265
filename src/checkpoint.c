/* Checkpoint file framing: see checkpoint.h. */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAGIC "HTCKPT\r\n"
#define HEADER 96
#define HASH_LEN 48

uint64_t ht_fnv1a64(const void *data, size_t n, uint64_t h)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void ht_ckpt_put(ht_ckpt_buf *b, const void *data, size_t n)
{
    if (b->oom || n == 0) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

void ht_ckpt_buf_free(ht_ckpt_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

int ht_ckpt_get(ht_ckpt_reader *r, void *data, size_t n)
{
    if (r->short_read || n > r->n - r->off) {
        r->short_read = 1;
        memset(data, 0, n);
        return -1;
    }
    memcpy(data, r->p + r->off, n);
    r->off += n;
    return 0;
}

static char *swap_ext(const char *path, const char *const *from, int n_from, const char *to)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t keep = strlen(path);
    for (int i = 0; dot && dot != base && i < n_from; ++i)
        if (!strcmp(dot, from[i])) keep = (size_t)(dot - path);
    size_t lt = strlen(to);
    char *x = malloc(keep + lt + 1);
    if (!x) return NULL;
    memcpy(x, path, keep);
    memcpy(x + keep, to, lt + 1);
    return x;
}

char *ht_ckpt_path_for(const char *h5)
{
    static const char *const ext[] = {".h5", ".hdf5", ".hdf"};
    return swap_ext(h5, ext, 3, ".ckpt");
}

char *ht_ckpt_output_for(const char *ckpt)
{
    static const char *const ext[] = {".ckpt"};
    return swap_ext(ckpt, ext, 1, ".h5");
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; ++i) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; ++i) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}
static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

static void make_header(unsigned char *h, uint64_t shape, uint64_t input, const ht_ckpt_buf *payload)
{
    memset(h, 0, HEADER);
    memcpy(h, MAGIC, 8);
    put_u32(h + 8, HT_CKPT_VERSION);
    put_u32(h + 12, HEADER);
    strncpy((char *)h + 16, HT_GIT_HASH, HASH_LEN - 1);
    put_u64(h + 64, shape);
    put_u64(h + 72, input);
    put_u64(h + 80, (uint64_t)payload->n);
    uint64_t sum = ht_fnv1a64(payload->p, payload->n, ht_fnv1a64(h, 88, HT_FNV_OFFSET));
    put_u64(h + 88, sum);
}

int ht_ckpt_write(const char *path, uint64_t shape, uint64_t input, const ht_ckpt_buf *payload, char *err,
                  size_t errlen)
{
    if (payload->oom) {
        snprintf(err, errlen, "%s: out of memory for the checkpoint", path);
        return -1;
    }
    unsigned char h[HEADER];
    make_header(h, shape, input, payload);
    size_t n = strlen(path);
    char *tmp = malloc(n + 5);
    if (!tmp) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    int bad = fwrite(h, 1, HEADER, f) != HEADER || (payload->n && fwrite(payload->p, 1, payload->n, f) != payload->n);
    bad = bad || fflush(f) || fsync(fileno(f));
    int e = errno;
    if (fclose(f) && !bad) {
        e = errno;
        bad = 1;
    }
    if (!bad && rename(tmp, path)) {
        e = errno;
        bad = 1;
    }
    if (bad) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
        remove(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    /* the rename itself reaches the disk with the directory */
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (dir) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY);
        if (fd >= 0) {
            fsync(fd);
            close(fd);
        }
        free(dir);
    }
    return 0;
}

int ht_ckpt_read(const char *path, uint64_t shape, uint64_t input, unsigned char **payload, size_t *n, char *err,
                 size_t errlen)
{
    *payload = NULL;
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open the checkpoint: %s", path, strerror(errno));
        return -1;
    }
    unsigned char h[HEADER];
    size_t got = fread(h, 1, HEADER, f);
    if (got >= 8 && memcmp(h, MAGIC, 8)) {
        fclose(f);
        snprintf(err, errlen, "%s: not a hemotree checkpoint (bad magic)", path);
        return -1;
    }
    if (got < HEADER) {
        fclose(f);
        snprintf(err, errlen, "%s: checkpoint truncated (%zu bytes, shorter than its header)", path, got);
        return -1;
    }
    if (get_u32(h + 8) != HT_CKPT_VERSION || get_u32(h + 12) != HEADER) {
        fclose(f);
        snprintf(err, errlen, "%s: checkpoint format version %u, this build reads version %u", path,
                 (unsigned)get_u32(h + 8), HT_CKPT_VERSION);
        return -1;
    }
    uint64_t size = get_u64(h + 80);
    if (size > ((uint64_t)1 << 40)) {
        fclose(f);
        snprintf(err, errlen, "%s: checkpoint corrupted (payload size %llu)", path, (unsigned long long)size);
        return -1;
    }
    unsigned char *p = malloc(size ? (size_t)size : 1);
    if (!p) {
        fclose(f);
        snprintf(err, errlen, "%s: out of memory for the checkpoint", path);
        return -1;
    }
    got = fread(p, 1, (size_t)size, f);
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (got < size) {
        free(p);
        snprintf(err, errlen, "%s: checkpoint truncated (%zu of %llu payload bytes)", path, got,
                 (unsigned long long)size);
        return -1;
    }
    uint64_t sum = ht_fnv1a64(p, (size_t)size, ht_fnv1a64(h, 88, HT_FNV_OFFSET));
    if (sum != get_u64(h + 88) || extra) {
        free(p);
        snprintf(err, errlen, "%s: checkpoint corrupted (checksum mismatch)", path);
        return -1;
    }
    if (get_u64(h + 72) != input) {
        free(p);
        snprintf(err, errlen, "%s: checkpoint of another case (its resolved input differs from this run's)", path);
        return -1;
    }
    if (get_u64(h + 64) != shape) {
        free(p);
        snprintf(err, errlen, "%s: checkpoint of another network shape", path);
        return -1;
    }
    char hash[HASH_LEN + 1];
    memcpy(hash, h + 16, HASH_LEN);
    hash[HASH_LEN] = 0;
    if (strcmp(hash, HT_GIT_HASH))
        fprintf(stderr, "hemotree: warning: %s was written by build %s, this is %s: the continuation may not be "
                        "bitwise identical\n", path, hash, HT_GIT_HASH);
    *payload = p;
    *n = (size_t)size;
    return 0;
}
