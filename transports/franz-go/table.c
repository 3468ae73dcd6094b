/* The static ABI table of the franz-go plugin and the one exported C symbol.
 *
 * cgo forbids definitions in the preamble of a file that has //export functions, so the
 * table lives here. Each table entry is a thin C wrapper with the header's exact
 * signature (const-qualified pointers) around the Go export of the same name prefixed
 * kfg_ (whose generated prototype in _cgo_export.h has no const). */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin.h"
#include "_cgo_export.h"

static int32_t w_producer_new(const kmidi_kv *config, size_t n_config, kmidi_producer **out,
                              char *errbuf, size_t errlen) {
    return kfg_producer_new((kmidi_kv *)config, n_config, out, errbuf, errlen);
}

static int32_t w_produce(kmidi_producer *p, const char *topic, const uint8_t *key,
                         size_t key_len, const uint8_t *value, size_t value_len) {
    return kfg_produce(p, (char *)topic, (uint8_t *)key, key_len, (uint8_t *)value, value_len);
}

static int32_t w_flush(kmidi_producer *p, int32_t timeout_ms) { return kfg_flush(p, timeout_ms); }

static int32_t w_producer_stats(kmidi_producer *p, kmidi_producer_stats *out) {
    return kfg_producer_stats(p, out);
}

static int32_t w_producer_take_failure(kmidi_producer *p, const char **error) {
    return kfg_producer_take_failure(p, (char **)error);
}

static const char *w_producer_last_error(kmidi_producer *p) { return kfg_producer_last_error(p); }

static void w_producer_free(kmidi_producer *p) { kfg_producer_free(p); }

static int32_t w_consumer_new(const kmidi_kv *config, size_t n_config, const char *group,
                              const char *const *topics, size_t n_topics, int32_t offset_reset,
                              kmidi_consumer **out, char *errbuf, size_t errlen) {
    return kfg_consumer_new((kmidi_kv *)config, n_config, (char *)group, (char **)topics,
                            n_topics, offset_reset, out, errbuf, errlen);
}

static int32_t w_poll(kmidi_consumer *c, int32_t timeout_ms, kmidi_message *out) {
    return kfg_poll(c, timeout_ms, out);
}

static int32_t w_commit(kmidi_consumer *c) { return kfg_commit(c); }

static const char *w_consumer_last_error(kmidi_consumer *c) { return kfg_consumer_last_error(c); }

static void w_consumer_free(kmidi_consumer *c) { kfg_consumer_free(c); }

static int32_t w_topic_partitions(const kmidi_kv *config, size_t n_config, const char *topic,
                                  int32_t timeout_ms, int32_t *partitions, char *errbuf,
                                  size_t errlen) {
    return kfg_topic_partitions((kmidi_kv *)config, n_config, (char *)topic, timeout_ms,
                                partitions, errbuf, errlen);
}

static int32_t w_create_topic(const kmidi_kv *config, size_t n_config, const char *topic,
                              int32_t partitions, int32_t replication_factor,
                              const kmidi_kv *topic_config, size_t n_topic_config,
                              int32_t timeout_ms, char *errbuf, size_t errlen) {
    return kfg_create_topic((kmidi_kv *)config, n_config, (char *)topic, partitions,
                            replication_factor, (kmidi_kv *)topic_config, n_topic_config,
                            timeout_ms, errbuf, errlen);
}

static int32_t w_consumer_assignment(kmidi_consumer *c, kmidi_topic_partition *out, size_t cap,
                                     size_t *n_out) {
    return kfg_consumer_assignment(c, out, cap, n_out);
}

static const char *w_producer_settings(kmidi_producer *p) { return kfg_producer_settings(p); }

static const char *w_consumer_settings(kmidi_consumer *c) { return kfg_consumer_settings(c); }

static int32_t w_partition_leaders(const kmidi_kv *config, size_t n_config, const char *topic,
                                   int32_t timeout_ms, kmidi_leadership *out, char *errbuf,
                                   size_t errlen) {
    return kfg_partition_leaders((kmidi_kv *)config, n_config, (char *)topic, timeout_ms, out,
                                 errbuf, errlen);
}

static kmidi_transport_table table = {
    .magic = KMIDI_TRANSPORT_MAGIC,
    .abi_version = KMIDI_TRANSPORT_ABI_VERSION,
    .struct_size = (uint32_t)sizeof(kmidi_transport_table),
    .reserved = 0,
    .name = "franz-go",
    /* ServerSideBalancer (KIP-848) is in franz-go v1.22.0 and later, ShareGroup (KIP-932)
       in v1.21.0 and later; this plugin needs v1.22 for both. */
    .library = "franz-go (KIP-848 and share groups: v1.22+)",
    .library_version = "unknown", /* replaced by the kgo module version on first call */
    .capabilities = KMIDI_CAP_CONSUMER_GROUPS | KMIDI_CAP_TIMESTAMPS | KMIDI_CAP_HEADERS |
                    KMIDI_CAP_TLS | KMIDI_CAP_SASL | KMIDI_CAP_IDEMPOTENCE |
                    KMIDI_CAP_CONSUMER_PROTOCOL /* kgo.ServerSideBalancer, franz-go v1.22+ */ |
                    KMIDI_CAP_SHARE_GROUPS /* kgo.ShareGroup, franz-go v1.22+ */,
    .producer_new = w_producer_new,
    .produce = w_produce,
    .flush = w_flush,
    .producer_stats = w_producer_stats,
    .producer_take_failure = w_producer_take_failure,
    .producer_last_error = w_producer_last_error,
    .producer_free = w_producer_free,
    .consumer_new = w_consumer_new,
    .poll = w_poll,
    .commit = w_commit,
    .consumer_last_error = w_consumer_last_error,
    .consumer_free = w_consumer_free,
    .topic_partitions = w_topic_partitions,
    .create_topic = w_create_topic,
    .consumer_assignment = w_consumer_assignment,
    .producer_settings = w_producer_settings,
    .consumer_settings = w_consumer_settings,
    .partition_leaders = w_partition_leaders,
};

static pthread_once_t version_once = PTHREAD_ONCE_INIT;

static void fill_version(void) {
    /* A C string allocated once by Go and never freed (it lives as long as the table). */
    const char *v = kfg_library_version();
    if (v != NULL) {
        table.library_version = v;
    }
}

const kmidi_transport_table *kmidi_transport_v1(uint32_t host_abi_version) {
    if (host_abi_version < 1u) {
        return NULL;
    }
    pthread_once(&version_once, fill_version);
    return &table;
}
