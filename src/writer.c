#include "writer.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HT_WRITER_MSG 1024

typedef struct job {
    struct job *next;
    int slot;
    ht_write_fn fn;
    void *arg;
    size_t bytes;
} job;

struct ht_writer {
    int n_slots, threaded;
    size_t max_bytes;
    /* the queue and the slots' failures; all under mu */
    pthread_mutex_t mu;
    pthread_cond_t work;     /* the thread waits for a job or for stop */
    pthread_cond_t moved;    /* submitters and drainers wait for a job to finish */
    job *head, *tail;
    size_t queued_bytes;
    int busy;                /* the thread is running a job (taken off the queue) */
    int stop;
    pthread_t thread;
    int *failed;
    char (*msg)[HT_WRITER_MSG];
};

/* Run one job unless its slot failed before; record its failure. With a thread the job
 * runs without the lock (the thread alone touches HDF5), its outcome is posted under it. */
static void run_job(ht_writer *w, job *j)
{
    int skip;
    if (w->threaded) pthread_mutex_lock(&w->mu);
    skip = w->failed[j->slot];
    if (w->threaded) pthread_mutex_unlock(&w->mu);
    if (!skip) {
        char err[HT_WRITER_MSG];
        err[0] = 0;
        int rc = j->fn(j->arg, err, sizeof err);
        if (rc) {
            if (w->threaded) pthread_mutex_lock(&w->mu);
            w->failed[j->slot] = 1;
            snprintf(w->msg[j->slot], HT_WRITER_MSG, "%s", err[0] ? err : "output write failed");
            if (w->threaded) pthread_mutex_unlock(&w->mu);
        }
    }
    free(j->arg);
}

static void *writer_main(void *p)
{
    ht_writer *w = p;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stop) pthread_cond_wait(&w->work, &w->mu);
        if (!w->head) break; /* stop, and nothing left */
        job *j = w->head;
        w->head = j->next;
        if (!w->head) w->tail = NULL;
        w->busy = 1;
        pthread_mutex_unlock(&w->mu);
        run_job(w, j);
        pthread_mutex_lock(&w->mu);
        w->queued_bytes -= j->bytes;
        w->busy = 0;
        free(j);
        pthread_cond_broadcast(&w->moved);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

ht_writer *ht_writer_new(int n_slots, int threaded, size_t max_bytes, char *err, size_t len)
{
    ht_writer *w = calloc(1, sizeof *w);
    if (!w || n_slots < 1) {
        snprintf(err, len, "output writer: %s", w ? "no slots" : "out of memory");
        free(w);
        return NULL;
    }
    w->n_slots = n_slots;
    w->threaded = threaded;
    w->max_bytes = max_bytes;
    w->failed = calloc((size_t)n_slots, sizeof *w->failed);
    w->msg = calloc((size_t)n_slots, sizeof *w->msg);
    if (!w->failed || !w->msg) {
        snprintf(err, len, "output writer: out of memory");
        free(w->failed);
        free(w->msg);
        free(w);
        return NULL;
    }
    if (threaded) {
        int e = pthread_mutex_init(&w->mu, NULL);
        if (!e) {
            e = pthread_cond_init(&w->work, NULL);
            if (!e) {
                e = pthread_cond_init(&w->moved, NULL);
                if (!e) {
                    e = pthread_create(&w->thread, NULL, writer_main, w);
                    if (!e) return w;
                    pthread_cond_destroy(&w->moved);
                }
                pthread_cond_destroy(&w->work);
            }
            pthread_mutex_destroy(&w->mu);
        }
        snprintf(err, len, "output writer: cannot start its thread: %s", strerror(e));
        free(w->failed);
        free(w->msg);
        free(w);
        return NULL;
    }
    return w;
}

int ht_writer_submit(ht_writer *w, int slot, ht_write_fn fn, void *arg, size_t bytes)
{
    job *j = malloc(sizeof *j);
    if (!j) {
        /* no room to queue it: run it here, after everything queued before it */
        job now = {NULL, slot, fn, arg, bytes};
        ht_writer_drain(w);
        run_job(w, &now);
        return -1;
    }
    *j = (job){NULL, slot, fn, arg, bytes};
    if (!w->threaded) {
        run_job(w, j);
        free(j);
        return 0;
    }
    pthread_mutex_lock(&w->mu);
    /* back-pressure: wait while the queue holds more than max_bytes (an empty queue always
     * takes a job, however large) */
    while (w->head && w->queued_bytes + bytes > w->max_bytes) pthread_cond_wait(&w->moved, &w->mu);
    if (w->tail) w->tail->next = j;
    else w->head = j;
    w->tail = j;
    w->queued_bytes += bytes;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

void ht_writer_drain(ht_writer *w)
{
    if (!w || !w->threaded) return;
    pthread_mutex_lock(&w->mu);
    while (w->head || w->busy) pthread_cond_wait(&w->moved, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

const char *ht_writer_error(ht_writer *w, int slot)
{
    if (w->threaded) pthread_mutex_lock(&w->mu);
    const char *m = w->failed[slot] ? w->msg[slot] : NULL;
    if (w->threaded) pthread_mutex_unlock(&w->mu);
    return m;
}

void ht_writer_free(ht_writer *w)
{
    if (!w) return;
    if (w->threaded) {
        pthread_mutex_lock(&w->mu);
        w->stop = 1;
        pthread_cond_signal(&w->work);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL); /* it runs what is queued before it stops */
        pthread_cond_destroy(&w->moved);
        pthread_cond_destroy(&w->work);
        pthread_mutex_destroy(&w->mu);
    }
    free(w->failed);
    free(w->msg);
    free(w);
}
