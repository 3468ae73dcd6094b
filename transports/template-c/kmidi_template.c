/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * kmidi transport plugin template: the smallest complete plugin for the kmidi
 * plugin ABI v1 (kmidi-transport/include/kmidi_transport.h). Copy this file, rename
 * the transport, and replace the loopback with calls into your Kafka client; every
 * place a real client call goes is marked "REAL CLIENT:". The contract this file
 * follows is written down in kmidi-transport/PLUGINS.md.
 *
 * Instead of a Kafka client it is an in-process loopback: produce appends to an
 * in-memory log per topic, shared by every handle of the process, and poll reads
 * from it. That is enough for `kmidi demo --transport ./libkmidi_template.so`, where
 * the player and the instrument live in one process, and it keeps the file free of
 * any library so it builds with one cc line (see README.md next to it):
 *
 *   cc -std=c11 -Wall -Wextra -pedantic -Werror -shared -fPIC \
 *      -I kmidi-transport/include -o libkmidi_template.so \
 *      transports/template-c/kmidi_template.c -lpthread
 *
 * Everything but kmidi_transport_v1 is static, so the host can find nothing else.
 */

/* pthread_condattr_setclock, clock_gettime, strdup: POSIX on top of C11. Must come
   before every system header. */
#define _POSIX_C_SOURCE 200809L

#include "kmidi_transport.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__GNUC__)
/* Keeps the entry point visible even if an author adds -fvisibility=hidden. */
#define KMIDI_EXPORT __attribute__((visibility("default")))
#else
#define KMIDI_EXPORT
#endif

#define TEMPLATE_NAME "template"
#define TEMPLATE_LIBRARY "in-process loopback (no Kafka)"
#define TEMPLATE_VERSION "0.1.0"

/* Kafka's own default limit is 1 MiB; a length far past it is far more likely a
   garbage argument than a record, and copying it could fault. */
#define MAX_RECORD_BYTES ((size_t)16 << 20)
/* The loopback's "retention": past this many records a topic drops its oldest half,
   so `kmidi player --loop` cannot grow the process without bound. */
#define MAX_RECORDS_PER_TOPIC ((size_t)1 << 16)
#define ERR_LEN 512

/* ------------------------------------------------------------ the shared log */

typedef struct record {
    int64_t timestamp_ms;
    uint8_t *key; /* NULL: null key */
    size_t key_len;
    uint8_t *value; /* NULL: null value */
    size_t value_len;
} record;

/* One topic, one partition. Logs live until the process exits: the host never
   unloads a plugin, so nothing would ever free them anyway, and consumers can keep
   plain pointers to them. */
typedef struct topic_log {
    char *name;
    record *records;
    size_t len, cap;
    int64_t base; /* offset of records[0]; grows when old records are dropped */
    struct topic_log *next;
} topic_log;

struct kmidi_producer {
    struct kmidi_producer *next_live;
    uint64_t sent, delivered;
    char err[ERR_LEN];
};

struct kmidi_consumer {
    struct kmidi_consumer *next_live;
    size_t n_topics;
    char **names;        /* the subscription, owned copies */
    topic_log **logs;    /* NULL until the topic exists */
    int64_t *positions;  /* next offset to read, per topic */
    size_t next_topic;   /* round-robin start, so one busy topic cannot starve another */
    uint8_t *msg_buf;    /* backs the key and value of the message poll last returned */
    size_t msg_cap;
    char err[ERR_LEN];
};

/* One lock for everything: handles of one process share the logs, and the ABI lets
   different handles be used from different threads at the same time. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_arrived; /* signalled by produce; CLOCK_MONOTONIC */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_ready;
static topic_log *g_topics;
/* Live handles. A handle is trusted only if it is in one of these lists, which is
   checked by comparing pointers, never by reading through the pointer: a NULL,
   freed or foreign pointer gets KMIDI_INVALID_ARG instead of a crash. */
static kmidi_producer *g_producers;
static kmidi_consumer *g_consumers;

static void init_once(void) {
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return;
    /* A wall-clock jump must not stretch or cut a poll's timeout. */
    if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
        pthread_cond_init(&g_arrived, &attr) == 0)
        g_ready = 1;
    pthread_condattr_destroy(&attr);
}

static int64_t now_ms(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Formats into a caller's buffer; tolerates NULL/0 because the ABI lets the caller
   pass no errbuf. Returns rc so error paths stay one line. */
static int32_t say(char *buf, size_t len, int32_t rc, const char *fmt, ...) {
    va_list ap;
    if (buf != NULL && len > 0) {
        va_start(ap, fmt);
        vsnprintf(buf, len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static topic_log *find_topic(const char *name) {
    topic_log *t;
    for (t = g_topics; t != NULL; t = t->next)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

/* Lock held. NULL only when out of memory. */
static topic_log *get_or_create_topic(const char *name) {
    topic_log *t = find_topic(name);
    if (t != NULL)
        return t;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->name = strdup(name);
    if (t->name == NULL) {
        free(t);
        return NULL;
    }
    t->next = g_topics;
    g_topics = t;
    return t;
}

static void drop_oldest_half(topic_log *t) {
    size_t half = t->len / 2, i;
    for (i = 0; i < half; i++) {
        free(t->records[i].key);
        free(t->records[i].value);
    }
    memmove(t->records, t->records + half, (t->len - half) * sizeof(record));
    t->len -= half;
    t->base += (int64_t)half;
}

/* A copy of borrowed bytes (the ABI lends inputs for the call only). A zero-length,
   non-NULL part stays non-NULL: in Kafka an empty value is not a null value. */
static int copy_part(const uint8_t *p, size_t len, uint8_t **out) {
    *out = NULL;
    if (p == NULL)
        return 1;
    *out = malloc(len > 0 ? len : 1);
    if (*out == NULL)
        return 0;
    if (len > 0)
        memcpy(*out, p, len);
    return 1;
}

static kmidi_producer *live_producer(const kmidi_producer *p) {
    kmidi_producer *q;
    for (q = g_producers; q != NULL; q = q->next_live)
        if (q == p)
            return q;
    return NULL;
}

static kmidi_consumer *live_consumer(const kmidi_consumer *c) {
    kmidi_consumer *q;
    for (q = g_consumers; q != NULL; q = q->next_live)
        if (q == c)
            return q;
    return NULL;
}

/* ---------------------------------------------------------- client config */

static int ascii_ieq(const char *a, const char *b) {
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return 0;
    }
    return *a == *b;
}

/* Checks the properties every constructor and admin call receives: the host's
   bootstrap.servers, its defaults (e.g. fetch.wait.max.ms in the demo) and the
   user's -X / --config pairs. The rule (PLUGINS.md, "Config keys"): refuse what the
   library would refuse or what cannot be honoured safely, ignore the rest. */
static int32_t check_config(const kmidi_kv *config, size_t n, char *errbuf, size_t errlen) {
    size_t i;
    if (n > 0 && config == NULL)
        return say(errbuf, errlen, KMIDI_INVALID_ARG, "config is NULL but n_config is %zu", n);
    for (i = 0; i < n; i++) {
        const char *key = config[i].key, *value = config[i].value;
        if (key == NULL || key[0] == '\0')
            return say(errbuf, errlen, KMIDI_INVALID_ARG, "config entry %zu has no key", i);
        if (value == NULL)
            return say(errbuf, errlen, KMIDI_INVALID_ARG, "config \"%s\" has a NULL value",
                       key);
        /* Ignoring a security setting would quietly connect with less security than
           the user asked for: the one kind of key a plugin must refuse when it
           cannot honour it. (Never quote the value of a secret key in an error.) */
        if (strcmp(key, "security.protocol") == 0 && !ascii_ieq(value, "plaintext"))
            return say(errbuf, errlen, KMIDI_INVALID_ARG,
                       "config \"security.protocol\" is %s: the " TEMPLATE_NAME
                       " loopback has no TLS or SASL",
                       value);
        /* REAL CLIENT: translate the key here: bootstrap.servers -> your seed
           brokers, client.id, linger.ms, fetch.wait.max.ms, sasl.* ... Hand keys to
           a library that validates its own (librdkafka does) and pass on its
           refusal as KMIDI_INVALID_ARG. The loopback needs none of them. */
    }
    return KMIDI_OK;
}

/* --------------------------------------------------------------- producer */

static int32_t tpl_producer_new(const kmidi_kv *config, size_t n_config, kmidi_producer **out,
                                char *errbuf, size_t errlen) {
    kmidi_producer *p;
    int32_t rc;
    if (out == NULL)
        return say(errbuf, errlen, KMIDI_INVALID_ARG, "producer_new: out is NULL");
    *out = NULL;
    pthread_once(&g_once, init_once);
    if (!g_ready)
        return say(errbuf, errlen, KMIDI_ERROR, "cannot initialise the loopback's condvar");
    if ((rc = check_config(config, n_config, errbuf, errlen)) != KMIDI_OK)
        return rc;
    /* REAL CLIENT: create the producer here, with your music defaults unless the
       user set them (linger.ms=0, idempotence on): the host sets none for plugins.
       Start any delivery-report thread here. Do not wait for the cluster: the host
       abandons a constructor after 30 s, and a client that connects lazily reports
       an unreachable cluster later, through flush and delivery failures. */
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return say(errbuf, errlen, KMIDI_ERROR, "out of memory");
    pthread_mutex_lock(&g_lock);
    p->next_live = g_producers;
    g_producers = p;
    pthread_mutex_unlock(&g_lock);
    *out = p;
    return KMIDI_OK;
}

static int32_t tpl_produce(kmidi_producer *handle, const char *topic, const uint8_t *key,
                           size_t key_len, const uint8_t *value, size_t value_len) {
    kmidi_producer *p;
    topic_log *t;
    record r;
    int32_t rc = KMIDI_OK;
    pthread_mutex_lock(&g_lock);
    if ((p = live_producer(handle)) == NULL) {
        pthread_mutex_unlock(&g_lock);
        return KMIDI_INVALID_ARG;
    }
    p->err[0] = '\0';
    if (topic == NULL || topic[0] == '\0') {
        rc = say(p->err, ERR_LEN, KMIDI_INVALID_ARG, "produce: no topic");
        goto out;
    }
    if ((key == NULL && key_len > 0) || (value == NULL && value_len > 0)) {
        rc = say(p->err, ERR_LEN, KMIDI_INVALID_ARG, "produce: NULL key or value with a length");
        goto out;
    }
    if (key_len > MAX_RECORD_BYTES || value_len > MAX_RECORD_BYTES) {
        rc = say(p->err, ERR_LEN, KMIDI_INVALID_ARG,
                 "produce: a key or value of more than %zu bytes", MAX_RECORD_BYTES);
        goto out;
    }
    /* REAL CLIENT: hand the record to the client's queue and return at once. This
       runs on the player's scheduling thread at each note's deadline: never wait for
       the broker here (at most a few seconds when the client's local queue is full).
       The outcome arrives later, through producer_take_failure and producer_stats. */
    t = get_or_create_topic(topic);
    if (t == NULL) {
        rc = say(p->err, ERR_LEN, KMIDI_ERROR, "produce: out of memory");
        goto out;
    }
    if (t->len == MAX_RECORDS_PER_TOPIC)
        drop_oldest_half(t);
    if (t->len == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        record *grown = realloc(t->records, cap * sizeof(record));
        if (grown == NULL) {
            rc = say(p->err, ERR_LEN, KMIDI_ERROR, "produce: out of memory");
            goto out;
        }
        t->records = grown;
        t->cap = cap;
    }
    r.timestamp_ms = now_ms(CLOCK_REALTIME);
    r.key_len = key_len;
    r.value_len = value_len;
    if (!copy_part(key, key_len, &r.key) || !copy_part(value, value_len, &r.value)) {
        free(r.key);
        rc = say(p->err, ERR_LEN, KMIDI_ERROR, "produce: out of memory");
        goto out;
    }
    t->records[t->len++] = r;
    p->sent++;
    p->delivered++; /* the loopback delivers at once */
    pthread_cond_broadcast(&g_arrived);
out:
    pthread_mutex_unlock(&g_lock);
    return rc;
}

static int32_t tpl_flush(kmidi_producer *handle, int32_t timeout_ms) {
    kmidi_producer *p;
    int32_t rc = KMIDI_OK;
    pthread_mutex_lock(&g_lock);
    if ((p = live_producer(handle)) == NULL) {
        pthread_mutex_unlock(&g_lock);
        return KMIDI_INVALID_ARG;
    }
    p->err[0] = '\0';
    if (timeout_ms < 0)
        rc = say(p->err, ERR_LEN, KMIDI_INVALID_ARG, "flush: negative timeout %d",
                 (int)timeout_ms);
    /* REAL CLIENT: wait until every queued record is delivered or failed, at most
       timeout_ms, then return KMIDI_TIMEOUT if some are still queued. Honour the
       timeout: the host gives up 5 s after it and never uses the producer again.
       The loopback has nothing in flight. */
    pthread_mutex_unlock(&g_lock);
    return rc;
}

static int32_t tpl_producer_stats(kmidi_producer *handle, kmidi_producer_stats *out) {
    kmidi_producer *p;
    pthread_mutex_lock(&g_lock);
    if ((p = live_producer(handle)) == NULL) {
        pthread_mutex_unlock(&g_lock);
        return KMIDI_INVALID_ARG;
    }
    if (out == NULL) {
        say(p->err, ERR_LEN, KMIDI_INVALID_ARG, "producer_stats: out is NULL");
        pthread_mutex_unlock(&g_lock);
        return KMIDI_INVALID_ARG;
    }
    p->err[0] = '\0';
    out->sent = p->sent;
    out->delivered = p->delivered;
    out->failed = 0;
    pthread_mutex_unlock(&g_lock);
    return KMIDI_OK;
}

static int32_t tpl_producer_take_failure(kmidi_producer *handle, const char **error) {
    kmidi_producer *p;
    pthread_mutex_lock(&g_lock);
    if ((p = live_producer(handle)) == NULL) {
        pthread_mutex_unlock(&g_lock);
        return KMIDI_INVALID_ARG;
    }
    if (error == NULL) {
        say(p->err, ERR_LEN, KMIDI_INVALID_ARG, "producer_take_failure: error is NULL");
        pthread_mutex_unlock(&g_lock);
        return KMIDI_INVALID_ARG;
    }
    p->err[0] = '\0';
    *error = NULL;
    /* REAL CLIENT: pop one failed delivery's text (from your delivery-report
       callback's queue) into a buffer the handle owns, point *error at it and return
       KMIDI_OK; it must stay valid until the next call on this producer. The host
       calls this after every note, on the scheduling thread: keep it quick. */
    pthread_mutex_unlock(&g_lock);
    return KMIDI_TIMEOUT; /* none left */
}

static const char *tpl_producer_last_error(kmidi_producer *handle) {
    kmidi_producer *p;
    const char *text;
    pthread_mutex_lock(&g_lock);
    p = live_producer(handle);
    /* The text lives in the handle, so it stays valid until the next call on it. */
    text = p == NULL ? TEMPLATE_NAME ": not a live producer handle"
                     : (p->err[0] != '\0' ? p->err : NULL);
    pthread_mutex_unlock(&g_lock);
    return text;
}

static void tpl_producer_free(kmidi_producer *handle) {
    kmidi_producer **link;
    int found = 0;
    pthread_mutex_lock(&g_lock);
    for (link = &g_producers; *link != NULL; link = &(*link)->next_live)
        if (*link == handle) {
            *link = handle->next_live;
            found = 1;
            break;
        }
    pthread_mutex_unlock(&g_lock);
    if (!found)
        return; /* NULL, foreign or already freed: nothing of ours to free */
    /* REAL CLIENT: flush briefly (a second or two), purge the rest, join every
       thread started for this producer, destroy the client. The host does not bound
       this call, so bound it yourself. */
    free(handle);
}

/* --------------------------------------------------------------- consumer */

static void consumer_destroy(kmidi_consumer *c) {
    size_t i;
    if (c->names != NULL)
        for (i = 0; i < c->n_topics; i++)
            free(c->names[i]);
    free(c->names);
    free(c->logs);
    free(c->positions);
    free(c->msg_buf);
    free(c);
}

static int32_t tpl_consumer_new(const kmidi_kv *config, size_t n_config, const char *group,
                                const char *const *topics, size_t n_topics, int32_t offset_reset,
                                kmidi_consumer **out, char *errbuf, size_t errlen) {
    kmidi_consumer *c;
    size_t i;
    int32_t rc;
    /* The loopback has no consumer groups (KMIDI_CAP_CONSUMER_GROUPS is not set):
       every consumer reads every record, and the group name changes nothing.
       REAL CLIENT with groups: join `group` here (it wins over a group.id in config);
       the host always passes a non-empty one. */
    (void)group;
    if (out == NULL)
        return say(errbuf, errlen, KMIDI_INVALID_ARG, "consumer_new: out is NULL");
    *out = NULL;
    if (topics == NULL || n_topics == 0)
        return say(errbuf, errlen, KMIDI_INVALID_ARG, "consumer_new: no topics");
    for (i = 0; i < n_topics; i++)
        if (topics[i] == NULL || topics[i][0] == '\0')
            return say(errbuf, errlen, KMIDI_INVALID_ARG, "consumer_new: topic %zu is empty", i);
    if (offset_reset != KMIDI_OFFSET_LATEST && offset_reset != KMIDI_OFFSET_EARLIEST)
        return say(errbuf, errlen, KMIDI_INVALID_ARG, "consumer_new: offset_reset %d",
                   (int)offset_reset);
    pthread_once(&g_once, init_once);
    if (!g_ready)
        return say(errbuf, errlen, KMIDI_ERROR, "cannot initialise the loopback's condvar");
    if ((rc = check_config(config, n_config, errbuf, errlen)) != KMIDI_OK)
        return rc;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return say(errbuf, errlen, KMIDI_ERROR, "out of memory");
    c->n_topics = n_topics;
    c->names = calloc(n_topics, sizeof(char *));
    c->logs = calloc(n_topics, sizeof(topic_log *));
    c->positions = calloc(n_topics, sizeof(int64_t));
    c->msg_cap = 256;
    c->msg_buf = malloc(c->msg_cap);
    if (c->names == NULL || c->logs == NULL || c->positions == NULL || c->msg_buf == NULL) {
        consumer_destroy(c);
        return say(errbuf, errlen, KMIDI_ERROR, "out of memory");
    }
    for (i = 0; i < n_topics; i++)
        if ((c->names[i] = strdup(topics[i])) == NULL) {
            consumer_destroy(c);
            return say(errbuf, errlen, KMIDI_ERROR, "out of memory");
        }
    pthread_mutex_lock(&g_lock);
    /* A topic that does not exist yet is looked up again at each poll, and read
       from its start: all of it was produced after this subscription. */
    for (i = 0; i < n_topics; i++) {
        topic_log *t = find_topic(c->names[i]);
        c->logs[i] = t;
        if (t != NULL)
            c->positions[i] =
                offset_reset == KMIDI_OFFSET_LATEST ? t->base + (int64_t)t->len : t->base;
    }
    /* REAL CLIENT: create the consumer and subscribe here, without waiting for the
       group's assignment (the host abandons a constructor after 30 s). */
    c->next_live = g_consumers;
    g_consumers = c;
    pthread_mutex_unlock(&g_lock);
    *out = c;
    return KMIDI_OK;
}

/* Lock held. Copies the next record for c, if any, into c's own buffer and fills
   *out. 1: filled; 0: nothing new; -1: out of memory. The copy is the point: once
   the lock is released another thread's produce may move or drop the log's
   records, while the message must stay valid until c's next poll. */
static int take_next(kmidi_consumer *c, kmidi_message *out) {
    size_t k;
    for (k = 0; k < c->n_topics; k++) {
        size_t i = (c->next_topic + k) % c->n_topics;
        topic_log *t = c->logs[i];
        const record *r;
        size_t need;
        if (t == NULL && (t = c->logs[i] = find_topic(c->names[i])) != NULL)
            c->positions[i] = t->base;
        if (t == NULL)
            continue;
        /* Records dropped by the loopback's retention are skipped, as a broker's
           retention would skip them; kmidi reports them as lost. */
        if (c->positions[i] < t->base)
            c->positions[i] = t->base;
        if (c->positions[i] >= t->base + (int64_t)t->len)
            continue;
        r = &t->records[c->positions[i] - t->base];
        need = r->key_len + r->value_len;
        if (need > c->msg_cap) {
            uint8_t *grown = realloc(c->msg_buf, need);
            if (grown == NULL)
                return -1;
            c->msg_buf = grown;
            c->msg_cap = need;
        }
        if (r->key_len > 0)
            memcpy(c->msg_buf, r->key, r->key_len);
        if (r->value_len > 0)
            memcpy(c->msg_buf + r->key_len, r->value, r->value_len);
        out->topic = c->names[i];
        out->partition = 0;
        out->offset = c->positions[i];
        out->key = r->key != NULL ? c->msg_buf : NULL;
        out->key_len = r->key_len;
        out->value = r->value != NULL ? c->msg_buf + r->key_len : NULL;
        out->value_len = r->value_len;
        out->timestamp_ms = r->timestamp_ms;
        c->positions[i]++;
        c->next_topic = (i + 1) % c->n_topics;
        return 1;
    }
    return 0;
}

static int32_t tpl_poll(kmidi_consumer *handle, int32_t timeout_ms, kmidi_message *out) {
    kmidi_consumer *c;
    struct timespec deadline;
    int64_t end_ms;
    int32_t rc = KMIDI_TIMEOUT;
    pthread_mutex_lock(&g_lock);
    if ((c = live_consumer(handle)) == NULL) {
        pthread_mutex_unlock(&g_lock);
        return KMIDI_INVALID_ARG;
    }
    c->err[0] = '\0';
    if (out == NULL) {
        rc = say(c->err, ERR_LEN, KMIDI_INVALID_ARG, "poll: out is NULL");
        goto out;
    }
    if (timeout_ms < 0) {
        rc = say(c->err, ERR_LEN, KMIDI_INVALID_ARG, "poll: negative timeout %d",
                 (int)timeout_ms);
        goto out;
    }
    /* REAL CLIENT: one bounded poll of your client. On a record, keep it (or a copy)
       in the handle until the next poll or consumer_free and point *out into it;
       on nothing, KMIDI_TIMEOUT; on an error the client retries by itself (broker
       down, rebalance), KMIDI_TRANSIENT, at most every few seconds (the host warns
       at each); on anything else, KMIDI_ERROR: it ends the instrument. Runs on the
       instrument's hot path every 50 ms: do not block past timeout_ms. */
    end_ms = now_ms(CLOCK_MONOTONIC) + timeout_ms;
    deadline.tv_sec = (time_t)(end_ms / 1000);
    deadline.tv_nsec = (long)(end_ms % 1000) * 1000000L;
    for (;;) {
        int got = take_next(c, out);
        if (got > 0) {
            rc = KMIDI_OK;
            break;
        }
        if (got < 0) {
            rc = say(c->err, ERR_LEN, KMIDI_ERROR, "poll: out of memory");
            break;
        }
        if (now_ms(CLOCK_MONOTONIC) >= end_ms)
            break; /* KMIDI_TIMEOUT */
        /* Spurious wake-ups and other topics' records just go round the loop. */
        pthread_cond_timedwait(&g_arrived, &g_lock, &deadline);
    }
out:
    pthread_mutex_unlock(&g_lock);
    return rc;
}

static int32_t tpl_commit(kmidi_consumer *handle) {
    kmidi_consumer *c;
    pthread_mutex_lock(&g_lock);
    if ((c = live_consumer(handle)) == NULL) {
        pthread_mutex_unlock(&g_lock);
        return KMIDI_INVALID_ARG;
    }
    c->err[0] = '\0';
    /* REAL CLIENT: commit what poll handed out, synchronously, bounded by a few
       seconds of your own (the host calls it once, after listening, without a
       watchdog). Without groups there is nothing to commit: return KMIDI_OK. */
    pthread_mutex_unlock(&g_lock);
    return KMIDI_OK;
}

static const char *tpl_consumer_last_error(kmidi_consumer *handle) {
    kmidi_consumer *c;
    const char *text;
    pthread_mutex_lock(&g_lock);
    c = live_consumer(handle);
    text = c == NULL ? TEMPLATE_NAME ": not a live consumer handle"
                     : (c->err[0] != '\0' ? c->err : NULL);
    pthread_mutex_unlock(&g_lock);
    return text;
}

static void tpl_consumer_free(kmidi_consumer *handle) {
    kmidi_consumer **link;
    int found = 0;
    pthread_mutex_lock(&g_lock);
    for (link = &g_consumers; *link != NULL; link = &(*link)->next_live)
        if (*link == handle) {
            *link = handle->next_live;
            found = 1;
            break;
        }
    pthread_mutex_unlock(&g_lock);
    if (!found)
        return; /* NULL, foreign or already freed: nothing of ours to free */
    /* REAL CLIENT: leave the group and close, bounded by a few seconds (the host
       does not bound this call), and join the consumer's threads. */
    consumer_destroy(handle);
}

/* ------------------------------------------------------------------ admin */

static int32_t tpl_topic_partitions(const kmidi_kv *config, size_t n_config, const char *topic,
                                    int32_t timeout_ms, int32_t *partitions, char *errbuf,
                                    size_t errlen) {
    topic_log *t;
    int32_t rc;
    if (partitions == NULL)
        return say(errbuf, errlen, KMIDI_INVALID_ARG, "topic_partitions: partitions is NULL");
    *partitions = -1;
    if (topic == NULL || topic[0] == '\0')
        return say(errbuf, errlen, KMIDI_INVALID_ARG, "topic_partitions: no topic");
    if (timeout_ms < 0)
        return say(errbuf, errlen, KMIDI_INVALID_ARG, "topic_partitions: negative timeout");
    if ((rc = check_config(config, n_config, errbuf, errlen)) != KMIDI_OK)
        return rc;
    /* REAL CLIENT: fetch metadata within timeout_ms without creating the topic;
       -1 if it does not exist; KMIDI_TIMEOUT (with the client's reason in errbuf)
       if the cluster did not answer: the host turns that into "cannot reach Kafka
       at ...". `kmidi player` and `kmidi instrument` call this first, every run. */
    pthread_mutex_lock(&g_lock);
    t = find_topic(topic);
    *partitions = t != NULL ? 1 : -1;
    pthread_mutex_unlock(&g_lock);
    return KMIDI_OK;
}

static int32_t tpl_create_topic(const kmidi_kv *config, size_t n_config, const char *topic,
                                int32_t partitions, int32_t replication_factor,
                                const kmidi_kv *topic_config, size_t n_topic_config,
                                int32_t timeout_ms, char *errbuf, size_t errlen) {
    int32_t rc;
    size_t i;
    if (topic == NULL || topic[0] == '\0')
        return say(errbuf, errlen, KMIDI_INVALID_ARG, "create_topic: no topic");
    if (partitions < 1 || replication_factor < 1 || timeout_ms < 0)
        return say(errbuf, errlen, KMIDI_INVALID_ARG,
                   "create_topic: partitions %d, replication factor %d, timeout %d",
                   (int)partitions, (int)replication_factor, (int)timeout_ms);
    if ((rc = check_config(config, n_config, errbuf, errlen)) != KMIDI_OK)
        return rc;
    if (n_topic_config > 0 && topic_config == NULL)
        return say(errbuf, errlen, KMIDI_INVALID_ARG, "create_topic: topic_config is NULL");
    for (i = 0; i < n_topic_config; i++)
        if (topic_config[i].key == NULL || topic_config[i].value == NULL)
            return say(errbuf, errlen, KMIDI_INVALID_ARG,
                       "create_topic: topic config %zu is NULL", i);
    if (partitions != 1)
        return say(errbuf, errlen, KMIDI_ERROR,
                   "the " TEMPLATE_NAME " loopback has one partition per topic, not %d",
                   (int)partitions);
    /* REAL CLIENT: create the topic with topic_config (e.g. retention.ms=5000),
       waiting at most timeout_ms: KMIDI_TIMEOUT if the cluster did not answer,
       KMIDI_ERROR with the broker's text otherwise ("already exists" included). The
       loopback keeps no topic configs. */
    pthread_mutex_lock(&g_lock);
    if (find_topic(topic) != NULL)
        rc = say(errbuf, errlen, KMIDI_ERROR, "topic \"%s\" already exists", topic);
    else if (get_or_create_topic(topic) == NULL)
        rc = say(errbuf, errlen, KMIDI_ERROR, "out of memory");
    pthread_mutex_unlock(&g_lock);
    return rc;
}

/* ------------------------------------------------------------- the table */

static const kmidi_transport_table TABLE = {
    .magic = KMIDI_TRANSPORT_MAGIC,
    .abi_version = KMIDI_TRANSPORT_ABI_VERSION,
    /* As this file was compiled: a host built against a longer header reads only
       this much, and one built against a shorter header reads only its prefix. */
    .struct_size = (uint32_t)sizeof(kmidi_transport_table),
    .reserved = 0,
    .name = TEMPLATE_NAME,
    .library = TEMPLATE_LIBRARY,
    .library_version = TEMPLATE_VERSION,
    /* Claim only what is true. Timestamps: poll sets timestamp_ms. No
       KMIDI_CAP_CONSUMER_GROUPS: that bit makes `kmidi demo` and `compare` wait for
       a group assignment this ABI cannot report. */
    .capabilities = KMIDI_CAP_TIMESTAMPS,
    .producer_new = tpl_producer_new,
    .produce = tpl_produce,
    .flush = tpl_flush,
    .producer_stats = tpl_producer_stats,
    .producer_take_failure = tpl_producer_take_failure,
    .producer_last_error = tpl_producer_last_error,
    .producer_free = tpl_producer_free,
    .consumer_new = tpl_consumer_new,
    .poll = tpl_poll,
    .commit = tpl_commit,
    .consumer_last_error = tpl_consumer_last_error,
    .consumer_free = tpl_consumer_free,
    .topic_partitions = tpl_topic_partitions,
    .create_topic = tpl_create_topic,
    /* The optional entries appended after create_topic (consumer_assignment,
       producer_settings, consumer_settings, partition_leaders) are left NULL: the
       loopback has no group, no tuning knobs and no brokers to report. PLUGINS.md
       says what the host does without each; c-rdkafka fills them all. */
};

/* The one exported symbol. The host may call it more than once (listing, then
   loading): it must be cheap, idempotent and thread-safe, and must not connect to
   anything. */
KMIDI_EXPORT const kmidi_transport_table *kmidi_transport_v1(uint32_t host_abi_version) {
    /* Version 0 does not exist; a newer host calling this v1 symbol still reads a
       v1 table (tables only grow), so serve any host_abi_version >= 1. */
    if (host_abi_version < KMIDI_TRANSPORT_ABI_VERSION)
        return NULL;
    pthread_once(&g_once, init_once);
    return g_ready ? &TABLE : NULL;
}
