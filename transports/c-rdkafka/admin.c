/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * The two admin calls, topic_partitions and create_topic. Each opens and closes a
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

int32_t kmidi_crd_topic_partitions(const kmidi_kv *config, size_t n_config, const char *topic,
                                   int32_t timeout_ms, int32_t *partitions, char *errbuf,
                                   size_t errlen) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt;
    rd_kafka_resp_err_t err;
    rd_kafka_t *rk;
    int32_t rc;

    if (topic == NULL || topic[0] == '\0' || partitions == NULL || timeout_ms < 0) {
        kmidi_crd_write_err(errbuf, errlen,
                            "topic_partitions: NULL/empty topic, NULL out or negative timeout");
        return KMIDI_INVALID_ARG;
    }
    rk = admin_handle(config, n_config, errbuf, errlen, &rc);
    if (rk == NULL)
        return rc;
    rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (rkt == NULL) {
        kmidi_crd_write_err(errbuf, errlen, "topic %s: %s", topic,
                            rd_kafka_err2str(rd_kafka_last_error()));
        rd_kafka_destroy(rk);
        return KMIDI_ERROR;
    }
    err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT) {
        /* __TRANSPORT: no broker became usable within the timeout. */
        kmidi_crd_write_err(errbuf, errlen, "the cluster at %s did not answer within %d ms (%s)",
                            kmidi_crd_bootstrap_of(config, n_config), (int)timeout_ms,
                            rd_kafka_err2str(err));
        rc = KMIDI_TIMEOUT;
    } else if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        kmidi_crd_write_err(errbuf, errlen, "metadata for %s: %s", topic, rd_kafka_err2str(err));
        rc = KMIDI_ERROR;
    } else if (md->topic_cnt < 1 || strcmp(md->topics[0].topic, topic) != 0) {
        kmidi_crd_write_err(errbuf, errlen, "metadata for %s: the broker did not return the topic",
                            topic);
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
        kmidi_crd_write_err(errbuf, errlen, "metadata for %s: %s", topic,
                            rd_kafka_err2str(md->topics[0].err));
        rc = KMIDI_ERROR;
    }
    if (md != NULL)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return rc;
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
