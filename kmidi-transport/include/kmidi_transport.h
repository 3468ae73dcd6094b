/*
 * kmidi transport plugin ABI, version 1.
 *
 * A plugin is a shared library exporting ONE function, kmidi_transport_v1, that returns
 * a pointer to a static table. The host checks magic, abi_version and struct_size
 * before reading anything else, reads only the fields struct_size covers, and treats
 * a NULL function pointer as "not supported". Fields are only ever appended; a breaking
 * change means a new symbol (kmidi_transport_v2).
 *
 * Rules:
 *  - C types only. Status codes are int32_t (KMIDI_*), never enums.
 *  - Whoever allocates frees. Inputs are borrowed for the duration of the call; the
 *    plugin copies what it keeps. A polled message is borrowed until the next poll or
 *    free on the same consumer. A string returned by *_last_error or
 *    producer_take_failure lives until the next call on the same handle. Constructor
 *    errors are written (NUL-terminated, truncated) into the caller's errbuf.
 *  - One thread per handle at a time; different handles may be used concurrently.
 *    Every call that can wait takes an explicit timeout in milliseconds.
 *  - *_free joins every thread the plugin started for that handle.
 *  - The host never unloads a plugin (dlclose after a runtime's thread-locals is a
 *    known crash source).
 *  - A plugin must not let a panic or exception cross this boundary: it returns
 *    KMIDI_PANICKED instead, after which only *_last_error (to read the panic
 *    message) and *_free may be called on that handle.
 *
 * The whole author's contract (loading, which entries are required, what the host does
 * with each status code, the config keys it passes, threading, the warm-up record,
 * `kmidi transports --check`) is kmidi-transport/PLUGINS.md; a complete plugin to start
 * from is transports/template-c/kmidi_template.c. Below, each table entry says whether
 * it is REQUIRED (NULL: the host refuses to produce or consume through the plugin) or
 * OPTIONAL (NULL allowed, and what the host does then).
 *
 * Licensed MIT OR Apache-2.0, like the rest of kmidi.
 */
#ifndef KMIDI_TRANSPORT_H
#define KMIDI_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KMIDI_TRANSPORT_MAGIC 0x4B4D4944u /* "KMID" */
#define KMIDI_TRANSPORT_ABI_VERSION 1u
#define KMIDI_TRANSPORT_SYMBOL "kmidi_transport_v1"

/* Status codes. */
#define KMIDI_OK 0
#define KMIDI_TIMEOUT 1      /* nothing within the timeout (poll), not all delivered (flush),
                                no answer from the cluster in time (topic_partitions) */
#define KMIDI_TRANSIENT 2    /* poll: a recoverable problem; the host warns and polls again.
                                Text from consumer_last_error. */
#define KMIDI_ERROR (-1)     /* text from *_last_error, or errbuf for calls without a handle */
#define KMIDI_INVALID_ARG (-2)
#define KMIDI_PANICKED (-3)  /* the handle is poisoned: only *_last_error (the panic
                                message) and *_free are valid afterwards */
#define KMIDI_UNSUPPORTED (-4)

/* Capability bits: claim only what is true. Only KMIDI_CAP_CONSUMER_GROUPS changes
   what the host does today (`kmidi demo` and `compare` wait up to 15 s for a group
   assignment before playing); the others are shown by `kmidi transports` and are
   otherwise informational. PLUGINS.md, "Capability bits". */
#define KMIDI_CAP_CONSUMER_GROUPS (1ull << 0)
#define KMIDI_CAP_TIMESTAMPS (1ull << 1)
#define KMIDI_CAP_HEADERS (1ull << 2)
#define KMIDI_CAP_TLS (1ull << 3)
#define KMIDI_CAP_SASL (1ull << 4)
#define KMIDI_CAP_IDEMPOTENCE (1ull << 5)
/* The next-generation consumer group protocol (KIP-848): the plugin honours
   group.protocol=consumer (shown by `kmidi transports`). */
#define KMIDI_CAP_CONSUMER_PROTOCOL (1ull << 6)
/* Share groups (KIP-932): the plugin honours kmidi.group.type=share (PLUGINS.md,
   "Config keys"). */
#define KMIDI_CAP_SHARE_GROUPS (1ull << 7)

/* Where a consumer starts without a committed offset. */
#define KMIDI_OFFSET_LATEST 0
#define KMIDI_OFFSET_EARLIEST 1

typedef struct kmidi_producer kmidi_producer; /* opaque, owned by the plugin */
typedef struct kmidi_consumer kmidi_consumer; /* opaque, owned by the plugin */

/* One client property, librdkafka style ("bootstrap.servers" = "127.0.0.1:9092"). */
typedef struct kmidi_kv {
    const char *key;
    const char *value;
} kmidi_kv;

/* A consumed record, borrowed until the next poll or consumer_free: the plugin keeps
   the memory it points into alive until then (the host copies it at once). topic must
   be non-NULL; a NULL key or value is a null key or value, distinct from a zero-length
   one. */
typedef struct kmidi_message {
    const char *topic; /* NUL-terminated */
    int32_t partition;
    int64_t offset;
    const uint8_t *key; /* NULL: null key */
    size_t key_len;
    const uint8_t *value; /* NULL: null value */
    size_t value_len;
    int64_t timestamp_ms; /* -1: none */
} kmidi_message;

/* One partition of a consumer's assignment. */
typedef struct kmidi_topic_partition {
    const char *topic; /* NUL-terminated */
    int32_t partition;
} kmidi_topic_partition;

/* One partition's leadership, written by partition_leaders. Its replicas and in-sync
   replicas are runs of the caller's ids buffer: ids[replicas .. replicas + n_replicas)
   and ids[isr .. isr + n_isr) (kmidi_leadership). */
typedef struct kmidi_partition_leader {
    int32_t partition;
    int32_t leader; /* broker id; -1: no leader right now (an election, every replica down) */
    size_t replicas; /* index of the first replica id in ids, the preferred leader first */
    size_t n_replicas;
    size_t isr; /* index of the first in-sync replica id in ids */
    size_t n_isr;
} kmidi_partition_leader;

/* The caller's buffers partition_leaders fills. The host sets the pointers and caps;
   the plugin writes at most *_cap entries to each buffer and the FULL count to each
   n_* (a buffer may be NULL when its cap is 0). */
typedef struct kmidi_leadership {
    kmidi_partition_leader *partitions; /* one per partition of the topic, any order */
    size_t partitions_cap;
    size_t n_partitions; /* out: 0 when the topic does not exist */
    int32_t *brokers; /* ids of the brokers in the cluster's metadata, any order */
    size_t brokers_cap;
    size_t n_brokers; /* out */
    int32_t *ids; /* replica and in-sync replica ids of every partition, back to back */
    size_t ids_cap;
    size_t n_ids; /* out */
} kmidi_leadership;

typedef struct kmidi_producer_stats {
    uint64_t sent;      /* records accepted by produce */
    uint64_t delivered; /* acknowledged by the broker */
    uint64_t failed;    /* given up on */
} kmidi_producer_stats;

typedef struct kmidi_transport_table {
    uint32_t magic;       /* KMIDI_TRANSPORT_MAGIC */
    uint32_t abi_version; /* KMIDI_TRANSPORT_ABI_VERSION */
    uint32_t struct_size; /* sizeof(kmidi_transport_table) as the plugin was built */
    uint32_t reserved;    /* 0 */

    const char *name;            /* what users pass to --transport, e.g. "rskafka" */
    const char *library;         /* the client library, e.g. "librdkafka (C API)" */
    const char *library_version; /* e.g. "2.12.1" */
    uint64_t capabilities;       /* KMIDI_CAP_* bits */

    /* Producer. produce must not block on the network: it queues (waiting at most a
       few seconds if the client's local queue is full) and reports delivery later. */

    /* REQUIRED. Receives bootstrap.servers plus the user's --config and -X pairs
       (PLUGINS.md, "Config keys"). Set up the client; do not wait for the cluster:
       the host abandons the call after 30 s. */
    int32_t (*producer_new)(const kmidi_kv *config, size_t n_config, kmidi_producer **out,
                            char *errbuf, size_t errlen);
    /* REQUIRED. Called on the player's scheduling thread at each note's deadline,
       without a watchdog. Any status but OK counts the note as not sent; playback
       goes on. A zero length means empty: do not read the pointer then. */
    int32_t (*produce)(kmidi_producer *p, const char *topic, const uint8_t *key, size_t key_len,
                       const uint8_t *value, size_t value_len);
    /* OPTIONAL (NULL: the host's flush returns at once, as if everything were
       delivered). KMIDI_TIMEOUT: records still queued. Bounded by the host at
       timeout_ms + 5 s; past that the producer is abandoned, never called again. */
    int32_t (*flush)(kmidi_producer *p, int32_t timeout_ms);
    /* OPTIONAL (NULL: counts unknown). Not called by kmidi's commands today. */
    int32_t (*producer_stats)(kmidi_producer *p, kmidi_producer_stats *out);
    /* OPTIONAL (NULL: failed deliveries go unreported and show only as lost notes).
       One delivery failure per call: KMIDI_OK with *error set (valid until the next call
       on p), or KMIDI_TIMEOUT when there are none left. Called after every note, on
       the scheduling thread: keep it quick. */
    int32_t (*producer_take_failure)(kmidi_producer *p, const char **error);
    /* OPTIONAL (NULL: errors read "no details from the plugin"). The text of the last
       failed call on p, or NULL; the host reads it right after a non-OK status. */
    const char *(*producer_last_error)(kmidi_producer *p);
    /* REQUIRED. Flush briefly, join the producer's threads, release everything. Not
       bounded by the host: bound it yourself (a few seconds). */
    void (*producer_free)(kmidi_producer *p);

    /* Consumer. */

    /* REQUIRED. group is never NULL from kmidi (`-g`, default "kmidi"); a plugin
       without consumer groups ignores it. Subscribe; do not wait for the assignment
       (abandoned after 30 s). */
    int32_t (*consumer_new)(const kmidi_kv *config, size_t n_config, const char *group,
                            const char *const *topics, size_t n_topics, int32_t offset_reset,
                            kmidi_consumer **out, char *errbuf, size_t errlen);
    /* REQUIRED. KMIDI_OK: *out filled; KMIDI_TIMEOUT: nothing within timeout_ms;
       KMIDI_TRANSIENT: the host warns and polls again. Any other status ends the
       instrument. Called every 50 ms on the instrument's thread, without a watchdog:
       honour timeout_ms. */
    int32_t (*poll)(kmidi_consumer *c, int32_t timeout_ms, kmidi_message *out);
    /* OPTIONAL (NULL: nothing is committed). Called once, after listening; its errors
       are only logged at debug level. Not bounded by the host. */
    int32_t (*commit)(kmidi_consumer *c);
    /* OPTIONAL (NULL: errors read "no details from the plugin"). As producer_last_error. */
    const char *(*consumer_last_error)(kmidi_consumer *c);
    /* REQUIRED. Leave the group, join the consumer's threads, release everything; not
       bounded by the host. */
    void (*consumer_free)(kmidi_consumer *c);

    /* Admin. Both take the client config on every call and are bounded by the host at
       timeout_ms + 5 s.

       REQUIRED for `kmidi player` and `kmidi instrument`, which check the topic with it
       before anything else (NULL: they refuse to start; `demo` does not need it).
       Sets *partitions to the count, or -1 if the topic does not exist (never create
       it); KMIDI_TIMEOUT if the cluster did not answer within timeout_ms, which the
       host reports as "cannot reach Kafka at ...". */
    int32_t (*topic_partitions)(const kmidi_kv *config, size_t n_config, const char *topic,
                                int32_t timeout_ms, int32_t *partitions, char *errbuf,
                                size_t errlen);
    /* OPTIONAL (NULL: `kmidi topic create` refuses; `kmidi compare` creates its topics
       with librdkafka instead). KMIDI_ERROR with the broker's text for an existing
       topic; KMIDI_TIMEOUT if the cluster did not answer. */
    int32_t (*create_topic)(const kmidi_kv *config, size_t n_config, const char *topic,
                            int32_t partitions, int32_t replication_factor,
                            const kmidi_kv *topic_config, size_t n_topic_config,
                            int32_t timeout_ms, char *errbuf, size_t errlen);

    /* Appended after the first 160-byte table (struct_size 184 covers them). A plugin
       built against the older header has a smaller struct_size, and the host treats
       these as NULL for it. */

    /* OPTIONAL (NULL: the host cannot see the assignment: `demo` and `compare` do not
       wait for one, and `compare --churn` reports no "stable again" time for this
       side). The partitions assigned to c right now, as the library last heard from
       the group: writes at most cap entries to out and the full count to *n_out
       (KMIDI_OK); the host calls again with a larger buffer when *n_out > cap. The
       topic strings are borrowed until the next call on c. Called on the polling
       thread between polls, about every 100 ms: never wait for the network. */
    int32_t (*consumer_assignment)(kmidi_consumer *c, kmidi_topic_partition *out, size_t cap,
                                   size_t *n_out);
    /* OPTIONAL (NULL: the compare header says "not reported"). The effective settings
       that shape latency, as the library applies them (its defaults included), as
       "key=value" lines separated by '\n', with librdkafka's names and units:
       linger.ms, acks, enable.idempotence for a producer; fetch.wait.max.ms,
       fetch.min.bytes, group.protocol, partition.assignment.strategy,
       session.timeout.ms, heartbeat.interval.ms for a consumer. List only what the
       library really has, and accept every key you list as a config key (`compare
       --equalize` passes them). NULL or "" for none. Borrowed until the next call
       on the handle. */
    const char *(*producer_settings)(kmidi_producer *p);
    const char *(*consumer_settings)(kmidi_consumer *c);

    /* Appended after the 184-byte table (struct_size 192 covers it). A plugin built
       against the 184- or 160-byte header has it read as NULL. */

    /* OPTIONAL (NULL: leadership is "unknown": `kmidi leaders` and the per-broker
       probe topic show every partition's leader as unknown, and the host counts the
       partitions through topic_partitions). Which broker leads each partition of topic,
       from fresh cluster metadata (the host calls it again to notice a failover), and
       which brokers the metadata lists. Fills the caller's buffers in *out (see
       kmidi_leadership) and returns KMIDI_OK, with n_partitions 0 for a missing topic
       (never create it). When any n_* exceeds its cap the host reads nothing and calls
       again with buffers of the sizes you reported. KMIDI_TIMEOUT if the cluster did
       not answer within timeout_ms; KMIDI_UNSUPPORTED if this plugin cannot tell (as
       NULL). Takes the client config and is bounded by the host at timeout_ms + 5 s,
       like the other admin entries; errors go into errbuf. Nothing stays borrowed
       after the call: every buffer is the caller's. */
    int32_t (*partition_leaders)(const kmidi_kv *config, size_t n_config, const char *topic,
                                 int32_t timeout_ms, kmidi_leadership *out, char *errbuf,
                                 size_t errlen);
} kmidi_transport_table;

/* The one exported symbol. Returns NULL if the plugin cannot serve host_abi_version.
   The host may call it more than once (listing, then loading): cheap, idempotent,
   thread-safe, no connections. The table must be complete when returned: the host
   copies it once. */
const kmidi_transport_table *kmidi_transport_v1(uint32_t host_abi_version);

#ifdef __cplusplus
}
#endif

#endif /* KMIDI_TRANSPORT_H */
