/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * What a consumer knows about its group, apart from consuming: the assignment and
 * the effective settings the host shows in `compare`, and the watch for a broker
 * without KIP-848 when group.protocol=consumer is asked for.
 */

#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

/* What librdkafka 2.12 does with group.protocol=consumer on a broker that does not
   offer ConsumerGroupHeartbeat (Kafka 3.9 and older): it never sends the request,
   marks the coordinator dead, looks it up again and retries, forever. Nothing reaches
   the application: no error_cb, no fatal error, no message; poll just times out and
   the assignment stays empty. Its only trace is this debug line of the "cgrp"
   context (facility COORD):
     Group "g": marking the coordinator (1) dead: Local: Required feature not
     supported by broker: ConsumerGroupHeartbeatRequest not supported by broker
   so the watch turns that context on and listens for it. */
#define KIP848_SIGN "ConsumerGroupHeartbeatRequest not supported by broker"

#define KIP848_ADVICE                                                                   \
    "group.protocol=consumer needs a broker with the KIP-848 consumer group protocol " \
    "(Apache Kafka 4.0 or newer), which this cluster does not offer: use "            \
    "group.protocol=classic"

/* Called on librdkafka's own threads (log.queue is not set): only the atomic flag
   and the reason written just before it are shared with the polling thread. */
static void consumer_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    kmidi_consumer *c = rd_kafka_opaque(rk);
    if (c == NULL) {
        rd_kafka_log_print(rk, level, fac, buf);
        return;
    }
    if (level == LOG_DEBUG && strcmp(fac, "COORD") == 0 && strstr(buf, KIP848_SIGN) != NULL &&
        atomic_load(&c->kip848_missing) == 0) {
        const char *what = strstr(buf, "Local:");
        snprintf(c->kip848_reason, sizeof(c->kip848_reason), "%s", what != NULL ? what : buf);
        atomic_store(&c->kip848_missing, 1);
    }
    /* The debug lines the watch turned on are the plugin's business; everything the
       user would have seen without it is printed as librdkafka would have. */
    if (c->user_debug || level <= c->user_log_level)
        rd_kafka_log_print(rk, level, fac, buf);
}

/* Before rd_kafka_new, on the conf that creates c->rk. */
int32_t kmidi_crd_kip848_watch(kmidi_consumer *c, rd_kafka_conf_t *conf, char *errbuf,
                               size_t errlen) {
    char value[256];
    size_t len = sizeof(value);
    atomic_init(&c->kip848_missing, 0);
    c->consumer_protocol = rd_kafka_conf_get(conf, "group.protocol", value, &len) ==
                               RD_KAFKA_CONF_OK &&
                           strcmp(value, "consumer") == 0;
    if (!c->consumer_protocol)
        return KMIDI_OK;
    len = sizeof(value);
    c->user_log_level =
        rd_kafka_conf_get(conf, "log_level", value, &len) == RD_KAFKA_CONF_OK ? atoi(value)
                                                                               : LOG_INFO;
    len = sizeof(value);
    if (rd_kafka_conf_get(conf, "debug", value, &len) != RD_KAFKA_CONF_OK)
        value[0] = '\0';
    c->user_debug = value[0] != '\0';
    if (c->user_debug && strlen(value) + sizeof(",cgrp") <= sizeof(value))
        strcat(value, ",cgrp");
    else
        snprintf(value, sizeof(value), "cgrp");
    rd_kafka_conf_set_log_cb(conf, consumer_log_cb);
    c->watching = 1;
    return kmidi_crd_set_prop(conf, "debug", value, errbuf, errlen);
}

/* Once records flow the group protocol is evidently served: stop formatting the
   watch's debug lines (a few per heartbeat) so it costs nothing while playing. */
void kmidi_crd_kip848_joined(kmidi_consumer *c) {
    if (c->watching && !c->user_debug) {
        rd_kafka_set_log_level(c->rk, c->user_log_level);
        c->watching = 0;
    }
}

int kmidi_crd_kip848_missing(kmidi_consumer *c) {
    if (atomic_load(&c->kip848_missing) == 0)
        return 0;
    kmidi_crd_set_cerr(c, KIP848_ADVICE " (librdkafka: %s)", c->kip848_reason);
    return 1;
}

/* A broker that does offer the API but refuses this client's version of it ends in a
   fatal error instead; the advice is the same. */
int kmidi_crd_kip848_explain(kmidi_consumer *c, rd_kafka_resp_err_t err, const char *reason) {
    if (!c->consumer_protocol || (err != RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION &&
                                  err != RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE))
        return 0;
    kmidi_crd_set_cerr(c, KIP848_ADVICE " (librdkafka: %s, %s)", reason, rd_kafka_err2name(err));
    return 1;
}

/* No network: rd_kafka_assignment asks librdkafka's own group thread, which keeps the
   assignment it last heard from the coordinator. The plugin sets no rebalance
   callback, so librdkafka applies every change itself, eager or incremental
   (cooperative-sticky, or KIP-848's group.protocol=consumer), and the answer is
   always the whole current set. */
int32_t kmidi_crd_consumer_assignment(kmidi_consumer *c, kmidi_topic_partition *out, size_t cap,
                                      size_t *n_out) {
    rd_kafka_topic_partition_list_t *parts = NULL;
    rd_kafka_resp_err_t err;
    size_t n, i, bytes = 0;
    char *names;
    if (c == NULL)
        return KMIDI_INVALID_ARG;
    /* The strings handed out by the previous call were borrowed until this one. */
    free(c->assigned_topics);
    c->assigned_topics = NULL;
    if (n_out == NULL || (out == NULL && cap > 0)) {
        kmidi_crd_set_cerr(c, "consumer_assignment: NULL n_out, or NULL out with cap %zu", cap);
        return KMIDI_INVALID_ARG;
    }
    err = rd_kafka_assignment(c->rk, &parts);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        kmidi_crd_set_cerr(c, "consumer_assignment: %s", rd_kafka_err2str(err));
        return KMIDI_ERROR;
    }
    *n_out = n = (size_t)parts->cnt;
    if (n > cap)
        n = cap;
    for (i = 0; i < n; i++)
        bytes += strlen(parts->elems[i].topic) + 1;
    names = c->assigned_topics = malloc(bytes > 0 ? bytes : 1);
    if (names == NULL) {
        rd_kafka_topic_partition_list_destroy(parts);
        kmidi_crd_set_cerr(c, "consumer_assignment: out of memory");
        return KMIDI_ERROR;
    }
    for (i = 0; i < n; i++) {
        size_t len = strlen(parts->elems[i].topic) + 1;
        memcpy(names, parts->elems[i].topic, len);
        out[i].topic = names;
        out[i].partition = parts->elems[i].partition;
        names += len;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    return KMIDI_OK;
}

const char *kmidi_crd_consumer_settings(kmidi_consumer *c) {
    static const char *const classic[] = {"fetch.wait.max.ms",
                                          "fetch.min.bytes",
                                          "group.protocol",
                                          "partition.assignment.strategy",
                                          "session.timeout.ms",
                                          "heartbeat.interval.ms",
                                          NULL};
    /* With KIP-848 the broker owns assignment, session and heartbeat timing, and
       librdkafka refuses those three keys from the client: listing its unused
       defaults would mislead, and `compare --equalize` would pass them back. */
    static const char *const kip848[] = {"fetch.wait.max.ms", "fetch.min.bytes",
                                         "group.protocol", NULL};
    if (c == NULL)
        return NULL;
    return kmidi_crd_settings_text(c->rk, c->consumer_protocol ? kip848 : classic, c->settings,
                                   sizeof(c->settings));
}
