/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Private to the c-rdkafka plugin, never installed or seen by the host: what its
 * .c files share. The helpers are the ones more than one part needs, and the entry
 * functions are declared here so kmidi_c_rdkafka.c can build the table while each
 * entry lives next to the state it manages. These were file-local statics when the
 * plugin was one file; now they are symbols of the .so, hence the kmidi_crd_ prefix
 * (nothing to clash with in librdkafka or the host) and the hidden visibility below.
 *
 * Include it first: it sets the POSIX level, which must precede every system header.
 */
#ifndef KMIDI_CRD_INTERNAL_H
#define KMIDI_CRD_INTERNAL_H

/* strdup, clock_gettime, pthreads: POSIX on top of C11. */
#define _POSIX_C_SOURCE 200809L

#include "kmidi_c_rdkafka.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

/* build.sh compiles with -fvisibility=hidden already; this keeps the names below
   out of the dynamic symbol table even for a build that forgets the flag, so the
   host only ever finds kmidi_transport_v1. */
#pragma GCC visibility push(hidden)

/* ------------------------------------------------- helpers (common.c) */

int64_t kmidi_crd_now_ms(void);
void kmidi_crd_write_err(char *buf, size_t len, const char *fmt, ...);
int kmidi_crd_set_prop(rd_kafka_conf_t *conf, const char *key, const char *value, char *errbuf,
                       size_t errlen);
rd_kafka_conf_t *kmidi_crd_build_conf(const char *const *defaults, const kmidi_kv *config,
                                      size_t n_config, char *errbuf, size_t errlen, int32_t *rc);
const char *kmidi_crd_bootstrap_of(const kmidi_kv *config, size_t n_config);
const char *kmidi_crd_settings_text(rd_kafka_t *rk, const char *const *keys, char *buf,
                                    size_t len);
/* Writes c->last_error (struct kmidi_consumer is below). */
void kmidi_crd_set_cerr(kmidi_consumer *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ----------------------------------------------- producer (producer.c) */

int32_t kmidi_crd_producer_new(const kmidi_kv *config, size_t n_config, kmidi_producer **out,
                               char *errbuf, size_t errlen);
int32_t kmidi_crd_produce(kmidi_producer *p, const char *topic, const uint8_t *key,
                          size_t key_len, const uint8_t *value, size_t value_len);
int32_t kmidi_crd_flush(kmidi_producer *p, int32_t timeout_ms);
int32_t kmidi_crd_producer_stats(kmidi_producer *p, kmidi_producer_stats *out);
int32_t kmidi_crd_producer_take_failure(kmidi_producer *p, const char **error);
const char *kmidi_crd_producer_last_error(kmidi_producer *p);
void kmidi_crd_producer_free(kmidi_producer *p);
const char *kmidi_crd_producer_settings(kmidi_producer *p);

/* -------------------------------------------- producer id (pid.c) */

/* Gets an idempotent producer its id as soon as a broker is up; stops at *stop. */
void kmidi_crd_prime_pid(rd_kafka_t *rk, const char *topic, atomic_bool *stop);

/* ----------------------------------------------- consumer (consumer.c) */

/* Here rather than in consumer.c because group.c shares it. */
struct kmidi_consumer {
    rd_kafka_t *rk;
    rd_kafka_message_t *held; /* backs the kmidi_message last returned by poll */
    /* Set by consumer_error_cb, which librdkafka calls from inside
       rd_kafka_consumer_poll on the host's thread (the main queue is forwarded to
       the consumer queue), so no lock is needed. */
    rd_kafka_resp_err_t pending_err;
    char pending_text[256];
    char last_error[512];

    /* group.c */
    int consumer_protocol; /* group.protocol=consumer (KIP-848) */
    int watching;          /* the KIP-848 watch turned librdkafka's "cgrp" debug on */
    int user_debug;        /* the user asked for librdkafka debug logs themselves */
    int user_log_level;    /* log_level as the user left it */
    /* Set once, from librdkafka's threads, by the log callback; kip848_reason is
       written before the flag is raised and only read after it is seen. */
    atomic_int kip848_missing;
    char kip848_reason[256];
    char *assigned_topics; /* backs the topic names consumer_assignment last gave out */
    char settings[512];    /* returned by consumer_settings */
};

int32_t kmidi_crd_consumer_new(const kmidi_kv *config, size_t n_config, const char *group,
                               const char *const *topics, size_t n_topics, int32_t offset_reset,
                               kmidi_consumer **out, char *errbuf, size_t errlen);
int32_t kmidi_crd_poll(kmidi_consumer *c, int32_t timeout_ms, kmidi_message *out);
int32_t kmidi_crd_commit(kmidi_consumer *c);
const char *kmidi_crd_consumer_last_error(kmidi_consumer *c);
void kmidi_crd_consumer_free(kmidi_consumer *c);

/* ------------------------------------- the consumer's group (group.c) */

int32_t kmidi_crd_kip848_watch(kmidi_consumer *c, rd_kafka_conf_t *conf, char *errbuf,
                               size_t errlen);
int kmidi_crd_kip848_missing(kmidi_consumer *c);
int kmidi_crd_kip848_explain(kmidi_consumer *c, rd_kafka_resp_err_t err, const char *reason);
void kmidi_crd_kip848_joined(kmidi_consumer *c);
int32_t kmidi_crd_consumer_assignment(kmidi_consumer *c, kmidi_topic_partition *out, size_t cap,
                                      size_t *n_out);
const char *kmidi_crd_consumer_settings(kmidi_consumer *c);

/* ----------------------------------------------------- admin (admin.c) */

int32_t kmidi_crd_topic_partitions(const kmidi_kv *config, size_t n_config, const char *topic,
                                   int32_t timeout_ms, int32_t *partitions, char *errbuf,
                                   size_t errlen);
int32_t kmidi_crd_partition_leaders(const kmidi_kv *config, size_t n_config, const char *topic,
                                    int32_t timeout_ms, kmidi_leadership *out, char *errbuf,
                                    size_t errlen);
int32_t kmidi_crd_create_topic(const kmidi_kv *config, size_t n_config, const char *topic,
                               int32_t partitions, int32_t replication_factor,
                               const kmidi_kv *topic_config, size_t n_topic_config,
                               int32_t timeout_ms, char *errbuf, size_t errlen);

#pragma GCC visibility pop

#endif /* KMIDI_CRD_INTERNAL_H */
