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

/* ----------------------------------------------- consumer (consumer.c) */

int32_t kmidi_crd_consumer_new(const kmidi_kv *config, size_t n_config, const char *group,
                               const char *const *topics, size_t n_topics, int32_t offset_reset,
                               kmidi_consumer **out, char *errbuf, size_t errlen);
int32_t kmidi_crd_poll(kmidi_consumer *c, int32_t timeout_ms, kmidi_message *out);
int32_t kmidi_crd_commit(kmidi_consumer *c);
const char *kmidi_crd_consumer_last_error(kmidi_consumer *c);
void kmidi_crd_consumer_free(kmidi_consumer *c);

/* ----------------------------------------------------- admin (admin.c) */

int32_t kmidi_crd_topic_partitions(const kmidi_kv *config, size_t n_config, const char *topic,
                                   int32_t timeout_ms, int32_t *partitions, char *errbuf,
                                   size_t errlen);
int32_t kmidi_crd_create_topic(const kmidi_kv *config, size_t n_config, const char *topic,
                               int32_t partitions, int32_t replication_factor,
                               const kmidi_kv *topic_config, size_t n_topic_config,
                               int32_t timeout_ms, char *errbuf, size_t errlen);

#pragma GCC visibility pop

#endif /* KMIDI_CRD_INTERNAL_H */
