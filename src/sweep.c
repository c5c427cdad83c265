/* `hemotree sweep` (sweep.h): a sweep file names a base case and its members (parameters
 * with the ensemble syntax, or the rows of a CSV file); the members are spread over MPI
 * ranks and each member writes OUTDIR/m<k>.h5 as `hemotree run` of it would.
 *
 * Scheduling is dynamic: rank 0 hands out chunks of up to `batch` members (consecutive
 * among those not finished) to the ranks that ask, and they ask again when a chunk is done,
 * so ranks that get slow members simply take fewer chunks. A worker runs its chunk
 * in-process (ht_ensemble_run_chunk: launches of stacked members, all at once on its GPU,
 * one per thread on the CPU) and sends each member's outcome back with its next request.
 * Rank 0 only schedules when there are other ranks; alone it works through the chunks
 * itself. Each worker takes the CUDA device of its rank among the workers of its node.
 *
 * Restart: rank 0 appends one line per finished member to OUTDIR/progress.csv (fsync'ed).
 * The file's first line holds the member count and a hash of the resolved member list (the
 * base case, each member's overrides, --cycles); a rerun with the same definition skips
 * the members listed there and runs the rest, a rerun with another definition is refused.
 * Members of a chunk that was running when the job died run again: from their launch's
 * checkpoint (--checkpoint-every: OUTDIR/m<first>.ckpt, driver.c) when the rerun forms the
 * same launch, which it does because chunks are the unfinished members in order; else from
 * t = 0, their files overwritten.
 *
 * Fault isolation: a member that is bad input or fails numerically is recorded with its
 * message (ht_run_members stops it alone). A crash inside a launch takes its rank down, and
 * with it the MPI job (mpirun and srun end every rank): what finished before is in
 * progress.csv and the rerun goes on from there. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "sweep.h"
#include "case_internal.h"
#include "ensemble.h"
#include "yaml_tree.h"
#include <errno.h>
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "cuda/device_select.h"

#define TAG_DONE 1      /* worker -> 0: outcomes of the last chunk (none at first), and a request */
#define TAG_WORK 2      /* 0 -> worker: the member indices of a chunk; none: stop */
#define BATCH_CPU 8
#define PROGRESS_COLUMNS "member,exit_code,volume_imbalance,periodicity_change,wall_seconds,message\n"

/* one finished member, as a worker sends it to rank 0 (ranks of one job share a layout) */
typedef struct {
    long k;
    int code;
    double imbalance, periodicity, wall;
    char msg[1024];
} outcome;

/* `rel` relative to the directory of `file` (absolute paths as they are) */
static char *beside(const char *file, const char *rel)
{
    const char *slash = strrchr(file, '/');
    if (rel[0] == '/' || !slash) return strdup(rel);
    size_t dl = (size_t)(slash - file) + 1, n = dl + strlen(rel) + 1;
    char *p = malloc(n);
    if (p) {
        memcpy(p, file, dl);
        memcpy(p + dl, rel, n - dl);
    }
    return p;
}

/* ---------------------------------------------------------------- the sweep file */

static int load_sweep(const char *path, const char *const *sets, int n_sets, ht_ensemble *e, ht_error *err)
{
    static const char *const keys[] = {"case", "parameters", "combine", "rows", "description", NULL};
    yt_doc d;
    char msg[HT_ERR_MAX];
    char *case_path = NULL, *rows_path = NULL;
    int rc;
    memset(e, 0, sizeof *e);
    if (yt_load(path, &d, msg, sizeof msg)) {
        snprintf(err->msg, sizeof err->msg, "%s", msg);
        return HT_INPUT_ERROR;
    }
    const yt_node *root = d.root;
    if (!root || root->kind != YT_MAP) {
        rc = ht_fail(err, path, root ? root->line : 1, "sweep",
                     "expected a map: case: (the base case) and parameters: or rows:");
        goto done;
    }
    if ((rc = ht_check_keys(root, "", keys, err))) goto done;
    const yt_node *cn = yt_get(root, "case"), *pm = yt_get(root, "parameters"), *rw = yt_get(root, "rows");
    if (!cn || cn->kind != YT_SCALAR || yt_is_null(cn)) {
        rc = ht_fail(err, path, yt_key_line(root, "case"), "case",
                     "expected the base case file (a path relative to the sweep file)");
        goto done;
    }
    if (!pm == !rw) {
        rc = ht_fail(err, path, root->line, pm ? "rows" : "parameters",
                     "expected either parameters: (lists or ranges, with combine:) or rows: (a CSV file), %s",
                     pm ? "not both" : "found neither");
        goto done;
    }
    if (rw && yt_get(root, "combine")) {
        rc = ht_fail(err, path, yt_key_line(root, "combine"), "combine",
                     "combine applies to parameters:; rows: is one member per row");
        goto done;
    }
    if (!(case_path = beside(path, cn->text))) {
        rc = ht_fail(err, path, cn->line, "case", "out of memory");
        goto done;
    }
    {
        /* the base case is one run: an ensemble: section there would be a second member list */
        yt_doc cd;
        if (!yt_load(case_path, &cd, msg, sizeof msg)) {
            int has = cd.root && cd.root->kind == YT_MAP && yt_get(cd.root, "ensemble");
            yt_free(&cd);
            if (has) {
                rc = ht_fail_at(err, cn, "case",
                                "%s has an ensemble: section; a sweep takes its members from the sweep file "
                                "(remove the section, or run that case with hemotree run)",
                                case_path);
                goto done;
            }
        }
    }
    if (pm) {
        rc = ht_ensemble_parse(case_path, root, "", sets, n_sets, e, err);
    } else if (rw->kind != YT_SCALAR || yt_is_null(rw)) {
        rc = ht_fail_at(err, rw, "rows", "expected a CSV file (a path relative to the sweep file)");
    } else if (!(rows_path = beside(path, rw->text))) {
        rc = ht_fail_at(err, rw, "rows", "out of memory");
    } else {
        rc = ht_ensemble_rows(case_path, rows_path, sets, n_sets, e, err);
    }
done:
    free(case_path);
    free(rows_path);
    yt_free(&d);
    return rc;
}

/* FNV-1a 64 of the resolved member list: the base case (its absolute path), --cycles, and
 * every member's overrides in order. */
static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static int definition_hash(const ht_ensemble *e, int cycles, uint64_t *out)
{
    uint64_t h = 14695981039346656037ull;
    char *abs = realpath(e->path, NULL), num[32];
    const char *p = abs ? abs : e->path;
    h = fnv(h, p, strlen(p) + 1);
    free(abs);
    snprintf(num, sizeof num, "cycles %d", cycles);
    h = fnv(h, num, strlen(num) + 1);
    for (long k = 0; k < e->n_members; ++k) {
        char **sets;
        int n;
        if (ht_ensemble_member_sets(e, k, &sets, &n)) return -1;
        for (int i = 0; i < n; ++i) h = fnv(h, sets[i], strlen(sets[i]) + 1);
        h = fnv(h, "\n", 1);
        ht_ensemble_sets_free(sets, n);
    }
    *out = h;
    return 0;
}

/* ---------------------------------------------------------------- progress.csv */

typedef struct {
    const ht_ensemble *e;
    ht_ens_results R;       /* every member: outcome, message, output, wall */
    char *done;             /* [M] finished (this run or before) */
    long n_done, n_before, n_failed;
    FILE *f;                /* progress.csv, appending */
    int quiet;
} book;

static void header_line(char *buf, size_t len, long M, uint64_t h)
{
    snprintf(buf, len, "# hemotree sweep progress 1: members %ld, definition %016llx\n", M, (unsigned long long)h);
}

static int sync_file(FILE *f)
{
    return fflush(f) || fsync(fileno(f)) ? -1 : 0;
}

static void note(book *b, const outcome *o, int print);

/* one line of an earlier run: member, exit code, imbalance, periodicity, wall, message */
static void read_line(book *b, const char *line)
{
    char fld[5][64];
    const char *p = line;
    outcome o;
    memset(&o, 0, sizeof o);
    for (int i = 0; i < 5; ++i)
        if (ht_csv_next(&p, fld[i], sizeof fld[i])) return;
    if (ht_csv_next(&p, o.msg, sizeof o.msg)) return;
    char *end;
    o.k = strtol(fld[0], &end, 10);
    if (*end || o.k < 0 || o.k >= b->e->n_members || b->done[o.k]) return;
    o.code = (int)strtol(fld[1], &end, 10);
    if (*end || o.code < 0 || o.code > 2) return;
    o.imbalance = fld[2][0] ? strtod(fld[2], NULL) : NAN;
    o.periodicity = fld[3][0] ? strtod(fld[3], NULL) : NAN;
    o.wall = strtod(fld[4], NULL);
    note(b, &o, 0);
    b->n_before++;
}

/* Opens OUTDIR/progress.csv for appending: a new one with its header, or an earlier run's,
 * whose finished members are taken into the book (a line cut short by a kill is dropped).
 * 0, or 2 (said on stderr) when it belongs to another sweep or cannot be used. */
static int progress_open(book *b, const char *path, uint64_t hash)
{
    char head[128], *line = NULL;
    size_t cap = 0;
    long good = 0;
    int ln = 0;
    header_line(head, sizeof head, b->e->n_members, hash);
    FILE *f = fopen(path, "r");
    if (!f && errno != ENOENT) {
        fprintf(stderr, "hemotree: cannot read %s: %s\n", path, strerror(errno));
        return 2;
    }
    if (f) {
        ssize_t n;
        while ((n = getline(&line, &cap, f)) > 0) {
            if (line[n - 1] != '\n') break; /* cut short by a kill: that member runs again */
            if (++ln == 1 && strcmp(line, head)) {
                fprintf(stderr,
                        "hemotree: %s is the progress of another sweep (%.*s); this sweep has %ld members and "
                        "definition %016llx: its case, parameters, rows, --set or --cycles differ. Give another -o "
                        "directory, or remove %s to start again.\n",
                        path, (int)strcspn(line + (line[0] == '#' ? 2 : 0), "\n"), line + (line[0] == '#' ? 2 : 0),
                        b->e->n_members, (unsigned long long)hash, path);
                free(line);
                fclose(f);
                return 2;
            }
            if (ln > 2) read_line(b, line);
            good += (long)n;
        }
        free(line);
        fclose(f);
        if (ln >= 2 && truncate(path, good)) {
            fprintf(stderr, "hemotree: cannot write %s: %s\n", path, strerror(errno));
            return 2;
        }
    }
    if (!(b->f = fopen(path, ln >= 2 ? "a" : "w"))) {
        fprintf(stderr, "hemotree: cannot write %s: %s\n", path, strerror(errno));
        return 2;
    }
    if (ln < 2 && (fputs(head, b->f) < 0 || fputs(PROGRESS_COLUMNS, b->f) < 0 || sync_file(b->f))) {
        fprintf(stderr, "hemotree: cannot write %s: %s\n", path, strerror(errno));
        return 2;
    }
    return 0;
}

/* A finished member into the book (and, with `print`, progress.csv and stderr). */
static void note(book *b, const outcome *o, int print)
{
    const ht_ensemble *e = b->e;
    long k = o->k;
    if (b->done[k]) return;
    b->done[k] = 1;
    b->n_done++;
    b->R.r[k].code = o->code;
    b->R.r[k].imbalance = o->imbalance;
    b->R.r[k].periodicity = o->periodicity;
    b->R.wall[k] = o->wall;
    if (o->code) {
        b->R.msg[k] = strdup(o->msg[0] ? o->msg : "failed");
        b->n_failed++;
    }
    if (o->code == 2) b->R.out[k][0] = 0; /* bad input: no file was made */
    if (!print) return;
    FILE *f = b->f;
    fprintf(f, "%ld,%d,", k, o->code);
    if (isfinite(o->imbalance)) ht_csv_num(f, o->imbalance);
    fputc(',', f);
    if (isfinite(o->periodicity)) ht_csv_num(f, o->periodicity);
    fprintf(f, ",%.3f,", o->wall);
    ht_csv_text(f, o->code ? b->R.msg[k] ? b->R.msg[k] : "failed" : "");
    fputc('\n', f);
    if (sync_file(f)) fprintf(stderr, "hemotree: writing progress.csv: %s\n", strerror(errno));
    /* one line per finished member on stderr, as for ensembles */
    fprintf(stderr, "hemotree: [%ld/%ld] member %ld", b->n_done, e->n_members, k);
    for (int p = 0; p < e->n_params; ++p)
        fprintf(stderr, " %s=%s", e->params[p].key, e->params[p].text[ht_ensemble_value_index(e, k, p)]);
    if (o->code) fprintf(stderr, ": FAILED (exit %d): %s\n", o->code, b->R.msg[k] ? b->R.msg[k] : o->msg);
    else fprintf(stderr, ": ok, %.2f s (launch)\n", o->wall);
}

static void book_free(book *b, long M)
{
    for (long k = 0; k < M; ++k) {
        if (b->R.out) free(b->R.out[k]);
        if (b->R.msg) free(b->R.msg[k]);
    }
    free(b->R.out);
    free(b->R.msg);
    free(b->R.r);
    free(b->R.wall);
    free(b->done);
    if (b->f) fclose(b->f);
}

/* ---------------------------------------------------------------- running */

/* A chunk on this rank: members ks[0..n-1] to their files, outcomes to out[]. */
static void run_chunk(const ht_ensemble *e, const long *ks, long n, const ht_run_opts *o, char *const *paths,
                      outcome *out)
{
    const char **pp = calloc((size_t)n, sizeof *pp);
    ht_member_result *res = calloc((size_t)n, sizeof *res);
    double t0 = MPI_Wtime();
    int rc = -1;
    if (pp && res) {
        for (long i = 0; i < n; ++i) pp[i] = paths[ks[i]];
        rc = ht_ensemble_run_chunk(e, ks, n, o, pp, res);
    }
    double w = MPI_Wtime() - t0;
    for (long i = 0; i < n; ++i) {
        outcome *x = &out[i];
        memset(x, 0, sizeof *x);
        x->k = ks[i];
        if (rc) {
            x->code = 1;
            x->imbalance = x->periodicity = NAN;
            snprintf(x->msg, sizeof x->msg, "out of memory");
            continue;
        }
        x->code = res[i].code;
        x->imbalance = res[i].imbalance;
        x->periodicity = res[i].periodicity;
        /* the wall time of the member's launch; 0 for one that did not load */
        x->wall = x->code == 2 ? 0 : res[i].wall > 0 ? res[i].wall : w;
        snprintf(x->msg, sizeof x->msg, "%s", res[i].msg);
    }
    free(pp);
    free(res);
}

/* the next chunk: up to `batch` members not finished, in member order */
static long take(const char *done, long M, long *next, int batch, long *ks)
{
    long n = 0;
    while (*next < M && n < batch) {
        if (!done[*next]) ks[n++] = *next;
        ++*next;
    }
    return n;
}

/* Rank 0 with other ranks: answer each request with the next chunk until none is left,
 * then with an empty one (stop). */
static void serve(book *b, int size, int batch)
{
    long M = b->e->n_members, next = 0;
    long *ks = malloc(sizeof *ks * (size_t)batch);
    outcome dummy;
    int active = size - 1;
    while (active > 0) {
        MPI_Status st;
        int bytes = 0;
        MPI_Probe(MPI_ANY_SOURCE, TAG_DONE, MPI_COMM_WORLD, &st);
        MPI_Get_count(&st, MPI_BYTE, &bytes);
        outcome *got = bytes > 0 ? malloc((size_t)bytes) : &dummy;
        if (!got) MPI_Abort(MPI_COMM_WORLD, 1);
        MPI_Recv(got, bytes, MPI_BYTE, st.MPI_SOURCE, TAG_DONE, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        for (size_t i = 0; i < (size_t)bytes / sizeof *got; ++i) note(b, &got[i], 1);
        if (got != &dummy) free(got);
        long n = ks ? take(b->done, M, &next, batch, ks) : 0;
        MPI_Send(ks ? ks : &next, (int)n, MPI_LONG, st.MPI_SOURCE, TAG_WORK, MPI_COMM_WORLD);
        if (!n) --active;
    }
    free(ks);
}

/* A worker: ask rank 0 for chunks (reporting the last one) until it says stop. */
static void work(const ht_ensemble *e, const ht_run_opts *o, char *const *paths)
{
    outcome *res = NULL;
    long *ks = NULL;
    int n_res = 0;
    for (;;) {
        MPI_Send(res, n_res * (int)sizeof *res, MPI_BYTE, 0, TAG_DONE, MPI_COMM_WORLD);
        MPI_Status st;
        int n = 0;
        MPI_Probe(0, TAG_WORK, MPI_COMM_WORLD, &st);
        MPI_Get_count(&st, MPI_LONG, &n);
        long *k2 = realloc(ks, sizeof *ks * (size_t)(n > 0 ? n : 1));
        outcome *r2 = k2 ? realloc(res, sizeof *res * (size_t)(n > 0 ? n : 1)) : NULL;
        if (!k2 || !r2) MPI_Abort(MPI_COMM_WORLD, 1);
        ks = k2;
        res = r2;
        MPI_Recv(ks, n, MPI_LONG, 0, TAG_WORK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (n == 0) break;
        run_chunk(e, ks, n, o, paths, res);
        n_res = n;
    }
    free(ks);
    free(res);
}

static int mkdir_p(const char *dir)
{
    char *p = strdup(dir);
    if (!p) return -1;
    for (char *s = p + 1; *s; ++s) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0777) && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rc = mkdir(p, 0777) && errno != EEXIST ? -1 : 0;
    free(p);
    return rc;
}

/* OUTDIR: -o, or the sweep file's name without .yaml/.yml (with .out added when it has
 * neither) in the working directory */
static char *out_dir(const char *path, const char *given)
{
    if (given) return strdup(given);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    char *s = malloc(n + 5);
    if (!s) return NULL;
    memcpy(s, base, n + 1);
    if (n > 5 && !strcmp(s + n - 5, ".yaml")) s[n - 5] = 0;
    else if (n > 4 && !strcmp(s + n - 4, ".yml")) s[n - 4] = 0;
    else memcpy(s + n, ".out", 5);
    return s;
}

/* This rank's CUDA device (workers only): its rank among the workers of its node, modulo
 * the devices it sees. Sets *gpu when one is used; -1 when --backend cuda cannot be met. */
static int pick_device(MPI_Comm node, int backend, int quiet, int *gpu)
{
    *gpu = 0;
    if (backend == HT_BACKEND_CPU) return 0;
    int local = 0, rank = 0;
    MPI_Comm_rank(node, &local);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    /* test hook (tests/test_sweep.py): HEMOTREE_TEST_DEVICES=N says which of N devices this
     * rank would take, from the same node-local rank, and then runs on the CPU */
    const char *fake = getenv("HEMOTREE_TEST_DEVICES");
    if (fake && *fake) {
        int n = atoi(fake);
        fprintf(stderr, "hemotree: rank %d: CUDA device %d of %d (node rank %d; test: %d devices assumed, the CPU "
                "runs)\n", rank, ht_device_for(local, n), n, local, n);
        return 0;
    }
#ifdef HT_HAVE_CUDA
    int count = 0;
    char msg[256];
    int d = ht_cuda_select_device(local, &count, msg, sizeof msg);
    if (d < 0) {
        if (backend == HT_BACKEND_CUDA) {
            fprintf(stderr, "hemotree: rank %d: --backend cuda: %s\n", rank, msg);
            return -1;
        }
        return 0;
    }
    *gpu = 1;
    if (!quiet) fprintf(stderr, "hemotree: rank %d: CUDA device %d of %d (node rank %d)\n", rank, d, count, local);
    return 0;
#else
    (void)quiet;
    if (backend == HT_BACKEND_CUDA) {
        fprintf(stderr, "hemotree: --backend cuda: this build has no CUDA backend\n");
        return -1;
    }
    return 0;
#endif
}

int ht_sweep(const char *path, const char *const *sets, int n_sets, const ht_run_opts *opts, int jobs, int batch)
{
    int provided, rank, size, status = 2;
    /* OpenMP threads run the members, only the main thread calls MPI */
    MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
#ifdef _OPENMP
    if (jobs > 0) omp_set_num_threads(jobs);
#else
    (void)jobs;
#endif
    ht_run_opts o = *opts;
    o.launch_ckpt = 1; /* a launch continues from its checkpoint when a killed run left one */
    /* a batch job can end at any time: launches checkpoint every 10 min of wall time unless
     * told otherwise ("off": -1) */
    if (o.ckpt_every == 0) {
        o.ckpt_every = 600;
        o.ckpt_wall = 1;
    } else if (o.ckpt_every < 0) {
        o.ckpt_every = 0;
    }
    ht_ensemble e;
    ht_error err;
    book b;
    char **paths = NULL, *dir = NULL, *prog = NULL, *csv = NULL, *h5 = NULL;
    uint64_t hash = 0;
    memset(&b, 0, sizeof b);
    b.quiet = o.quiet;

    /* every rank reads the definition (the same files: the same members, or the same error) */
    int rc = load_sweep(path, sets, n_sets, &e, &err);
    if (rc) {
        if (rank == 0) fprintf(stderr, "hemotree: %s\n", err.msg);
        MPI_Finalize();
        return rc;
    }
    const long M = e.n_members;
    size_t plen = 0;
    int bad = !(dir = out_dir(path, o.out_path)) || definition_hash(&e, o.cycles, &hash);
    if (!bad) {
        plen = strlen(dir) + 40;
        bad = !(paths = calloc((size_t)M, sizeof *paths)) || !(prog = malloc(plen)) || !(csv = malloc(plen)) ||
              !(h5 = malloc(plen));
        for (long k = 0; !bad && k < M; ++k) {
            if (!(paths[k] = malloc(plen))) bad = 1;
            else ht_ensemble_member_path(paths[k], plen, dir, "/m", k, M);
        }
    }
    if (bad) {
        fprintf(stderr, "hemotree: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    snprintf(prog, plen, "%s/progress.csv", dir);
    snprintf(csv, plen, "%s/summary.csv", dir);
    snprintf(h5, plen, "%s/summary.h5", dir);

    /* workers (every rank but the scheduler, or the only rank) and their node-local ranks */
    int worker = size == 1 || rank > 0, flags[2] = {0, 0}, all[2];
    MPI_Comm wcomm = MPI_COMM_NULL, node = MPI_COMM_NULL;
    MPI_Comm_split(MPI_COMM_WORLD, worker ? 0 : MPI_UNDEFINED, rank, &wcomm);
    if (worker) {
        MPI_Comm_split_type(wcomm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
        if (pick_device(node, o.backend, o.quiet, &flags[0])) flags[1] = 1;
    }
    MPI_Allreduce(flags, all, 2, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (all[1]) goto finish; /* --backend cuda without a device: status 2 */
    if (batch <= 0) {
        batch = BATCH_CPU;
#ifdef _OPENMP
        if (omp_get_max_threads() > batch) batch = omp_get_max_threads();
#endif
        if (all[0]) batch = HT_ENS_BATCH;
    }

    /* rank 0: the output directory, the book and the progress of an earlier run */
    int go = 0;
    if (rank == 0) {
        b.e = &e;
        if (!(b.R.r = calloc((size_t)M, sizeof *b.R.r)) || !(b.R.msg = calloc((size_t)M, sizeof *b.R.msg)) ||
            !(b.R.out = calloc((size_t)M, sizeof *b.R.out)) || !(b.R.wall = calloc((size_t)M, sizeof *b.R.wall)) ||
            !(b.done = calloc((size_t)M, 1))) {
            fprintf(stderr, "hemotree: out of memory\n");
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        for (long k = 0; k < M; ++k) {
            b.R.r[k].code = 1;
            b.R.r[k].imbalance = b.R.r[k].periodicity = NAN;
            if (!(b.R.out[k] = strdup(paths[k]))) MPI_Abort(MPI_COMM_WORLD, 1);
        }
        if (mkdir_p(dir)) {
            fprintf(stderr, "hemotree: cannot make the output directory %s: %s\n", dir, strerror(errno));
            go = 2;
        } else {
            go = progress_open(&b, prog, hash);
        }
        if (!go && !o.quiet) {
            printf("hemotree: sweep of %ld members (%s) over %d rank%s%s, up to %d per chunk, output %s/\n", M,
                   e.combine == HT_ENS_ROWS ? "rows" : e.combine == HT_ENS_ZIP ? "zip" : "product", size,
                   size > 1 ? "s" : "", size > 1 ? " (rank 0 schedules)" : "", batch, dir);
            if (b.n_before)
                printf("hemotree: %ld members finished in an earlier run (%s): not run again\n", b.n_before, prog);
            fflush(stdout);
        }
    }
    MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (go) goto finish;

    double w0 = MPI_Wtime();
    o.quiet = 1; /* per-member lines come from rank 0; launches say nothing */
    if (size == 1) {
        long next = 0, n;
        long *ks = malloc(sizeof *ks * (size_t)batch);
        outcome *res = malloc(sizeof *res * (size_t)batch);
        if (!ks || !res) MPI_Abort(MPI_COMM_WORLD, 1);
        while ((n = take(b.done, M, &next, batch, ks)) > 0) {
            run_chunk(&e, ks, n, &o, paths, res);
            for (long i = 0; i < n; ++i) note(&b, &res[i], 1);
        }
        free(ks);
        free(res);
    } else if (rank == 0) {
        serve(&b, size, batch);
    } else {
        work(&e, &o, paths);
    }

    if (rank == 0) {
        status = b.n_failed ? 1 : 0;
        if (ht_ensemble_write_summary(&e, &b.R, csv, h5)) status = 1;
        if (!opts->quiet) {
            printf("hemotree: sweep: %ld members, %ld completed, %ld failed; %ld run now in %.3g s wall, %ld "
                   "before\n",
                   M, M - b.n_failed, b.n_failed, M - b.n_before, MPI_Wtime() - w0, b.n_before);
            printf("output: %s ... %s, summary %s, %s\n", paths[0], paths[M - 1], csv, h5);
        }
    }
finish:
    MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (node != MPI_COMM_NULL) MPI_Comm_free(&node);
    if (wcomm != MPI_COMM_NULL) MPI_Comm_free(&wcomm);
    if (rank == 0) book_free(&b, M);
    for (long k = 0; paths && k < M; ++k) free(paths[k]);
    free(paths);
    free(dir);
    free(prog);
    free(csv);
    free(h5);
    ht_ensemble_free(&e);
    MPI_Finalize();
    return status;
}
