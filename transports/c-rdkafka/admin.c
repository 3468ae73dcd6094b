/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * The admin calls: topic_partitions, partition_leaders (both from the topic's
 * metadata) and create_topic. Each opens and closes a
 * short-lived handle of its own, so they share no state with a producer or consumer
 * the host may have open and can be called before either exists.
 */

#include "internal.h"

#include <string.h>

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
    rd_kafka_conf_t *conf = kmidi_crd_build_conf(defaults, config, n_config, errbuf, errlen, rc);
    if (conf == NULL)
        return NULL;
    rd_kafka_conf_set_error_cb(conf, quiet_error_cb);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rderr, sizeof(rderr));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        kmidi_crd_write_err(errbuf, errlen, "rd_kafka_new(admin): %s", rderr);
        *rc = KMIDI_ERROR;
    }
    return rk;
}

/* One topic's metadata, read through a short-lived handle (topic_metadata) and
   released with topic_md_release. After KMIDI_OK, topic is the topic's entry in md, or
   NULL when the topic does not exist. */
struct topic_md {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    const struct rd_kafka_metadata *md;
    const rd_kafka_metadata_topic_t *topic;
};

static void topic_md_release(struct topic_md *t) {
    if (t->md != NULL)
        rd_kafka_metadata_destroy(t->md);
    if (t->rkt != NULL)
        rd_kafka_topic_destroy(t->rkt);
    if (t->rk != NULL)
        rd_kafka_destroy(t->rk);
}

static int32_t topic_metadata(const kmidi_kv *config, size_t n_config, const char *topic,
                              int32_t timeout_ms, struct topic_md *t, char *errbuf,
                              size_t errlen) {
    rd_kafka_resp_err_t err;
    int32_t rc;

    memset(t, 0, sizeof(*t));
    t->rk = admin_handle(config, n_config, errbuf, errlen, &rc);
    if (t->rk == NULL)
        return rc;
    t->rkt = rd_kafka_topic_new(t->rk, topic, NULL);
    if (t->rkt == NULL) {
        kmidi_crd_write_err(errbuf, errlen, "topic %s: %s", topic,
                            rd_kafka_err2str(rd_kafka_last_error()));
        return KMIDI_ERROR;
    }
    err = rd_kafka_metadata(t->rk, 0, t->rkt, &t->md, timeout_ms);
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT) {
        /* __TRANSPORT: no broker became usable within the timeout. */
        kmidi_crd_write_err(errbuf, errlen, "the cluster at %s did not answer within %d ms (%s)",
                            kmidi_crd_bootstrap_of(config, n_config), (int)timeout_ms,
                            rd_kafka_err2str(err));
        return KMIDI_TIMEOUT;
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        kmidi_crd_write_err(errbuf, errlen, "metadata for %s: %s", topic, rd_kafka_err2str(err));
        return KMIDI_ERROR;
    }
    if (t->md->topic_cnt < 1 || strcmp(t->md->topics[0].topic, topic) != 0) {
        kmidi_crd_write_err(errbuf, errlen, "metadata for %s: the broker did not return the topic",
                            topic);
        return KMIDI_ERROR;
    }
    if (t->md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        return KMIDI_OK;
    if (t->md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR || t->md->topics[0].partition_cnt > 0) {
        /* A topic being created may briefly report LEADER_NOT_AVAILABLE with its
           partitions already listed: it exists. */
        t->topic = &t->md->topics[0];
        return KMIDI_OK;
    }
    kmidi_crd_write_err(errbuf, errlen, "metadata for %s: %s", topic,
                        rd_kafka_err2str(t->md->topics[0].err));
    return KMIDI_ERROR;
}

int32_t kmidi_crd_topic_partitions(const kmidi_kv *config, size_t n_config, const char *topic,
                                   int32_t timeout_ms, int32_t *partitions, char *errbuf,
                                   size_t errlen) {
    struct topic_md t;
    int32_t rc;

    if (topic == NULL || topic[0] == '\0' || partitions == NULL || timeout_ms < 0) {
        kmidi_crd_write_err(errbuf, errlen,
                            "topic_partitions: NULL/empty topic, NULL out or negative timeout");
        return KMIDI_INVALID_ARG;
    }
    rc = topic_metadata(config, n_config, topic, timeout_ms, &t, errbuf, errlen);
    if (rc == KMIDI_OK)
        *partitions = t.topic != NULL ? t.topic->partition_cnt : -1;
    topic_md_release(&t);
    return rc;
}

/* Appends ids to out's id buffer as far as it fits, counting them all (the host asks
   again with a bigger buffer when n_ids ends up past ids_cap); returns where they
   start. */
static size_t put_ids(kmidi_leadership *out, const int32_t *ids, int n) {
    size_t start = out->n_ids;
    int i;
    for (i = 0; i < n; i++, out->n_ids++)
        if (out->n_ids < out->ids_cap)
            out->ids[out->n_ids] = ids[i];
    return start;
}

int32_t kmidi_crd_partition_leaders(const kmidi_kv *config, size_t n_config, const char *topic,
                                    int32_t timeout_ms, kmidi_leadership *out, char *errbuf,
                                    size_t errlen) {
    struct topic_md t;
    int32_t rc;
    int i;

    if (topic == NULL || topic[0] == '\0' || out == NULL || timeout_ms < 0 ||
        (out->partitions == NULL && out->partitions_cap > 0) ||
        (out->brokers == NULL && out->brokers_cap > 0) || (out->ids == NULL && out->ids_cap > 0)) {
        kmidi_crd_write_err(errbuf, errlen,
                            "partition_leaders: NULL/empty topic, NULL out or buffer, or "
                            "negative timeout");
        return KMIDI_INVALID_ARG;
    }
    rc = topic_metadata(config, n_config, topic, timeout_ms, &t, errbuf, errlen);
    if (rc != KMIDI_OK) {
        topic_md_release(&t);
        return rc;
    }
    out->n_partitions = 0;
    out->n_brokers = 0;
    out->n_ids = 0;
    for (i = 0; i < t.md->broker_cnt; i++, out->n_brokers++)
        if (out->n_brokers < out->brokers_cap)
            out->brokers[out->n_brokers] = t.md->brokers[i].id;
    for (i = 0; t.topic != NULL && i < t.topic->partition_cnt; i++, out->n_partitions++) {
        const rd_kafka_metadata_partition_t *p = &t.topic->partitions[i];
        kmidi_partition_leader entry;
        entry.partition = p->id;
        /* librdkafka says -1 for a partition without a leader, as the ABI does. */
        entry.leader = p->leader >= 0 ? p->leader : -1;
        entry.n_replicas = p->replica_cnt > 0 ? (size_t)p->replica_cnt : 0;
        entry.replicas = put_ids(out, p->replicas, p->replica_cnt);
        entry.n_isr = p->isr_cnt > 0 ? (size_t)p->isr_cnt : 0;
        entry.isr = put_ids(out, p->isrs, p->isr_cnt);
        if (out->n_partitions < out->partitions_cap)
            out->partitions[out->n_partitions] = entry;
    }
    topic_md_release(&t);
    return KMIDI_OK;
}

int32_t kmidi_crd_create_topic(const kmidi_kv *config, size_t n_config, const char *topic,
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
        kmidi_crd_write_err(errbuf, errlen,
                            "create_topic: NULL/empty topic, NULL topic config or negative timeout");
        return KMIDI_INVALID_ARG;
    }
    nt = rd_kafka_NewTopic_new(topic, partitions, replication_factor, rderr, sizeof(rderr));
    if (nt == NULL) {
        kmidi_crd_write_err(errbuf, errlen, "create_topic %s: %s", topic, rderr);
        return KMIDI_INVALID_ARG;
    }
    for (i = 0; i < n_topic_config; i++) {
        rd_kafka_resp_err_t err;
        if (topic_config[i].key == NULL || topic_config[i].value == NULL) {
            kmidi_crd_write_err(errbuf, errlen, "create_topic %s: NULL topic config key or value",
                                topic);
            rd_kafka_NewTopic_destroy(nt);
            return KMIDI_INVALID_ARG;
        }
        err = rd_kafka_NewTopic_set_config(nt, topic_config[i].key, topic_config[i].value);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            kmidi_crd_write_err(errbuf, errlen, "create_topic %s: topic config \"%s\": %s", topic,
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
        kmidi_crd_write_err(errbuf, errlen,
                            "create_topic %s: the cluster at %s did not answer within %d ms",
                            topic, kmidi_crd_bootstrap_of(config, n_config), (int)timeout_ms);
        rc = KMIDI_TIMEOUT;
    } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
        int timed_out = err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT;
        kmidi_crd_write_err(errbuf, errlen, "create_topic %s%s: %s", topic,
                            timed_out ? ": the cluster did not answer in time" : "",
                            rd_kafka_event_error_string(ev));
        rc = timed_out ? KMIDI_TIMEOUT : KMIDI_ERROR;
    } else {
        size_t n = 0;
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        const rd_kafka_topic_result_t **tr =
            res != NULL ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;
        rc = KMIDI_OK;
        for (i = 0; i < n; i++) {
            rd_kafka_resp_err_t err = rd_kafka_topic_result_error(tr[i]);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
                continue;
            /* Already-exists is an error, like the built-in rdkafka transport: the
               caller asked for specific partitions and settings. */
            const char *detail = rd_kafka_topic_result_error_string(tr[i]);
            kmidi_crd_write_err(errbuf, errlen, "create_topic %s: %s%s",
                                rd_kafka_topic_result_name(tr[i]),
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
