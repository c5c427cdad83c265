/* The output writer (src/writer.h), in line and on its thread: jobs run in submission order
 * (per slot and across slots), all of them by a drain and by free; a failing job stops its
 * slot's later jobs, keeps its message and leaves the other slots going; submit waits while
 * the queue holds more than max_bytes. Argument memory is the writer's (ASan's leak check
 * in the sanitizer build sees any it loses). */
#include "testutil.h"
#include "writer.h"
#include <time.h>

#define NJOB 64

typedef struct {
    int id, fail, sleep_ms;
    int *log, *n_log; /* the jobs that ran, in order (written by the job only) */
} job_arg;

static int job(void *p, char *err, size_t len)
{
    job_arg *a = p;
    if (a->sleep_ms) {
        struct timespec ts = {0, (long)a->sleep_ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    a->log[(*a->n_log)++] = a->id;
    if (a->fail) {
        snprintf(err, len, "job %d failed", a->id);
        return -1;
    }
    return 0;
}

static job_arg *arg(int id, int fail, int sleep_ms, int *log, int *n_log)
{
    job_arg *a = malloc(sizeof *a);
    if (!a) exit(1);
    *a = (job_arg){id, fail, sleep_ms, log, n_log};
    return a;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Three slots, jobs round-robin; slot 1's fifth job fails. */
static void order_and_failure(int threaded)
{
    char err[256];
    int log[NJOB], n_log = 0;
    ht_writer *w = ht_writer_new(3, threaded, 1 << 20, err, sizeof err);
    CHECK(w != NULL, "new: %s", err);
    if (!w) return;
    for (int k = 0; k < NJOB; ++k) {
        int slot = k % 3;
        ht_writer_submit(w, slot, job, arg(k, slot == 1 && k / 3 == 4, 0, log, &n_log), 64);
    }
    ht_writer_drain(w);
    /* what must have run: every job of slots 0 and 2, slot 1's up to its failing one */
    int want[NJOB], n_want = 0;
    for (int k = 0; k < NJOB; ++k)
        if (k % 3 != 1 || k / 3 <= 4) want[n_want++] = k;
    CHECK(n_log == n_want, "threaded %d: %d jobs ran, expected %d", threaded, n_log, n_want);
    int same = n_log == n_want;
    for (int k = 0; same && k < n_log; ++k) same = log[k] == want[k];
    CHECK(same, "threaded %d: jobs ran out of order", threaded);
    CHECK(ht_writer_error(w, 0) == NULL && ht_writer_error(w, 2) == NULL, "threaded %d: healthy slots",
          threaded);
    const char *e = ht_writer_error(w, 1);
    CHECK(e && !strcmp(e, "job 13 failed"), "threaded %d: slot 1's message '%s'", threaded, e ? e : "(none)");
    ht_writer_free(w);
}

/* free runs what is still queued. */
static void free_drains(void)
{
    char err[256];
    int log[8], n_log = 0;
    ht_writer *w = ht_writer_new(1, 1, 1 << 20, err, sizeof err);
    CHECK(w != NULL, "new: %s", err);
    if (!w) return;
    for (int k = 0; k < 8; ++k) ht_writer_submit(w, 0, job, arg(k, 0, 2, log, &n_log), 1);
    ht_writer_free(w);
    CHECK(n_log == 8, "free ran %d of 8 queued jobs", n_log);
}

/* Back-pressure: jobs of 100 bytes against a budget of 150 (one queued beside the running
 * one), each taking >= 10 ms: the sixth submit cannot return before the first three jobs
 * have finished, i.e. after >= 30 ms. Only a lower bound: a slow machine passes too. */
static void back_pressure(void)
{
    char err[256];
    int log[8], n_log = 0;
    ht_writer *w = ht_writer_new(1, 1, 150, err, sizeof err);
    CHECK(w != NULL, "new: %s", err);
    if (!w) return;
    double t0 = now();
    for (int k = 0; k < 6; ++k) ht_writer_submit(w, 0, job, arg(k, 0, 10, log, &n_log), 100);
    double dt = now() - t0;
    CHECK(dt >= 0.029, "six submits returned after %.4f s: the queue was not bounded", dt);
    ht_writer_drain(w);
    CHECK(n_log == 6, "%d of 6 jobs ran", n_log);
    /* a job larger than the budget still goes through an empty queue */
    ht_writer_submit(w, 0, job, arg(6, 0, 0, log, &n_log), 1000);
    ht_writer_drain(w);
    CHECK(n_log == 7 && log[6] == 6, "an over-budget job ran");
    ht_writer_free(w);
}

int main(void)
{
    order_and_failure(0);
    order_and_failure(1);
    free_drains();
    back_pressure();
    char err[256];
    CHECK(ht_writer_new(0, 1, 1, err, sizeof err) == NULL && strstr(err, "no slots"), "zero slots refused");
    ht_writer_free(NULL);
    return tu_finish("test_writer");
}
