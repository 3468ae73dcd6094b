/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * kmidi transport plugin "c-rdkafka": the kmidi plugin ABI v1
 * (kmidi-transport/include/kmidi_transport.h) implemented in plain C11 on
 * librdkafka's C API. This file owns what the host sees: the exported
 * kmidi_transport_v1 symbol and the static function table it returns, the one
 * place that says which entry implements which slot. The entries live with their
 * state in producer.c (with its delivery-report thread; pid.c gets a new producer
 * its id early), consumer.c, group.c (the consumer's assignment and settings) and
 * admin.c (topic_partitions, partition_leaders, create_topic), the helpers they share
 * in common.c; internal.h declares both.
 * Built by build.sh into libkmidi_c_rdkafka.so, with librdkafka linked in.
 *
 * Why C and not another Rust crate: it proves the ABI is usable from C as
 * written, and it puts librdkafka's own C API (not a binding) side by side with
 * the Rust transports.
 */

#include "internal.h"

#include <pthread.h>
#include <stdio.h>

/* Only kmidi_transport_v1 is exported; build.sh compiles with
   -fvisibility=hidden so every other symbol stays private to the .so. */
#define KMIDI_EXPORT __attribute__((visibility("default")))

static char library_version[32];
static pthread_once_t version_once = PTHREAD_ONCE_INIT;

static void init_version(void) {
    snprintf(library_version, sizeof(library_version), "%s", rd_kafka_version_str());
}

/* library_version must be a constant-address string for the static table, while
   the value is only known at run time: the table points at a buffer filled once.
   Asking the linked librdkafka rather than printing RD_KAFKA_VERSION keeps the
   answer true whatever librdkafka.sh built, header and archive alike. */
static const kmidi_transport_table TABLE = {
    .magic = KMIDI_TRANSPORT_MAGIC,
    .abi_version = KMIDI_TRANSPORT_ABI_VERSION,
    .struct_size = (uint32_t)sizeof(kmidi_transport_table),
    .reserved = 0,
    .name = KMIDI_C_RDKAFKA_NAME,
    .library = "librdkafka (C API)",
    .library_version = library_version,
    .capabilities = KMIDI_CAP_CONSUMER_GROUPS | KMIDI_CAP_TIMESTAMPS | KMIDI_CAP_HEADERS |
                    KMIDI_CAP_TLS | KMIDI_CAP_SASL | KMIDI_CAP_IDEMPOTENCE |
                    KMIDI_CAP_CONSUMER_PROTOCOL,
    .producer_new = kmidi_crd_producer_new,
    .produce = kmidi_crd_produce,
    .flush = kmidi_crd_flush,
    .producer_stats = kmidi_crd_producer_stats,
    .producer_take_failure = kmidi_crd_producer_take_failure,
    .producer_last_error = kmidi_crd_producer_last_error,
    .producer_free = kmidi_crd_producer_free,
    .consumer_new = kmidi_crd_consumer_new,
    .poll = kmidi_crd_poll,
    .commit = kmidi_crd_commit,
    .consumer_last_error = kmidi_crd_consumer_last_error,
    .consumer_free = kmidi_crd_consumer_free,
    .topic_partitions = kmidi_crd_topic_partitions,
    .create_topic = kmidi_crd_create_topic,
    .consumer_assignment = kmidi_crd_consumer_assignment,
    .producer_settings = kmidi_crd_producer_settings,
    .consumer_settings = kmidi_crd_consumer_settings,
    .partition_leaders = kmidi_crd_partition_leaders,
};

KMIDI_EXPORT const kmidi_transport_table *kmidi_transport_v1(uint32_t host_abi_version) {
    if (host_abi_version != KMIDI_TRANSPORT_ABI_VERSION)
        return NULL;
    pthread_once(&version_once, init_version);
    return &TABLE;
}
