/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * The producer. It is the one part with a thread of its own (delivery reports must
 * flow while the host is busy scheduling notes) and so the one part with a lock;
 * keeping it apart keeps that concurrency out of the consumer and admin code, which
 * only ever run on the host's thread.
 */

#include "internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Delivery-failure texts waiting for producer_take_failure. Bounded so that a dead
   cluster with a fast player cannot grow memory without limit; the overflow is
   counted and reported as one summary text. */
#define MAX_KEPT_FAILURES 1024

typedef struct failure {
    struct failure *next;
    char text[];
} failure;

struct kmidi_producer {
    rd_kafka_t *rk;
    pthread_t poller;
    int poller_started;
    int idempotent; /* enable.idempotence as librdkafka applies it: pid.c's cue */
    atomic_bool stop;

    /* Guards everything below: the delivery-report callback runs on the poller
       thread (or inside rd_kafka_flush on the host's thread). */
    pthread_mutex_t lock;
    uint64_t delivered;
    uint64_t failed;
    failure *head, *tail;
    size_t n_kept;
    uint64_t n_dropped;
    char client_error[256]; /* latest error_cb text, to explain a flush timeout */
    /* The first topic produced to (a copy), for kmidi_crd_prime_pid; freed after
       the poller is joined. Under the lock so the hand-over is a plain mutex edge
       (helgrind sees none in a C11 atomic). */
    char *prime_topic;

    /* Host-thread only. */
    uint64_t sent;
    int prime_topic_given; /* prime_topic was handed over (or could not be copied) */
    char *taken;          /* the string last returned by take_failure */
    char last_error[512]; /* returned by producer_last_error */
    char settings[512];   /* returned by producer_settings */
};

static void set_perr(kmidi_producer *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->last_error, sizeof(p->last_error), fmt, ap);
    va_end(ap);
}

/* Queues one failure text; called with p->lock held. */
static void push_failure(kmidi_producer *p, const char *text) {
    size_t len;
    failure *f;
    if (p->n_kept >= MAX_KEPT_FAILURES) {
        p->n_dropped++;
        return;
    }
    len = strlen(text);
    f = malloc(sizeof(*f) + len + 1);
    if (f == NULL) {
        p->n_dropped++;
        return;
    }
    memcpy(f->text, text, len + 1);
    f->next = NULL;
    if (p->tail != NULL)
        p->tail->next = f;
    else
        p->head = f;
    p->tail = f;
    p->n_kept++;
}

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    kmidi_producer *p = opaque;
    (void)rk;
    pthread_mutex_lock(&p->lock);
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        p->delivered++;
    } else {
        char text[512];
        p->failed++;
        snprintf(text, sizeof(text), "delivery to %s [%d] failed: %s",
                 m->rkt != NULL ? rd_kafka_topic_name(m->rkt) : "?", (int)m->partition,
                 rd_kafka_err2str(m->err));
        push_failure(p, text);
    }
    pthread_mutex_unlock(&p->lock);
}

/* Client-level errors ("1/1 brokers are down", idempotence failures): librdkafka
   retries by itself, so they are kept only to explain a later flush timeout. Having
   an error_cb also stops librdkafka printing them to stderr. */
static void producer_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    kmidi_producer *p = opaque;
    (void)rk;
    pthread_mutex_lock(&p->lock);
    snprintf(p->client_error, sizeof(p->client_error), "%s: %s",
             rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
    pthread_mutex_unlock(&p->lock);
}

/* Serves delivery reports (and error/log callbacks) so they flow while the host is
   busy scheduling notes and never calls into the producer. 100 ms bounds how long
   producer_free waits for it (rd_kafka_yield usually wakes it sooner). Before its
   first report can be due, it gets the idempotent producer its id (pid.c), as soon
   as the first produce names a topic. */
static void *poller_main(void *arg) {
    kmidi_producer *p = arg;
    int primed = !p->idempotent;
    while (!atomic_load(&p->stop)) {
        if (!primed) {
            const char *topic;
            pthread_mutex_lock(&p->lock);
            topic = p->prime_topic; /* never changes once set */
            pthread_mutex_unlock(&p->lock);
            if (topic != NULL) {
                kmidi_crd_prime_pid(p->rk, topic, &p->stop);
                primed = 1;
            }
        }
        rd_kafka_poll(p->rk, 100);
    }
    return NULL;
}

/* Whether rk's own (finalized) conf says "true" for key. */
static int conf_is_true(rd_kafka_t *rk, const char *key) {
    char value[16];
    size_t len = sizeof(value);
    return rd_kafka_conf_get(rd_kafka_conf(rk), key, value, &len) == RD_KAFKA_CONF_OK &&
           strcmp(value, "true") == 0;
}

int32_t kmidi_crd_producer_new(const kmidi_kv *config, size_t n_config, kmidi_producer **out,
                               char *errbuf, size_t errlen) {
    /* linger.ms=0: a note is sent the moment it is handed over (kmidi measures
       timing, batching would be heard). Idempotence: no duplicates or reordering
       on retries, which the instrument would count as errors. */
    static const char *const defaults[] = {"client.id", "kmidi-c-rdkafka", "linger.ms", "0",
                                           "enable.idempotence", "true", NULL};
    char rderr[512];
    rd_kafka_conf_t *conf;
    kmidi_producer *p;
    int32_t rc;

    if (out == NULL) {
        kmidi_crd_write_err(errbuf, errlen, "producer_new: NULL out");
        return KMIDI_INVALID_ARG;
    }
    *out = NULL;
    conf = kmidi_crd_build_conf(defaults, config, n_config, errbuf, errlen, &rc);
    if (conf == NULL)
        return rc;
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        rd_kafka_conf_destroy(conf);
        kmidi_crd_write_err(errbuf, errlen, "producer_new: out of memory");
        return KMIDI_ERROR;
    }
    atomic_init(&p->stop, false);
    pthread_mutex_init(&p->lock, NULL);
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    rd_kafka_conf_set_error_cb(conf, producer_error_cb);

    /* rd_kafka_new takes ownership of conf only on success. */
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rderr, sizeof(rderr));
    if (p->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        pthread_mutex_destroy(&p->lock);
        free(p);
        kmidi_crd_write_err(errbuf, errlen, "rd_kafka_new(producer): %s", rderr);
        return KMIDI_ERROR;
    }
    p->idempotent = conf_is_true(p->rk, "enable.idempotence");
    if (pthread_create(&p->poller, NULL, poller_main, p) != 0) {
        rd_kafka_destroy(p->rk);
        pthread_mutex_destroy(&p->lock);
        free(p);
        kmidi_crd_write_err(errbuf, errlen,
                            "producer_new: cannot start the delivery-report thread");
        return KMIDI_ERROR;
    }
    p->poller_started = 1;
    *out = p;
    return KMIDI_OK;
}

/* Hands the first topic produced to to the poller, which primes the producer id
   with it (pid.c): once, a copy (one allocation per producer on the scheduling
   thread), and a wake-up so the poller starts at once. */
static void give_prime_topic(kmidi_producer *p, const char *topic) {
    char *copy;
    p->prime_topic_given = 1;
    if (!p->idempotent)
        return;
    copy = strdup(topic); /* NULL if out of memory: no priming, nothing else lost */
    pthread_mutex_lock(&p->lock);
    p->prime_topic = copy;
    pthread_mutex_unlock(&p->lock);
    rd_kafka_yield(p->rk);
}

/* How long produce waits for room in librdkafka's local queue before giving up. */
#define QUEUE_FULL_WAIT_MS 5000

int32_t kmidi_crd_produce(kmidi_producer *p, const char *topic, const uint8_t *key, size_t key_len,
                          const uint8_t *value, size_t value_len) {
    int64_t deadline;
    rd_kafka_resp_err_t err;
    if (p == NULL)
        return KMIDI_INVALID_ARG;
    if (topic == NULL || (key == NULL && key_len != 0) || (value == NULL && value_len != 0)) {
        set_perr(p, "produce: NULL topic, or NULL key/value with a non-zero length");
        return KMIDI_INVALID_ARG;
    }
    deadline = kmidi_crd_now_ms() + QUEUE_FULL_WAIT_MS;
    for (;;) {
        /* F_COPY: the inputs are only borrowed for this call. The casts drop const
           because the varargs macros take void*; librdkafka only reads them. */
        err = rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(topic),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY((void *)(uintptr_t)key, key_len),
                                RD_KAFKA_V_VALUE((void *)(uintptr_t)value, value_len),
                                RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || kmidi_crd_now_ms() >= deadline)
            break;
        /* Room appears as deliveries complete; polling here also serves reports in
           case the poller thread is momentarily behind. */
        rd_kafka_poll(p->rk, 50);
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        p->sent++;
        if (!p->prime_topic_given)
            give_prime_topic(p, topic);
        return KMIDI_OK;
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char reason[256];
        rd_kafka_resp_err_t ferr = rd_kafka_fatal_error(p->rk, reason, sizeof(reason));
        set_perr(p, "produce to %s: fatal producer error %s: %s", topic, rd_kafka_err2name(ferr),
                 reason);
        return KMIDI_ERROR;
    }
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        set_perr(p, "produce to %s: local queue still full after %d ms (%d messages queued)",
                 topic, QUEUE_FULL_WAIT_MS, rd_kafka_outq_len(p->rk));
    else
        set_perr(p, "produce to %s: %s", topic, rd_kafka_err2str(err));
    return KMIDI_ERROR;
}

int32_t kmidi_crd_flush(kmidi_producer *p, int32_t timeout_ms) {
    rd_kafka_resp_err_t err;
    if (p == NULL)
        return KMIDI_INVALID_ARG;
    if (timeout_ms < 0) {
        set_perr(p, "flush: negative timeout %d ms", (int)timeout_ms);
        return KMIDI_INVALID_ARG;
    }
    err = rd_kafka_flush(p->rk, timeout_ms);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        return KMIDI_OK;
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
        char why[256];
        pthread_mutex_lock(&p->lock);
        memcpy(why, p->client_error, sizeof(why));
        pthread_mutex_unlock(&p->lock);
        set_perr(p, "flush: %d message(s) not delivered within %d ms%s%s",
                 rd_kafka_outq_len(p->rk), (int)timeout_ms, why[0] ? "; last client error: " : "",
                 why);
        return KMIDI_TIMEOUT;
    }
    set_perr(p, "flush: %s", rd_kafka_err2str(err));
    return KMIDI_ERROR;
}

int32_t kmidi_crd_producer_stats(kmidi_producer *p, kmidi_producer_stats *out) {
    if (p == NULL || out == NULL)
        return KMIDI_INVALID_ARG;
    out->sent = p->sent;
    pthread_mutex_lock(&p->lock);
    out->delivered = p->delivered;
    out->failed = p->failed;
    pthread_mutex_unlock(&p->lock);
    return KMIDI_OK;
}

int32_t kmidi_crd_producer_take_failure(kmidi_producer *p, const char **error) {
    failure *f;
    if (p == NULL || error == NULL)
        return KMIDI_INVALID_ARG;
    /* The previous string was only valid until this call. */
    free(p->taken);
    p->taken = NULL;
    *error = NULL;
    pthread_mutex_lock(&p->lock);
    f = p->head;
    if (f != NULL) {
        p->head = f->next;
        if (p->head == NULL)
            p->tail = NULL;
        p->n_kept--;
        pthread_mutex_unlock(&p->lock);
        p->taken = strdup(f->text);
        free(f);
    } else if (p->n_dropped > 0) {
        char text[128];
        snprintf(text, sizeof(text), "%llu more delivery failure(s) not kept individually",
                 (unsigned long long)p->n_dropped);
        p->n_dropped = 0;
        pthread_mutex_unlock(&p->lock);
        p->taken = strdup(text);
    } else {
        pthread_mutex_unlock(&p->lock);
        return KMIDI_TIMEOUT;
    }
    if (p->taken == NULL) {
        set_perr(p, "producer_take_failure: out of memory");
        return KMIDI_ERROR;
    }
    *error = p->taken;
    return KMIDI_OK;
}

const char *kmidi_crd_producer_last_error(kmidi_producer *p) {
    return p != NULL ? p->last_error : "NULL producer";
}

const char *kmidi_crd_producer_settings(kmidi_producer *p) {
    static const char *const keys[] = {"linger.ms", "acks", "enable.idempotence", NULL};
    if (p == NULL)
        return NULL;
    return kmidi_crd_settings_text(p->rk, keys, p->settings, sizeof(p->settings));
}

/* How long producer_free gives undelivered messages before purging them. Short:
   the host flushes with its own timeout before freeing; this only catches leftovers. */
#define FREE_FLUSH_MS 2000

void kmidi_crd_producer_free(kmidi_producer *p) {
    failure *f;
    if (p == NULL)
        return;
    if (p->poller_started) {
        atomic_store(&p->stop, true);
        rd_kafka_yield(p->rk);
        pthread_join(p->poller, NULL);
    }
    if (rd_kafka_flush(p->rk, FREE_FLUSH_MS) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        /* Purge what is left so rd_kafka_destroy does not wait on it, then serve the
           purge's delivery reports (they free the message copies). */
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(p->rk, 500);
    }
    rd_kafka_destroy(p->rk);
    while ((f = p->head) != NULL) {
        p->head = f->next;
        free(f);
    }
    free(p->taken);
    free(p->prime_topic);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
