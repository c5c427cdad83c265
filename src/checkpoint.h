/* Checkpoint files of single runs (`hemotree run --checkpoint-every`, `--restart`; the
 * driver decides what goes in, this file only frames, checks and stores it).
 *
 * Layout of OUT.ckpt (little-endian header, 96 bytes, then the payload):
 *   0  magic "HTCKPT\r\n" (8 bytes)      8  u32 format version (HT_CKPT_VERSION)
 *   12 u32 header size (96)              16 git hash of the build, NUL-padded (48 bytes)
 *   64 u64 shape hash (network sizes and layouts: ht_ckpt_shape)
 *   72 u64 input hash (FNV-1a 64 of the resolved input text)
 *   80 u64 payload size in bytes         88 u64 FNV-1a 64 of bytes 0..87 and the payload
 * The payload is the driver's (driver.c, ckpt_save), in the machine's own byte order: a
 * checkpoint is read back by the same build on the same kind of machine.
 * Files are written atomically: OUT.ckpt.tmp, fflush + fsync, rename over OUT.ckpt, fsync
 * of the directory; a killed run leaves either the previous checkpoint or the new one. */
#ifndef HT_CHECKPOINT_H
#define HT_CHECKPOINT_H
#include <stddef.h>
#include <stdint.h>

#define HT_CKPT_VERSION 2u /* 2: launches of several members (driver.c) */
#define HT_FNV_OFFSET 0xcbf29ce484222325ull

uint64_t ht_fnv1a64(const void *data, size_t n, uint64_t h);

/* A growable payload; put never fails (oom is set and later puts do nothing). */
typedef struct {
    unsigned char *p;
    size_t n, cap;
    int oom;
} ht_ckpt_buf;
void ht_ckpt_put(ht_ckpt_buf *b, const void *data, size_t n);
void ht_ckpt_buf_free(ht_ckpt_buf *b);

/* Reading a payload back: get copies n bytes, or fails (returns -1, short set) at the end. */
typedef struct {
    const unsigned char *p;
    size_t n, off;
    int short_read;
} ht_ckpt_reader;
int ht_ckpt_get(ht_ckpt_reader *r, void *data, size_t n);

/* OUT.h5 / OUT.hdf5 / OUT.hdf -> OUT.ckpt, any other name gets ".ckpt" appended; and back
 * (OUT.ckpt -> OUT.h5, any other name gets ".h5" appended). malloc'd, NULL out of memory. */
char *ht_ckpt_path_for(const char *h5);
char *ht_ckpt_output_for(const char *ckpt);

/* Write path atomically. 0, or -1 with a message naming the file. */
int ht_ckpt_write(const char *path, uint64_t shape, uint64_t input, const ht_ckpt_buf *payload, char *err,
                  size_t errlen);
/* Read and verify path: magic, version, size, checksum, then shape and input against the
 * running case's. On success *payload (malloc'd) and *n; -1 with a message naming the file
 * (truncated, corrupted, another case, another network). A checkpoint of another build (git
 * hash) is accepted with a warning on stderr. */
int ht_ckpt_read(const char *path, uint64_t shape, uint64_t input, unsigned char **payload, size_t *n, char *err,
                 size_t errlen);

#endif
