/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * The entries first appended to the table (up to struct_size 184): consumer_assignment
 * with the classic protocol and, on Kafka 4, with KIP-848's group.protocol=consumer; the
 * effective settings; and, on Kafka 3.9, the fatal poll error that
 * group.protocol=consumer must turn into. Split from test_harness.c to keep each
 * file readable; it shares check() and the table through test_harness.h.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_harness.h"

#define N_PARTITIONS 3

/* No broker needed: librdkafka refuses these keys with group.protocol=consumer, so a
   consumer_new that succeeds without them (test_group) proves the plugin never sets
   them itself. */
void test_settings_refusals(void) {
    kmidi_kv cfg[] = {{"bootstrap.servers", "127.0.0.1:1"},
                      {"group.protocol", "consumer"},
                      {"session.timeout.ms", "10000"}};
    const char *topics[] = {"t"};
    kmidi_consumer *c = NULL;
    char err[512] = "";
    int rc = T->consumer_new(cfg, 3, "g", topics, 1, KMIDI_OFFSET_LATEST, &c, err, sizeof err);
    check(rc != KMIDI_OK && c == NULL && strstr(err, "session.timeout.ms") != NULL,
          "group.protocol=consumer with session.timeout.ms refused: %s", err);
    if (c != NULL)
        T->consumer_free(c);
}

/* Partitions 0..N-1 of topic3, each exactly once, and nothing else. */
static int names_all_partitions(const kmidi_topic_partition *tp, size_t n, const char *topic3) {
    int seen[N_PARTITIONS] = {0};
    size_t i;
    if (n != N_PARTITIONS)
        return 0;
    for (i = 0; i < n; i++) {
        if (tp[i].topic == NULL || strcmp(tp[i].topic, topic3) != 0 || tp[i].partition < 0 ||
            tp[i].partition >= N_PARTITIONS || seen[tp[i].partition]++)
            return 0;
    }
    return 1;
}

static void produce_some(const char *bootstrap, const char *topic3) {
    kmidi_kv cfg[] = {{"bootstrap.servers", bootstrap}};
    kmidi_producer *p = NULL;
    char err[512] = "", key[16];
    const char *s;
    int i, rc;
    rc = T->producer_new(cfg, 1, &p, err, sizeof err);
    check(rc == KMIDI_OK, "producer_new for %s (%s)", topic3, err);
    if (p == NULL)
        return;
    s = T->producer_settings(p);
    printf("     (producer settings: %s)\n", s != NULL ? s : "NULL");
    check(s != NULL && strstr(s, "linger.ms=0\n") != NULL && strstr(s, "acks=") != NULL &&
              strstr(s, "enable.idempotence=true\n") != NULL,
          "producer_settings has linger.ms=0, acks, enable.idempotence=true");
    /* Keys spread the records over the partitions; which ones get records does not
       matter, as the assignment covers them all. */
    for (i = 0; i < 30; i++) {
        snprintf(key, sizeof key, "k%d", i);
        T->produce(p, topic3, (const uint8_t *)key, strlen(key), (const uint8_t *)"v", 1);
    }
    rc = T->flush(p, 15000);
    check(rc == KMIDI_OK, "flush 30 records to %s -> %d", topic3, rc);
    T->producer_free(p);
}

static void assignment_with(const char *bootstrap, const char *topic3, const char *protocol) {
    kmidi_kv cfg[] = {{"bootstrap.servers", bootstrap}, {"group.protocol", protocol}};
    kmidi_topic_partition tp[8];
    kmidi_consumer *c = NULL;
    const char *topics[] = {topic3}, *s;
    char err[512] = "", group[96];
    size_t n = 99;
    long long t0 = now_ms(), deadline = t0 + 30000;
    int rc, first = 0;
    snprintf(group, sizeof group, "kmidi-harness-%s-%d-%lld", protocol, (int)getpid(), t0);
    rc = T->consumer_new(cfg, 2, group, topics, 1, KMIDI_OFFSET_EARLIEST, &c, err, sizeof err);
    check(rc == KMIDI_OK, "consumer_new group.protocol=%s (%s)", protocol, err);
    if (c == NULL)
        return;
    s = T->consumer_settings(c);
    printf("     (consumer settings, %s: %s)\n", protocol, s != NULL ? s : "NULL");
    check(s != NULL && strstr(s, "fetch.wait.max.ms=") != NULL &&
              strstr(s, "fetch.min.bytes=") != NULL,
          "consumer_settings (%s) has fetch.wait.max.ms and fetch.min.bytes", protocol);
    {
        char want[64];
        int classic = strcmp(protocol, "classic") == 0;
        snprintf(want, sizeof want, "group.protocol=%s\n", protocol);
        check(s != NULL && strstr(s, want) != NULL &&
                  (strstr(s, "session.timeout.ms=") != NULL) == classic &&
                  (strstr(s, "partition.assignment.strategy=") != NULL) == classic,
              "consumer_settings (%s) names the protocol, and the client-side group timings "
              "only for classic",
              protocol);
    }
    rc = T->consumer_assignment(c, tp, 8, &n);
    check(rc == KMIDI_OK, "consumer_assignment before joining -> %d, %zu partition(s)", rc, n);
    while (!first && now_ms() < deadline) {
        kmidi_message m;
        rc = T->poll(c, 500, &m);
        if (rc == KMIDI_OK)
            first = 1;
        else if (rc != KMIDI_TIMEOUT && rc != KMIDI_TRANSIENT)
            break;
    }
    check(first, "first record with group.protocol=%s in %lld ms (last poll %d %s)", protocol,
          now_ms() - t0, rc, first ? "" : T->consumer_last_error(c));
    rc = T->consumer_assignment(c, tp, 8, &n);
    check(rc == KMIDI_OK && n > 0, "assignment after the first record (%s): %zu partition(s)",
          protocol, n);
    /* An incremental assignment may still be completing: give it a few polls. */
    deadline = now_ms() + 10000;
    while (!(rc == KMIDI_OK && names_all_partitions(tp, n, topic3)) && now_ms() < deadline) {
        kmidi_message m;
        T->poll(c, 100, &m);
        rc = T->consumer_assignment(c, tp, 8, &n);
    }
    check(rc == KMIDI_OK && names_all_partitions(tp, n, topic3),
          "assignment (%s) is %s [0..%d], each once", protocol, topic3, N_PARTITIONS - 1);
    rc = T->consumer_assignment(c, tp, 1, &n);
    check(rc == KMIDI_OK && n == N_PARTITIONS && strcmp(tp[0].topic, topic3) == 0,
          "consumer_assignment(cap 1) writes 1 and reports %zu", n);
    rc = T->consumer_assignment(c, NULL, 0, &n);
    check(rc == KMIDI_OK && n == N_PARTITIONS, "consumer_assignment(NULL, 0) reports %zu", n);
    T->consumer_free(c);
}

/* A broker without KIP-848 must end the instrument with a text saying what to do. */
static void consumer_protocol_refused(const char *bootstrap, const char *topic3) {
    kmidi_kv cfg[] = {{"bootstrap.servers", bootstrap}, {"group.protocol", "consumer"}};
    kmidi_consumer *c = NULL;
    const char *topics[] = {topic3};
    char err[512] = "";
    long long t0 = now_ms();
    int rc = KMIDI_TIMEOUT, transients = 0;
    rc = T->consumer_new(cfg, 2, "kmidi-harness-kip848", topics, 1, KMIDI_OFFSET_EARLIEST, &c,
                         err, sizeof err);
    check(rc == KMIDI_OK, "consumer_new group.protocol=consumer on a pre-KIP-848 broker (%s)",
          err);
    if (c == NULL)
        return;
    while (now_ms() - t0 < 20000) {
        kmidi_message m;
        rc = T->poll(c, 500, &m);
        if (rc == KMIDI_TRANSIENT && transients++ < 3)
            printf("     (transient: %s)\n", T->consumer_last_error(c));
        if (rc != KMIDI_TIMEOUT && rc != KMIDI_TRANSIENT)
            break;
    }
    printf("     (after %lld ms poll -> %d: %s)\n", now_ms() - t0, rc,
           rc == KMIDI_TIMEOUT ? "" : T->consumer_last_error(c));
    check(rc == KMIDI_ERROR && strstr(T->consumer_last_error(c), "KIP-848") != NULL &&
              strstr(T->consumer_last_error(c), "group.protocol=classic") != NULL,
          "poll -> KMIDI_ERROR naming KIP-848 and group.protocol=classic");
    T->consumer_free(c);
}

void test_group(const char *bootstrap, const char *topic3, int kip848) {
    produce_some(bootstrap, topic3);
    assignment_with(bootstrap, topic3, "classic");
    if (kip848)
        assignment_with(bootstrap, topic3, "consumer");
    else
        consumer_protocol_refused(bootstrap, topic3);
}
