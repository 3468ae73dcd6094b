/* Deliberately broken kmidi transport plugins, one per -D flag, for the host's
 * load-time checks (kmidi-transport/tests/plugin_load.rs). Built with:
 *   cc -shared -fPIC -I include -D<CASE> bad_tables.c -o <case>.so
 * MINIMAL is a valid table with every function pointer NULL ("nothing supported").
 * OLD_TABLE declares the first v1 table's size (160 bytes: built against the header
 * before consumer_assignment and the settings entries), with a consumer, and traps in
 * the entries past its struct_size that the host must treat as NULL. REPORTS_TABLE
 * declares the second v1 table's size (184 bytes: built against the header before
 * partition_leaders), with topic_partitions, and traps in partition_leaders. BIG_SIZE
 * declares more than this header's table (a plugin built against a newer header). */
#include <stddef.h>
#include <stdint.h>
#include "kmidi_transport.h"

#ifndef NAME
#define NAME "minimal"
#endif

#if defined(GARBAGE_MESSAGE) || defined(NULL_TOPIC) || defined(OLD_TABLE)
/* A consumer whose poll "succeeds" with a message no client could have produced: a
 * key claiming half the address space at a bogus address (GARBAGE_MESSAGE), or a
 * plausible message without a topic (NULL_TOPIC). */
static int dummy_consumer;
static int32_t garbage_consumer_new(const kmidi_kv *c, size_t n, const char *g,
                                    const char *const *t, size_t nt, int32_t reset,
                                    kmidi_consumer **out, char *errbuf, size_t errlen) {
    (void)c; (void)n; (void)g; (void)t; (void)nt; (void)reset; (void)errbuf; (void)errlen;
    *out = (kmidi_consumer *)&dummy_consumer;
    return KMIDI_OK;
}
static int32_t garbage_poll(kmidi_consumer *c, int32_t timeout_ms, kmidi_message *m) {
    (void)c; (void)timeout_ms;
#if defined(NULL_TOPIC)
    m->topic = NULL;
    m->key = NULL;
    m->key_len = 0;
    m->value = (const uint8_t *)"{}";
    m->value_len = 2;
#else
    m->topic = "t";
    m->key = (const uint8_t *)(uintptr_t)0x10;
    m->key_len = SIZE_MAX / 2;
    m->value = NULL;
    m->value_len = 12345;
#endif
    m->partition = 0;
    m->offset = 0;
    m->timestamp_ms = -1;
    return KMIDI_OK;
}
static void garbage_consumer_free(kmidi_consumer *c) { (void)c; }
#define CONSUMER garbage_consumer_new, garbage_poll, NULL, NULL, garbage_consumer_free
#else
#define CONSUMER NULL, NULL, NULL, NULL, NULL
#endif

#if defined(OLD_TABLE) || defined(REPORTS_TABLE)
#include <stdlib.h>
/* Every topic exists, with 3 partitions. */
static int32_t three_partitions(const kmidi_kv *c, size_t n, const char *topic, int32_t ms,
                                int32_t *partitions, char *errbuf, size_t errlen) {
    (void)c; (void)n; (void)topic; (void)ms; (void)errbuf; (void)errlen;
    *partitions = 3;
    return KMIDI_OK;
}
#define ADMIN three_partitions, NULL
/* Past struct_size: a host that calls it read more than the table declared. */
static int32_t trap_leaders(const kmidi_kv *c, size_t n, const char *topic, int32_t ms,
                            kmidi_leadership *out, char *errbuf, size_t errlen) {
    (void)c; (void)n; (void)topic; (void)ms; (void)out; (void)errbuf; (void)errlen;
    abort();
}
#define LEADERS trap_leaders
#else
#define ADMIN NULL, NULL
#define LEADERS NULL
#endif

#if defined(OLD_TABLE)
/* Past struct_size: a host that calls any of these read more than the table declared. */
static int32_t trap_assignment(kmidi_consumer *c, kmidi_topic_partition *out, size_t cap,
                               size_t *n_out) {
    (void)c; (void)out; (void)cap; (void)n_out;
    abort();
}
static const char *trap_producer_settings(kmidi_producer *p) { (void)p; abort(); }
static const char *trap_consumer_settings(kmidi_consumer *c) { (void)c; abort(); }
#define APPENDED trap_assignment, trap_producer_settings, trap_consumer_settings
#elif defined(REPORTS_TABLE)
static const char *no_settings(kmidi_producer *p) { (void)p; return NULL; }
#define APPENDED NULL, no_settings, NULL
#else
#define APPENDED NULL, NULL, NULL
#endif

static const kmidi_transport_table table = {
#if defined(BAD_MAGIC)
    0xDEADBEEFu,
#else
    KMIDI_TRANSPORT_MAGIC,
#endif
#if defined(BAD_VERSION)
    7u,
#else
    KMIDI_TRANSPORT_ABI_VERSION,
#endif
#if defined(SHORT_SIZE)
    16u,
#elif defined(OLD_TABLE)
    (uint32_t)offsetof(kmidi_transport_table, consumer_assignment),
#elif defined(REPORTS_TABLE)
    (uint32_t)offsetof(kmidi_transport_table, partition_leaders),
#elif defined(BIG_SIZE)
    (uint32_t)sizeof(kmidi_transport_table) + 64u,
#else
    (uint32_t)sizeof(kmidi_transport_table),
#endif
    0u,
#if defined(NULL_NAME)
    NULL,
#elif defined(BAD_UTF8_NAME)
    "bad\xff",
#else
    NAME,
#endif
    "C test table",
    "1.0",
    KMIDI_CAP_TLS | KMIDI_CAP_SASL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    CONSUMER,
    ADMIN,
    APPENDED,
    LEADERS,
};

#if defined(MISSING_SYMBOL)
const kmidi_transport_table *kmidi_transport_v0(uint32_t host_abi_version) {
    (void)host_abi_version;
    return &table;
}
#else
const kmidi_transport_table *kmidi_transport_v1(uint32_t host_abi_version) {
    (void)host_abi_version;
#if defined(NULL_TABLE)
    (void)&table;
    return NULL;
#else
    return &table;
#endif
}
#endif
