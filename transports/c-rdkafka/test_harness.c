/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * End-to-end test of libkmidi_c_rdkafka.so through the plugin ABI only, the way
 * the Rust host will use it: dlopen, kmidi_transport_v1, then calls through the
 * table. Needs a real broker (test.sh starts one):
 *
 *   test_harness PLUGIN.so BOOTSTRAP [KAFKA_VERSION]
 *
 * Covers: table checks, config errors (key named, secrets never echoed),
 * create_topic (and already-exists), topic_partitions (existing, missing, not
 * auto-created), 100 records produced/flushed/consumed back in order with exact
 * bytes, commit, delivery failures and TIMEOUTs against an unreachable broker;
 * test_group.c adds the assignment and settings entries and KIP-848, test_producer.c
 * how soon a new producer's first record is delivered, test_leaders.c partition
 * leaders. KAFKA_VERSION
 * (default 4) says whether the broker offers group.protocol=consumer (4.0 and newer).
 * Prints one line per check and exits non-zero on any failure.
 */
#define _POSIX_C_SOURCE 200809L

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test_harness.h"

static int failures;

void check(int ok, const char *fmt, ...) {
    va_list ap;
    printf("%s ", ok ? "ok  " : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    if (!ok)
        failures++;
}

long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const kmidi_transport_table *T;

/* Record i: a NULL key for i == 0 (the null-key path), else "song-i"; the value
   carries text and every byte value, so copies that stop at NUL or mangle high
   bytes are caught. */
static size_t make_value(int i, uint8_t *buf) {
    int n = snprintf((char *)buf, 64, "note-%03d", i);
    size_t len = (size_t)n + 1; /* include the NUL: binary-safe */
    int b;
    for (b = 0; b < 256; b++)
        buf[len++] = (uint8_t)((b + i) & 0xff);
    return len;
}

#define N_RECORDS 100

static void test_roundtrip(const char *bootstrap, const char *topic) {
    kmidi_kv cfg[] = {{"bootstrap.servers", bootstrap}};
    kmidi_producer *p = NULL;
    kmidi_consumer *c = NULL;
    kmidi_producer_stats st;
    char err[512] = "";
    const char *text;
    uint8_t buf[512];
    char key[32];
    int i, rc, got = 0, in_order = 1, bytes_ok = 1, ts_ok = 1, keys_ok = 1, transients = 0;
    long long t0, deadline;
    char group[64];
    const char *topics[1];

    err[0] = '\0';
    rc = T->producer_new(cfg, 1, &p, err, sizeof err);
    check(rc == KMIDI_OK && p != NULL, "producer_new (%s)", err);
    if (p == NULL)
        return;
    t0 = now_ms();
    for (i = 0; i < N_RECORDS; i++) {
        size_t vlen = make_value(i, buf);
        snprintf(key, sizeof key, "song-%d", i);
        rc = T->produce(p, topic, i == 0 ? NULL : (const uint8_t *)key, i == 0 ? 0 : strlen(key),
                        buf, vlen);
        if (rc != KMIDI_OK) {
            check(0, "produce %d: %d %s", i, rc, T->producer_last_error(p));
            break;
        }
    }
    check(i == N_RECORDS, "produce %d records (%lld ms)", i, now_ms() - t0);
    rc = T->flush(p, 15000);
    check(rc == KMIDI_OK, "flush -> %d in %lld ms (%s)", rc, now_ms() - t0,
          rc == KMIDI_OK ? "" : T->producer_last_error(p));
    T->producer_stats(p, &st);
    check(st.sent == N_RECORDS && st.delivered == N_RECORDS && st.failed == 0,
          "stats sent=%llu delivered=%llu failed=%llu", (unsigned long long)st.sent,
          (unsigned long long)st.delivered, (unsigned long long)st.failed);
    rc = T->producer_take_failure(p, &text);
    check(rc == KMIDI_TIMEOUT, "take_failure with none -> TIMEOUT (%d)", rc);
    rc = T->produce(p, NULL, NULL, 0, NULL, 0);
    check(rc == KMIDI_INVALID_ARG, "produce(NULL topic) -> INVALID_ARG (%d)", rc);
    T->producer_free(p);

    snprintf(group, sizeof group, "kmidi-harness-%d-%lld", (int)getpid(), now_ms());
    topics[0] = topic;
    err[0] = '\0';
    rc = T->consumer_new(cfg, 1, group, topics, 1, KMIDI_OFFSET_EARLIEST, &c, err, sizeof err);
    check(rc == KMIDI_OK && c != NULL, "consumer_new group %s (%s)", group, err);
    if (c == NULL)
        return;
    t0 = now_ms();
    deadline = t0 + 30000;
    while (got < N_RECORDS && now_ms() < deadline) {
        kmidi_message m;
        size_t vlen;
        rc = T->poll(c, 500, &m);
        if (rc == KMIDI_TIMEOUT)
            continue;
        if (rc == KMIDI_TRANSIENT) {
            transients++;
            printf("     (transient: %s)\n", T->consumer_last_error(c));
            continue;
        }
        if (rc != KMIDI_OK) {
            check(0, "poll -> %d %s", rc, T->consumer_last_error(c));
            break;
        }
        if (m.offset != got || m.partition != 0 || strcmp(m.topic, topic) != 0)
            in_order = 0;
        vlen = make_value(got, buf);
        if (m.value == NULL || m.value_len != vlen || memcmp(m.value, buf, vlen) != 0)
            bytes_ok = 0;
        snprintf(key, sizeof key, "song-%d", got);
        if (got == 0 ? m.key != NULL
                     : (m.key == NULL || m.key_len != strlen(key) || memcmp(m.key, key, m.key_len) != 0))
            keys_ok = 0;
        if (m.timestamp_ms <= 0)
            ts_ok = 0;
        got++;
    }
    check(got == N_RECORDS, "consumed %d/%d records in %lld ms (%d transient)", got, N_RECORDS,
          now_ms() - t0, transients);
    check(in_order, "offsets 0..%d in order on partition 0, topic name right", got - 1);
    check(bytes_ok, "value bytes identical (binary, %zu bytes each)", make_value(0, buf));
    check(keys_ok, "keys identical, record 0 has a NULL key");
    check(ts_ok, "every record has a broker/create timestamp");
    rc = T->commit(c);
    check(rc == KMIDI_OK, "commit -> %d %s", rc, rc ? T->consumer_last_error(c) : "");
    rc = T->commit(c);
    check(rc == KMIDI_OK, "commit again (nothing new) -> %d %s", rc, rc ? T->consumer_last_error(c) : "");
    t0 = now_ms();
    T->consumer_free(c);
    check(now_ms() - t0 < 6000, "consumer_free in %lld ms", now_ms() - t0);

    /* Same group again: the commit must hold, so nothing is redelivered. */
    c = NULL;
    rc = T->consumer_new(cfg, 1, group, topics, 1, KMIDI_OFFSET_EARLIEST, &c, err, sizeof err);
    check(rc == KMIDI_OK, "consumer_new same group again");
    if (c != NULL) {
        int again = 0;
        deadline = now_ms() + 6000;
        while (now_ms() < deadline) {
            kmidi_message m;
            if (T->poll(c, 300, &m) == KMIDI_OK)
                again++;
        }
        check(again == 0, "after commit the group gets %d redelivered records", again);
        T->consumer_free(c);
    }
}

static void test_admin(const char *bootstrap, const char *topic, const char *topic3) {
    kmidi_kv cfg[] = {{"bootstrap.servers", bootstrap}};
    kmidi_kv tcfg[] = {{"retention.ms", "3600000"}};
    char err[512] = "", missing[96];
    int32_t parts = 0;
    int rc;

    rc = T->create_topic(cfg, 1, topic, 1, 1, tcfg, 1, 10000, err, sizeof err);
    check(rc == KMIDI_OK, "create_topic %s (1 partition, retention.ms) -> %d %s", topic, rc, err);
    rc = T->create_topic(cfg, 1, topic3, 3, 1, NULL, 0, 10000, err, sizeof err);
    check(rc == KMIDI_OK, "create_topic %s (3 partitions) -> %d %s", topic3, rc, err);
    err[0] = '\0';
    rc = T->create_topic(cfg, 1, topic, 1, 1, NULL, 0, 10000, err, sizeof err);
    check(rc == KMIDI_ERROR && strstr(err, "already exists") != NULL,
          "create_topic again -> ERROR: %s", err);
    rc = T->topic_partitions(cfg, 1, topic, 5000, &parts, err, sizeof err);
    check(rc == KMIDI_OK && parts == 1, "topic_partitions(%s) = %d (rc %d)", topic, parts, rc);
    rc = T->topic_partitions(cfg, 1, topic3, 5000, &parts, err, sizeof err);
    check(rc == KMIDI_OK && parts == 3, "topic_partitions(%s) = %d (rc %d)", topic3, parts, rc);
    snprintf(missing, sizeof missing, "%s-missing", topic);
    rc = T->topic_partitions(cfg, 1, missing, 5000, &parts, err, sizeof err);
    check(rc == KMIDI_OK && parts == -1, "topic_partitions(missing) = %d (rc %d %s)", parts, rc,
          rc ? err : "");
    rc = T->topic_partitions(cfg, 1, missing, 5000, &parts, err, sizeof err);
    check(rc == KMIDI_OK && parts == -1, "asking did not auto-create it: still %d", parts);
}

static void test_config_errors(void) {
    kmidi_kv unknown[] = {{"bootstrap.servers", "127.0.0.1:1"}, {"no.such.property", "x"}};
    kmidi_kv secret[] = {{"my.secret.token", "hunter2"}};
    kmidi_kv badval[] = {{"linger.ms", "not-a-number"}};
    kmidi_producer *p = NULL;
    kmidi_consumer *c = NULL;
    const char *topics[] = {"t"};
    char err[512] = "";
    int rc;

    rc = T->producer_new(unknown, 2, &p, err, sizeof err);
    check(rc != KMIDI_OK && p == NULL && strstr(err, "no.such.property") != NULL,
          "unknown property refused, key named: %s", err);
    rc = T->producer_new(secret, 1, &p, err, sizeof err);
    check(rc != KMIDI_OK && strstr(err, "hunter2") == NULL && strstr(err, "my.secret.token") != NULL,
          "secret value never echoed: %s", err);
    rc = T->producer_new(badval, 1, &p, err, sizeof err);
    check(rc != KMIDI_OK && strstr(err, "linger.ms") != NULL, "bad value refused: %s", err);
    rc = T->consumer_new(unknown, 1, NULL, topics, 1, KMIDI_OFFSET_LATEST, &c, err, sizeof err);
    check(rc == KMIDI_INVALID_ARG && c == NULL, "consumer without a group refused: %s", err);
    rc = T->consumer_new(unknown, 1, "g", topics, 1, 7, &c, err, sizeof err);
    check(rc == KMIDI_INVALID_ARG, "bad offset_reset refused: %s", err);
    /* Truncation: a tiny errbuf still gets a NUL-terminated prefix. */
    memset(err, 'X', sizeof err);
    rc = T->producer_new(unknown, 2, &p, err, 8);
    check(rc != KMIDI_OK && strlen(err) == 7, "errbuf of 8 holds \"%s\"", err);
}

static void test_unreachable(void) {
    /* Port 1 on loopback: connection refused, instantly and forever. */
    kmidi_kv cfg[] = {{"bootstrap.servers", "127.0.0.1:1"}, {"message.timeout.ms", "1500"}};
    kmidi_kv cfg_admin[] = {{"bootstrap.servers", "127.0.0.1:1"}};
    const char *topics[] = {"t"};
    char err[512] = "";
    const char *text = NULL;
    kmidi_producer *p = NULL;
    kmidi_consumer *c = NULL;
    kmidi_producer_stats st;
    kmidi_message m;
    int32_t parts = 42;
    long long t0;
    int rc, i, n_fail = 0;

    t0 = now_ms();
    rc = T->topic_partitions(cfg_admin, 1, "t", 2000, &parts, err, sizeof err);
    check(rc == KMIDI_TIMEOUT && now_ms() - t0 < 3500,
          "topic_partitions unreachable -> TIMEOUT in %lld ms (bound 2000): %s", now_ms() - t0, err);
    t0 = now_ms();
    rc = T->create_topic(cfg_admin, 1, "t", 1, 1, NULL, 0, 2000, err, sizeof err);
    check(rc == KMIDI_TIMEOUT && now_ms() - t0 < 4000,
          "create_topic unreachable -> TIMEOUT in %lld ms (bound 2000): %s", now_ms() - t0, err);

    err[0] = '\0';
    rc = T->producer_new(cfg, 2, &p, err, sizeof err);
    check(rc == KMIDI_OK, "producer_new against unreachable broker (%s)", err);
    if (p != NULL) {
        for (i = 0; i < 3; i++)
            T->produce(p, "t", NULL, 0, (const uint8_t *)"x", 1);
        t0 = now_ms();
        rc = T->flush(p, 300);
        check(rc == KMIDI_TIMEOUT, "flush(300) -> TIMEOUT in %lld ms: %s", now_ms() - t0,
              T->producer_last_error(p));
        /* message.timeout.ms=1500 (librdkafka scans for timeouts about once a
           second): the reports must arrive through the plugin's own thread, without
           any flush/poll by us, so only stats is called while waiting. */
        t0 = now_ms();
        do {
            struct timespec ts = {0, 100000000L};
            nanosleep(&ts, NULL);
            T->producer_stats(p, &st);
        } while (st.failed < 3 && now_ms() - t0 < 6000);
        printf("     (3 failures reported %lld ms after flush)\n", now_ms() - t0);
        check(st.sent == 3 && st.failed == 3 && st.delivered == 0,
              "failures reported without host polling: sent=%llu failed=%llu",
              (unsigned long long)st.sent, (unsigned long long)st.failed);
        while (T->producer_take_failure(p, &text) == KMIDI_OK) {
            if (n_fail++ == 0)
                printf("     (failure: %s)\n", text);
        }
        check(n_fail == 3, "take_failure returned %d texts, then TIMEOUT", n_fail);
        /* Leave one queued record for producer_free to purge. */
        T->produce(p, "t", NULL, 0, (const uint8_t *)"y", 1);
        t0 = now_ms();
        T->producer_free(p);
        check(now_ms() - t0 < 4000, "producer_free with an undeliverable record: %lld ms",
              now_ms() - t0);
    }

    err[0] = '\0';
    rc = T->consumer_new(cfg_admin, 1, "g-unreachable", topics, 1, KMIDI_OFFSET_LATEST, &c, err,
                         sizeof err);
    check(rc == KMIDI_OK, "consumer_new against unreachable broker (%s)", err);
    if (c != NULL) {
        int timeouts = 0, transients = 0, other = 0;
        long long deadline = now_ms() + 3000;
        t0 = now_ms();
        while (now_ms() < deadline) {
            rc = T->poll(c, 500, &m);
            if (rc == KMIDI_TIMEOUT)
                timeouts++;
            else if (rc == KMIDI_TRANSIENT)
                transients++;
            else
                other++;
            if (rc == KMIDI_TRANSIENT && transients == 1)
                printf("     (transient: %s)\n", T->consumer_last_error(c));
        }
        check(other == 0 && transients > 0, "polls: %d TIMEOUT, %d TRANSIENT (dead cluster is reported), %d other",
              timeouts, transients, other);
        t0 = now_ms();
        T->consumer_free(c);
        check(now_ms() - t0 < 6000, "consumer_free unreachable in %lld ms", now_ms() - t0);
    }
}

int main(int argc, char **argv) {
    void *lib;
    const kmidi_transport_table *(*entry)(uint32_t);
    char topic[64], topic3[80];

    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s PLUGIN.so BOOTSTRAP [KAFKA_VERSION]\n", argv[0]);
        return 2;
    }
    lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    /* POSIX guarantees this object-to-function pointer conversion works for dlsym;
       memcpy keeps -pedantic quiet about it. */
    {
        void *sym = dlsym(lib, KMIDI_TRANSPORT_SYMBOL);
        if (sym == NULL) {
            fprintf(stderr, "dlsym: %s\n", dlerror());
            return 1;
        }
        memcpy(&entry, &sym, sizeof entry);
    }
    check(entry(2) == NULL, "kmidi_transport_v1(2) -> NULL");
    check(entry(0) == NULL, "kmidi_transport_v1(0) -> NULL");
    T = entry(1);
    check(T != NULL, "kmidi_transport_v1(1) -> table");
    if (T == NULL)
        return 1;
    check(T->magic == KMIDI_TRANSPORT_MAGIC && T->abi_version == 1 &&
              T->struct_size == sizeof(kmidi_transport_table) && T->reserved == 0,
          "magic %#x abi %u struct_size %u", T->magic, T->abi_version, T->struct_size);
    check(T == entry(1), "the table is static (same pointer twice)");
    check(strcmp(T->name, "c-rdkafka") == 0 && strcmp(T->library, "librdkafka (C API)") == 0 &&
              T->library_version != NULL && T->library_version[0] != '\0',
          "name %s, library %s %s, capabilities %#llx", T->name, T->library, T->library_version,
          (unsigned long long)T->capabilities);
    if (getenv("KMIDI_LIBRDKAFKA_VERSION") != NULL)
        check(strcmp(T->library_version, getenv("KMIDI_LIBRDKAFKA_VERSION")) == 0,
              "library_version %s is the librdkafka built for the plugin (%s)",
              T->library_version, getenv("KMIDI_LIBRDKAFKA_VERSION"));
    check(T->struct_size == 192, "struct_size 192: the table has the appended entries");
    check(T->capabilities == 0x7f,
          "capabilities groups|timestamps|headers|tls|sasl|idempotence|consumer-protocol");
    check(T->producer_new && T->produce && T->flush && T->producer_stats &&
              T->producer_take_failure && T->producer_last_error && T->producer_free &&
              T->consumer_new && T->poll && T->commit && T->consumer_last_error &&
              T->consumer_free && T->topic_partitions && T->create_topic &&
              T->consumer_assignment && T->producer_settings && T->consumer_settings &&
              T->partition_leaders,
          "every function pointer set");

    snprintf(topic, sizeof topic, "kmidi-c-rdkafka-%d-%lld", (int)getpid(), now_ms());
    snprintf(topic3, sizeof topic3, "%s-p3", topic);

    test_config_errors();
    test_admin(argv[2], topic, topic3);
    test_roundtrip(argv[2], topic);
    test_first_delivery(argv[2], topic);
    test_settings_refusals();
    test_group(argv[2], topic3, argc < 4 || atoi(argv[3]) >= 4);
    test_leaders(argv[2], topic3);
    test_unreachable();

    printf("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
    /* The ABI says the host never unloads a plugin; neither does this harness. */
    return failures ? 1 : 0;
}
