/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * The consumer. Besides subscribe/poll/commit it owns the mapping from librdkafka's
 * errors to kmidi's codes (transient vs fatal), which is what lets the host tell a
 * quiet topic from a dead cluster. Its state is touched on the host's thread only
 * (but for the one atomic flag of group.c's KIP-848 watch), so unlike the producer
 * it needs no lock. What the consumer knows about its group (assignment, settings,
 * KIP-848) is group.c.
 */

#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

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

int32_t kmidi_crd_consumer_new(const kmidi_kv *config, size_t n_config, const char *group,
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
        kmidi_crd_write_err(errbuf, errlen, "consumer_new: NULL out");
        return KMIDI_INVALID_ARG;
    }
    *out = NULL;
    if (topics == NULL || n_topics == 0) {
        kmidi_crd_write_err(errbuf, errlen, "consumer_new: no topics to subscribe to");
        return KMIDI_INVALID_ARG;
    }
    for (i = 0; i < n_topics; i++)
        if (topics[i] == NULL || topics[i][0] == '\0') {
            kmidi_crd_write_err(errbuf, errlen, "consumer_new: topic %zu is NULL or empty", i);
            return KMIDI_INVALID_ARG;
        }
    if (offset_reset != KMIDI_OFFSET_EARLIEST && offset_reset != KMIDI_OFFSET_LATEST) {
        kmidi_crd_write_err(errbuf, errlen,
                            "consumer_new: offset_reset %d is neither LATEST (0) nor EARLIEST (1)",
                            (int)offset_reset);
        return KMIDI_INVALID_ARG;
    }
    conf = kmidi_crd_build_conf(defaults, config, n_config, errbuf, errlen, &rc);
    if (conf == NULL)
        return rc;
    /* The explicit arguments win over -X properties: they are what the user asked
       kmidi for. A NULL/empty group falls back to a group.id given in the config. */
    if (group != NULL && group[0] != '\0' &&
        (rc = kmidi_crd_set_prop(conf, "group.id", group, errbuf, errlen)) != KMIDI_OK)
        goto fail_conf;
    {
        char gid[8];
        size_t gl = sizeof(gid);
        if (rd_kafka_conf_get(conf, "group.id", gid, &gl) != RD_KAFKA_CONF_OK || gl <= 1) {
            kmidi_crd_write_err(errbuf, errlen,
                                "consumer_new: no consumer group (argument or group.id)");
            rc = KMIDI_INVALID_ARG;
            goto fail_conf;
        }
    }
    if ((rc = kmidi_crd_set_prop(conf, "auto.offset.reset",
                                 offset_reset == KMIDI_OFFSET_EARLIEST ? "earliest" : "latest",
                                 errbuf, errlen)) != KMIDI_OK)
        goto fail_conf;

    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        kmidi_crd_write_err(errbuf, errlen, "consumer_new: out of memory");
        rc = KMIDI_ERROR;
        goto fail_conf;
    }
    if ((rc = kmidi_crd_kip848_watch(c, conf, errbuf, errlen)) != KMIDI_OK) {
        free(c);
        goto fail_conf;
    }
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_error_cb(conf, consumer_error_cb);
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rderr, sizeof(rderr));
    if (c->rk == NULL) {
        free(c);
        kmidi_crd_write_err(errbuf, errlen, "rd_kafka_new(consumer): %s", rderr);
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
        kmidi_crd_write_err(errbuf, errlen, "subscribe: %s", rd_kafka_err2str(err));
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

int32_t kmidi_crd_poll(kmidi_consumer *c, int32_t timeout_ms, kmidi_message *out) {
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
        kmidi_crd_set_cerr(c, "poll: NULL out or negative timeout");
        return KMIDI_INVALID_ARG;
    }
    m = rd_kafka_consumer_poll(c->rk, timeout_ms);
    if (m == NULL && kmidi_crd_kip848_missing(c))
        return KMIDI_ERROR;
    if (m == NULL) {
        if (c->pending_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_resp_err_t err = c->pending_err;
            c->pending_err = RD_KAFKA_RESP_ERR_NO_ERROR;
            if (err == RD_KAFKA_RESP_ERR__FATAL) {
                char reason[256];
                rd_kafka_resp_err_t ferr = rd_kafka_fatal_error(c->rk, reason, sizeof(reason));
                if (!kmidi_crd_kip848_explain(c, ferr, reason))
                    kmidi_crd_set_cerr(c, "fatal consumer error %s: %s", rd_kafka_err2name(ferr),
                                       reason);
                return KMIDI_ERROR;
            }
            kmidi_crd_set_cerr(c, "%s (%s)", c->pending_text, rd_kafka_err2name(err));
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
            kmidi_crd_set_cerr(c, "%s [%d]: %s (%s)", rd_kafka_topic_name(m->rkt),
                               (int)m->partition, rd_kafka_message_errstr(m),
                               rd_kafka_err2name(m->err));
        else
            kmidi_crd_set_cerr(c, "%s (%s)", rd_kafka_message_errstr(m),
                               rd_kafka_err2name(m->err));
        rd_kafka_message_destroy(m);
        return rc;
    }
    c->held = m;
    kmidi_crd_kip848_joined(c);
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

int32_t kmidi_crd_commit(kmidi_consumer *c) {
    rd_kafka_resp_err_t err;
    if (c == NULL)
        return KMIDI_INVALID_ARG;
    /* NULL offsets: the current positions of the whole assignment, synchronously. */
    err = rd_kafka_commit(c->rk, NULL, 0);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return KMIDI_OK; /* nothing consumed since the last commit is not a failure */
    kmidi_crd_set_cerr(c, "commit: %s", rd_kafka_err2str(err));
    return KMIDI_ERROR;
}

const char *kmidi_crd_consumer_last_error(kmidi_consumer *c) {
    return c != NULL ? c->last_error : "NULL consumer";
}

/* Upper bound on leaving the group in consumer_free: rd_kafka_consumer_close can
   otherwise wait a long time when the coordinator is unreachable. */
#define CLOSE_WAIT_MS 5000

void kmidi_crd_consumer_free(kmidi_consumer *c) {
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
        int64_t deadline = kmidi_crd_now_ms() + CLOSE_WAIT_MS;
        while (!rd_kafka_consumer_closed(c->rk) && kmidi_crd_now_ms() < deadline) {
            rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 100);
            if (ev != NULL)
                rd_kafka_event_destroy(ev);
        }
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy_flags(c->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    free(c->assigned_topics);
    free(c);
}
