/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * kmidi transport plugin "c-rdkafka": the kmidi plugin ABI v1
 * (kmidi-transport/include/kmidi_transport.h) implemented in plain C11 on
 * librdkafka's C API. This file owns the whole plugin: the exported
 * kmidi_transport_v1 symbol, its static function table, the producer (with a
 * delivery-report thread), the consumer, and the two admin calls
 * (topic_partitions, create_topic). Built by build.sh into libkmidi_c_rdkafka.so.
 *
 * Why C and not another Rust crate: it proves the ABI is usable from C as
 * written, and it puts librdkafka's own C API (not a binding) side by side with
 * the Rust transports.
 */

/* strdup, clock_gettime, pthreads: POSIX on top of C11. */
#define _POSIX_C_SOURCE 200809L

#include "kmidi_c_rdkafka.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

/* Only kmidi_transport_v1 is exported; build.sh compiles with
   -fvisibility=hidden so every other symbol stays private to the .so. */
#define KMIDI_EXPORT __attribute__((visibility("default")))

/* ------------------------------------------------------------------ helpers */

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes a formatted, NUL-terminated, truncated message; tolerates NULL/0 buffers
   because the host may not care about constructor errors. */
static void write_err(char *buf, size_t len, const char *fmt, ...) {
    va_list ap;
    if (buf == NULL || len == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* Case-insensitive substring test, ASCII only (property names are ASCII). */
static int contains_ci(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay != '\0'; hay++) {
        size_t i = 0;
        while (i < n && hay[i] != '\0' &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

/* A property whose value must never appear in an error text (credentials). */
static int is_sensitive(const char *key) {
    return contains_ci(key, "password") || contains_ci(key, "secret") ||
           contains_ci(key, "sasl.oauthbearer.config") || contains_ci(key, "ssl.key.pem");
}

/* Sets one property. librdkafka's own message is used for ordinary keys; for
   sensitive keys it is replaced, because some librdkafka messages quote the value. */
static int set_prop(rd_kafka_conf_t *conf, const char *key, const char *value, char *errbuf,
                    size_t errlen) {
    char rderr[512];
    rd_kafka_conf_res_t res;
    if (key == NULL || value == NULL) {
        if (key == NULL)
            write_err(errbuf, errlen, "config: NULL property name");
        else
            write_err(errbuf, errlen, "config property \"%s\": NULL value", key);
        return KMIDI_INVALID_ARG;
    }
    res = rd_kafka_conf_set(conf, key, value, rderr, sizeof(rderr));
    if (res == RD_KAFKA_CONF_OK)
        return KMIDI_OK;
    if (is_sensitive(key))
        write_err(errbuf, errlen, "config property \"%s\": %s (value not shown)", key,
                  res == RD_KAFKA_CONF_UNKNOWN ? "unknown property" : "invalid value");
    else
        write_err(errbuf, errlen, "config property \"%s\": %s", key, rderr);
    return KMIDI_INVALID_ARG;
}

/* Builds a conf from kmidi's defaults, then the user's kvs (which win), so that
   "unless given" holds without looking the keys up by hand. Returns NULL and fills
   errbuf on error. */
static rd_kafka_conf_t *build_conf(const char *const *defaults, const kmidi_kv *config,
                                   size_t n_config, char *errbuf, size_t errlen, int32_t *rc) {
    rd_kafka_conf_t *conf;
    size_t i;
    if (n_config > 0 && config == NULL) {
        write_err(errbuf, errlen, "config: NULL array with %zu entries", n_config);
        *rc = KMIDI_INVALID_ARG;
        return NULL;
    }
    conf = rd_kafka_conf_new();
    for (i = 0; defaults != NULL && defaults[i] != NULL; i += 2) {
        if ((*rc = set_prop(conf, defaults[i], defaults[i + 1], errbuf, errlen)) != KMIDI_OK) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    for (i = 0; i < n_config; i++) {
        if ((*rc = set_prop(conf, config[i].key, config[i].value, errbuf, errlen)) != KMIDI_OK) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    *rc = KMIDI_OK;
    return conf;
}

/* The bootstrap servers named in the config, for error texts ("the cluster at X"). */
static const char *bootstrap_of(const kmidi_kv *config, size_t n_config) {
    size_t i;
    for (i = 0; config != NULL && i < n_config; i++)
        if (config[i].key != NULL && config[i].value != NULL &&
            (strcmp(config[i].key, "bootstrap.servers") == 0 ||
             strcmp(config[i].key, "metadata.broker.list") == 0))
            return config[i].value;
    return "(no bootstrap.servers)";
}

/* ----------------------------------------------------------------- producer */

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

    /* Host-thread only. */
    uint64_t sent;
    char *taken;          /* the string last returned by take_failure */
    char last_error[512]; /* returned by producer_last_error */
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
   producer_free waits for it (rd_kafka_yield usually wakes it sooner). */
static void *poller_main(void *arg) {
    kmidi_producer *p = arg;
    while (!atomic_load(&p->stop))
        rd_kafka_poll(p->rk, 100);
    return NULL;
}

static int32_t producer_new(const kmidi_kv *config, size_t n_config, kmidi_producer **out,
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
        write_err(errbuf, errlen, "producer_new: NULL out");
        return KMIDI_INVALID_ARG;
    }
    *out = NULL;
    conf = build_conf(defaults, config, n_config, errbuf, errlen, &rc);
    if (conf == NULL)
        return rc;
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        rd_kafka_conf_destroy(conf);
        write_err(errbuf, errlen, "producer_new: out of memory");
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
        write_err(errbuf, errlen, "rd_kafka_new(producer): %s", rderr);
        return KMIDI_ERROR;
    }
    if (pthread_create(&p->poller, NULL, poller_main, p) != 0) {
        rd_kafka_destroy(p->rk);
        pthread_mutex_destroy(&p->lock);
        free(p);
        write_err(errbuf, errlen, "producer_new: cannot start the delivery-report thread");
        return KMIDI_ERROR;
    }
    p->poller_started = 1;
    *out = p;
    return KMIDI_OK;
}

/* How long produce waits for room in librdkafka's local queue before giving up. */
#define QUEUE_FULL_WAIT_MS 5000

static int32_t produce(kmidi_producer *p, const char *topic, const uint8_t *key, size_t key_len,
                       const uint8_t *value, size_t value_len) {
    int64_t deadline;
    rd_kafka_resp_err_t err;
    if (p == NULL)
        return KMIDI_INVALID_ARG;
    if (topic == NULL || (key == NULL && key_len != 0) || (value == NULL && value_len != 0)) {
        set_perr(p, "produce: NULL topic, or NULL key/value with a non-zero length");
        return KMIDI_INVALID_ARG;
    }
    deadline = now_ms() + QUEUE_FULL_WAIT_MS;
    for (;;) {
        /* F_COPY: the inputs are only borrowed for this call. The casts drop const
           because the varargs macros take void*; librdkafka only reads them. */
        err = rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(topic),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY((void *)(uintptr_t)key, key_len),
                                RD_KAFKA_V_VALUE((void *)(uintptr_t)value, value_len),
                                RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || now_ms() >= deadline)
            break;
        /* Room appears as deliveries complete; polling here also serves reports in
           case the poller thread is momentarily behind. */
        rd_kafka_poll(p->rk, 50);
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        p->sent++;
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

static int32_t flush(kmidi_producer *p, int32_t timeout_ms) {
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

static int32_t producer_stats(kmidi_producer *p, kmidi_producer_stats *out) {
    if (p == NULL || out == NULL)
        return KMIDI_INVALID_ARG;
    out->sent = p->sent;
    pthread_mutex_lock(&p->lock);
    out->delivered = p->delivered;
    out->failed = p->failed;
    pthread_mutex_unlock(&p->lock);
    return KMIDI_OK;
}

static int32_t producer_take_failure(kmidi_producer *p, const char **error) {
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

static const char *producer_last_error(kmidi_producer *p) {
    return p != NULL ? p->last_error : "NULL producer";
}

/* How long producer_free gives undelivered messages before purging them. Short:
   the host flushes with its own timeout before freeing; this only catches leftovers. */
#define FREE_FLUSH_MS 2000

static void producer_free(kmidi_producer *p) {
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
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* ----------------------------------------------------------------- consumer */

struct kmidi_consumer {
    rd_kafka_t *rk;
    rd_kafka_message_t *held; /* backs the kmidi_message last returned by poll */
    /* Set by consumer_error_cb, which librdkafka calls from inside
       rd_kafka_consumer_poll on the host's thread (the main queue is forwarded to
       the consumer queue), so no lock is needed. */
    rd_kafka_resp_err_t pending_err;
    char pending_text[256];
    char last_error[512];
};

static void set_cerr(kmidi_consumer *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
    va_end(ap);
}

/* Client-level errors (all brokers down, resolve failures, fatal errors) are not
   returned as messages by rd_kafka_consumer_poll; without this callback they would
   only be logged, and the host could not tell "quiet topic" from "dead cluster". */
static void consumer_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    kmidi_consumer *c = opaque;
    (void)rk;
    /* Keep a fatal error over anything that follows it. */
    if (c->pending_err == RD_KAFKA_RESP_ERR__FATAL)
        return;
    c->pending_err = (rd_kafka_resp_err_t)err;
    snprintf(c->pending_text, sizeof(c->pending_text), "%s", reason);
}

static int32_t consumer_new(const kmidi_kv *config, size_t n_config, const char *group,
                            const char *const *topics, size_t n_topics, int32_t offset_reset,
                            kmidi_consumer **out, char *errbuf, size_t errlen) {
    static const char *const defaults[] = {"client.id", "kmidi-c-rdkafka", NULL};
    char rderr[512];
    rd_kafka_conf_t *conf;
    rd_kafka_topic_partition_list_t *subs;
    rd_kafka_resp_err_t err;
    kmidi_consumer *c;
    int32_t rc;
    size_t i;

    if (out == NULL) {
        write_err(errbuf, errlen, "consumer_new: NULL out");
        return KMIDI_INVALID_ARG;
    }
    *out = NULL;
    if (topics == NULL || n_topics == 0) {
        write_err(errbuf, errlen, "consumer_new: no topics to subscribe to");
        return KMIDI_INVALID_ARG;
    }
    for (i = 0; i < n_topics; i++)
        if (topics[i] == NULL || topics[i][0] == '\0') {
            write_err(errbuf, errlen, "consumer_new: topic %zu is NULL or empty", i);
            return KMIDI_INVALID_ARG;
        }
    if (offset_reset != KMIDI_OFFSET_EARLIEST && offset_reset != KMIDI_OFFSET_LATEST) {
        write_err(errbuf, errlen, "consumer_new: offset_reset %d is neither LATEST (0) nor EARLIEST (1)",
                  (int)offset_reset);
        return KMIDI_INVALID_ARG;
    }
    conf = build_conf(defaults, config, n_config, errbuf, errlen, &rc);
    if (conf == NULL)
        return rc;
    /* The explicit arguments win over -X properties: they are what the user asked
       kmidi for. A NULL/empty group falls back to a group.id given in the config. */
    if (group != NULL && group[0] != '\0' &&
        (rc = set_prop(conf, "group.id", group, errbuf, errlen)) != KMIDI_OK)
        goto fail_conf;
    {
        char gid[8];
        size_t gl = sizeof(gid);
        if (rd_kafka_conf_get(conf, "group.id", gid, &gl) != RD_KAFKA_CONF_OK || gl <= 1) {
            write_err(errbuf, errlen, "consumer_new: no consumer group (argument or group.id)");
            rc = KMIDI_INVALID_ARG;
            goto fail_conf;
        }
    }
    if ((rc = set_prop(conf, "auto.offset.reset",
                       offset_reset == KMIDI_OFFSET_EARLIEST ? "earliest" : "latest", errbuf,
                       errlen)) != KMIDI_OK)
        goto fail_conf;

    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        write_err(errbuf, errlen, "consumer_new: out of memory");
        rc = KMIDI_ERROR;
        goto fail_conf;
    }
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_error_cb(conf, consumer_error_cb);
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rderr, sizeof(rderr));
    if (c->rk == NULL) {
        free(c);
        write_err(errbuf, errlen, "rd_kafka_new(consumer): %s", rderr);
        rc = KMIDI_ERROR;
        goto fail_conf;
    }
    /* One queue for everything, so rd_kafka_consumer_poll also serves errors and
       rebalances and nothing piles up unserved on the main queue. */
    rd_kafka_poll_set_consumer(c->rk);
    subs = rd_kafka_topic_partition_list_new((int)n_topics);
    for (i = 0; i < n_topics; i++)
        rd_kafka_topic_partition_list_add(subs, topics[i], RD_KAFKA_PARTITION_UA);
    err = rd_kafka_subscribe(c->rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        write_err(errbuf, errlen, "subscribe: %s", rd_kafka_err2str(err));
        rd_kafka_destroy(c->rk);
        free(c);
        return KMIDI_ERROR;
    }
    *out = c;
    return KMIDI_OK;

fail_conf:
    rd_kafka_conf_destroy(conf);
    return rc;
}

/* Errors after which the consumer recovers by itself (reconnects, rejoins, finds a
   new leader, or sees the topic once it is created): the host warns and polls on. */
static int is_transient(rd_kafka_resp_err_t err) {
    switch (err) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__MAX_POLL_EXCEEDED:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
        return 1;
    default:
        return 0;
    }
}

static int32_t poll_consumer(kmidi_consumer *c, int32_t timeout_ms, kmidi_message *out) {
    rd_kafka_message_t *m;
    rd_kafka_timestamp_type_t tstype;
    int64_t ts;
    if (c == NULL)
        return KMIDI_INVALID_ARG;
    /* The previous message was borrowed until this call. */
    if (c->held != NULL) {
        rd_kafka_message_destroy(c->held);
        c->held = NULL;
    }
    if (out == NULL || timeout_ms < 0) {
        set_cerr(c, "poll: NULL out or negative timeout");
        return KMIDI_INVALID_ARG;
    }
    m = rd_kafka_consumer_poll(c->rk, timeout_ms);
    if (m == NULL) {
        if (c->pending_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_resp_err_t err = c->pending_err;
            c->pending_err = RD_KAFKA_RESP_ERR_NO_ERROR;
            if (err == RD_KAFKA_RESP_ERR__FATAL) {
                char reason[256];
                rd_kafka_resp_err_t ferr = rd_kafka_fatal_error(c->rk, reason, sizeof(reason));
                set_cerr(c, "fatal consumer error %s: %s", rd_kafka_err2name(ferr), reason);
                return KMIDI_ERROR;
            }
            set_cerr(c, "%s (%s)", c->pending_text, rd_kafka_err2name(err));
            /* Every client-level error that is not fatal is retried by librdkafka. */
            return KMIDI_TRANSIENT;
        }
        return KMIDI_TIMEOUT;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        int32_t rc;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            /* Only with enable.partition.eof=true: "caught up" is not a message. */
            rd_kafka_message_destroy(m);
            return KMIDI_TIMEOUT;
        }
        rc = is_transient(m->err) ? KMIDI_TRANSIENT : KMIDI_ERROR;
        if (m->rkt != NULL)
            set_cerr(c, "%s [%d]: %s (%s)", rd_kafka_topic_name(m->rkt), (int)m->partition,
                     rd_kafka_message_errstr(m), rd_kafka_err2name(m->err));
        else
            set_cerr(c, "%s (%s)", rd_kafka_message_errstr(m), rd_kafka_err2name(m->err));
        rd_kafka_message_destroy(m);
        return rc;
    }
    c->held = m;
    out->topic = rd_kafka_topic_name(m->rkt);
    out->partition = m->partition;
    out->offset = m->offset;
    out->key = m->key;
    out->key_len = m->key != NULL ? m->key_len : 0;
    out->value = m->payload;
    out->value_len = m->payload != NULL ? m->len : 0;
    ts = rd_kafka_message_timestamp(m, &tstype);
    out->timestamp_ms = tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts;
    return KMIDI_OK;
}

static int32_t commit(kmidi_consumer *c) {
    rd_kafka_resp_err_t err;
    if (c == NULL)
        return KMIDI_INVALID_ARG;
    /* NULL offsets: the current positions of the whole assignment, synchronously. */
    err = rd_kafka_commit(c->rk, NULL, 0);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return KMIDI_OK; /* nothing consumed since the last commit is not a failure */
    set_cerr(c, "commit: %s", rd_kafka_err2str(err));
    return KMIDI_ERROR;
}

static const char *consumer_last_error(kmidi_consumer *c) {
    return c != NULL ? c->last_error : "NULL consumer";
}

/* Upper bound on leaving the group in consumer_free: rd_kafka_consumer_close can
   otherwise wait a long time when the coordinator is unreachable. */
#define CLOSE_WAIT_MS 5000

static void consumer_free(kmidi_consumer *c) {
    rd_kafka_queue_t *q;
    rd_kafka_error_t *error;
    if (c == NULL)
        return;
    if (c->held != NULL)
        rd_kafka_message_destroy(c->held);
    /* Close through a queue we poll ourselves, so the wait is bounded; then destroy
       without a second (unbounded) close. */
    q = rd_kafka_queue_new(c->rk);
    error = rd_kafka_consumer_close_queue(c->rk, q);
    if (error != NULL) {
        rd_kafka_error_destroy(error);
    } else {
        int64_t deadline = now_ms() + CLOSE_WAIT_MS;
        while (!rd_kafka_consumer_closed(c->rk) && now_ms() < deadline) {
            rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 100);
            if (ev != NULL)
                rd_kafka_event_destroy(ev);
        }
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy_flags(c->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    free(c);
}

/* -------------------------------------------------------------------- admin */

/* Admin calls report an unreachable cluster through their return value; this
   keeps librdkafka from also printing "brokers are down" to the host's stderr. */
static void quiet_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    (void)rk;
    (void)err;
    (void)reason;
    (void)opaque;
}

/* A short-lived handle for one admin call. A consumer-type handle never asks the
   broker to auto-create a topic it requests metadata for, so a typo in a topic
   name reads as "missing" instead of creating the topic. */
static rd_kafka_t *admin_handle(const kmidi_kv *config, size_t n_config, char *errbuf,
                                size_t errlen, int32_t *rc) {
    static const char *const defaults[] = {"client.id", "kmidi-c-rdkafka-admin",
                                           "allow.auto.create.topics", "false", NULL};
    char rderr[512];
    rd_kafka_t *rk;
    rd_kafka_conf_t *conf = build_conf(defaults, config, n_config, errbuf, errlen, rc);
    if (conf == NULL)
        return NULL;
    rd_kafka_conf_set_error_cb(conf, quiet_error_cb);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rderr, sizeof(rderr));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        write_err(errbuf, errlen, "rd_kafka_new(admin): %s", rderr);
        *rc = KMIDI_ERROR;
    }
    return rk;
}

static int32_t topic_partitions(const kmidi_kv *config, size_t n_config, const char *topic,
                                int32_t timeout_ms, int32_t *partitions, char *errbuf,
                                size_t errlen) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt;
    rd_kafka_resp_err_t err;
    rd_kafka_t *rk;
    int32_t rc;

    if (topic == NULL || topic[0] == '\0' || partitions == NULL || timeout_ms < 0) {
        write_err(errbuf, errlen, "topic_partitions: NULL/empty topic, NULL out or negative timeout");
        return KMIDI_INVALID_ARG;
    }
    rk = admin_handle(config, n_config, errbuf, errlen, &rc);
    if (rk == NULL)
        return rc;
    rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (rkt == NULL) {
        write_err(errbuf, errlen, "topic %s: %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
        rd_kafka_destroy(rk);
        return KMIDI_ERROR;
    }
    err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT) {
        /* __TRANSPORT: no broker became usable within the timeout. */
        write_err(errbuf, errlen, "the cluster at %s did not answer within %d ms (%s)",
                  bootstrap_of(config, n_config), (int)timeout_ms, rd_kafka_err2str(err));
        rc = KMIDI_TIMEOUT;
    } else if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        write_err(errbuf, errlen, "metadata for %s: %s", topic, rd_kafka_err2str(err));
        rc = KMIDI_ERROR;
    } else if (md->topic_cnt < 1 || strcmp(md->topics[0].topic, topic) != 0) {
        write_err(errbuf, errlen, "metadata for %s: the broker did not return the topic", topic);
        rc = KMIDI_ERROR;
    } else if (md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        *partitions = -1;
        rc = KMIDI_OK;
    } else if (md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR || md->topics[0].partition_cnt > 0) {
        /* A topic being created may briefly report LEADER_NOT_AVAILABLE with its
           partitions already listed: it exists. */
        *partitions = md->topics[0].partition_cnt;
        rc = KMIDI_OK;
    } else {
        write_err(errbuf, errlen, "metadata for %s: %s", topic, rd_kafka_err2str(md->topics[0].err));
        rc = KMIDI_ERROR;
    }
    if (md != NULL)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return rc;
}

static int32_t create_topic(const kmidi_kv *config, size_t n_config, const char *topic,
                            int32_t partitions, int32_t replication_factor,
                            const kmidi_kv *topic_config, size_t n_topic_config,
                            int32_t timeout_ms, char *errbuf, size_t errlen) {
    char rderr[512];
    rd_kafka_t *rk;
    rd_kafka_NewTopic_t *nt;
    rd_kafka_AdminOptions_t *opts;
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev;
    int32_t rc;
    size_t i;

    if (topic == NULL || topic[0] == '\0' || timeout_ms < 0 ||
        (n_topic_config > 0 && topic_config == NULL)) {
        write_err(errbuf, errlen, "create_topic: NULL/empty topic, NULL topic config or negative timeout");
        return KMIDI_INVALID_ARG;
    }
    nt = rd_kafka_NewTopic_new(topic, partitions, replication_factor, rderr, sizeof(rderr));
    if (nt == NULL) {
        write_err(errbuf, errlen, "create_topic %s: %s", topic, rderr);
        return KMIDI_INVALID_ARG;
    }
    for (i = 0; i < n_topic_config; i++) {
        rd_kafka_resp_err_t err;
        if (topic_config[i].key == NULL || topic_config[i].value == NULL) {
            write_err(errbuf, errlen, "create_topic %s: NULL topic config key or value", topic);
            rd_kafka_NewTopic_destroy(nt);
            return KMIDI_INVALID_ARG;
        }
        err = rd_kafka_NewTopic_set_config(nt, topic_config[i].key, topic_config[i].value);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            write_err(errbuf, errlen, "create_topic %s: topic config \"%s\": %s", topic,
                      topic_config[i].key, rd_kafka_err2str(err));
            rd_kafka_NewTopic_destroy(nt);
            return KMIDI_INVALID_ARG;
        }
    }
    rk = admin_handle(config, n_config, errbuf, errlen, &rc);
    if (rk == NULL) {
        rd_kafka_NewTopic_destroy(nt);
        return rc;
    }
    opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    /* request timeout: the whole call; operation timeout: the broker waits (within
       it) until the topic is created, so it can be used right after we return. */
    rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, rderr, sizeof(rderr));
    rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, rderr, sizeof(rderr));
    q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    /* librdkafka enforces the request timeout itself; the margin only covers its
       timer granularity, so an answer is never mistaken for silence. */
    ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
    if (ev == NULL) {
        write_err(errbuf, errlen, "create_topic %s: the cluster at %s did not answer within %d ms",
                  topic, bootstrap_of(config, n_config), (int)timeout_ms);
        rc = KMIDI_TIMEOUT;
    } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
        int timed_out = err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT;
        write_err(errbuf, errlen, "create_topic %s%s: %s", topic,
                  timed_out ? ": the cluster did not answer in time" : "",
                  rd_kafka_event_error_string(ev));
        rc = timed_out ? KMIDI_TIMEOUT : KMIDI_ERROR;
    } else {
        size_t n = 0;
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        const rd_kafka_topic_result_t **tr = res != NULL ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;
        rc = KMIDI_OK;
        for (i = 0; i < n; i++) {
            rd_kafka_resp_err_t err = rd_kafka_topic_result_error(tr[i]);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
                continue;
            /* Already-exists is an error, like the built-in rdkafka transport: the
               caller asked for specific partitions and settings. */
            const char *detail = rd_kafka_topic_result_error_string(tr[i]);
            write_err(errbuf, errlen, "create_topic %s: %s%s", rd_kafka_topic_result_name(tr[i]),
                      err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS ? "already exists: " : "",
                      detail != NULL ? detail : rd_kafka_err2str(err));
            rc = err == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT ? KMIDI_TIMEOUT : KMIDI_ERROR;
        }
    }
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_destroy(rk);
    return rc;
}

/* -------------------------------------------------------------------- table */

static char library_version[32];
static pthread_once_t version_once = PTHREAD_ONCE_INIT;

static void init_version(void) {
    snprintf(library_version, sizeof(library_version), "%s", rd_kafka_version_str());
}

/* library_version must be a constant-address string for the static table, while
   the value is only known at run time (it is the librdkafka actually loaded, not the
   one compiled against): the table points at a buffer filled once. */
static const kmidi_transport_table TABLE = {
    .magic = KMIDI_TRANSPORT_MAGIC,
    .abi_version = KMIDI_TRANSPORT_ABI_VERSION,
    .struct_size = (uint32_t)sizeof(kmidi_transport_table),
    .reserved = 0,
    .name = KMIDI_C_RDKAFKA_NAME,
    .library = "librdkafka (C API)",
    .library_version = library_version,
    .capabilities = KMIDI_CAP_CONSUMER_GROUPS | KMIDI_CAP_TIMESTAMPS | KMIDI_CAP_HEADERS |
                    KMIDI_CAP_TLS | KMIDI_CAP_SASL | KMIDI_CAP_IDEMPOTENCE,
    .producer_new = producer_new,
    .produce = produce,
    .flush = flush,
    .producer_stats = producer_stats,
    .producer_take_failure = producer_take_failure,
    .producer_last_error = producer_last_error,
    .producer_free = producer_free,
    .consumer_new = consumer_new,
    .poll = poll_consumer,
    .commit = commit,
    .consumer_last_error = consumer_last_error,
    .consumer_free = consumer_free,
    .topic_partitions = topic_partitions,
    .create_topic = create_topic,
};

KMIDI_EXPORT const kmidi_transport_table *kmidi_transport_v1(uint32_t host_abi_version) {
    if (host_abi_version != KMIDI_TRANSPORT_ABI_VERSION)
        return NULL;
    pthread_once(&version_once, init_version);
    return &TABLE;
}
