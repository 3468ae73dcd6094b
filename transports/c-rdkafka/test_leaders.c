/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * partition_leaders, the entry appended after the 184-byte table: on the single
 * broker test.sh starts (node.id 1), every partition of a 3-partition topic is led by
 * broker 1 with replicas and ISR [1]; buffers too small get the full counts back (the
 * host's cue to call again); a missing topic has no partitions; an unreachable
 * cluster is a TIMEOUT within the timeout.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "test_harness.h"

#define N_PARTITIONS 3

static kmidi_leadership buffers(kmidi_partition_leader *parts, size_t n_parts, int32_t *brokers,
                                size_t n_brokers, int32_t *ids, size_t n_ids) {
    kmidi_leadership out;
    memset(&out, 0, sizeof out);
    out.partitions = parts;
    out.partitions_cap = n_parts;
    out.brokers = brokers;
    out.brokers_cap = n_brokers;
    out.ids = ids;
    out.ids_cap = n_ids;
    return out;
}

/* Every partition 0..N-1 once, led by broker 1, replicas and ISR exactly [1]. */
static int all_led_by_one(const kmidi_leadership *out) {
    int seen[N_PARTITIONS] = {0};
    size_t i;
    if (out->n_partitions != N_PARTITIONS || out->n_brokers != 1 || out->brokers[0] != 1)
        return 0;
    for (i = 0; i < out->n_partitions; i++) {
        const kmidi_partition_leader *p = &out->partitions[i];
        if (p->partition < 0 || p->partition >= N_PARTITIONS || seen[p->partition]++ ||
            p->leader != 1 || p->n_replicas != 1 || p->n_isr != 1 || p->replicas >= out->n_ids ||
            p->isr >= out->n_ids || out->ids[p->replicas] != 1 || out->ids[p->isr] != 1)
            return 0;
    }
    return 1;
}

void test_leaders(const char *bootstrap, const char *topic3) {
    kmidi_kv cfg[] = {{"bootstrap.servers", bootstrap}};
    kmidi_kv unreachable[] = {{"bootstrap.servers", "127.0.0.1:1"}};
    kmidi_partition_leader parts[8];
    int32_t brokers[4], ids[32];
    kmidi_leadership out;
    char err[512] = "", missing[96];
    long long t0;
    int rc;

    out = buffers(parts, 8, brokers, 4, ids, 32);
    rc = T->partition_leaders(cfg, 1, topic3, 5000, &out, err, sizeof err);
    check(rc == KMIDI_OK && all_led_by_one(&out),
          "partition_leaders(%s): %zu partitions, %zu brokers, %zu ids, all led by 1 (rc %d %s)",
          topic3, out.n_partitions, out.n_brokers, out.n_ids, rc, rc ? err : "");

    out = buffers(parts, 1, NULL, 0, ids, 1);
    rc = T->partition_leaders(cfg, 1, topic3, 5000, &out, err, sizeof err);
    check(rc == KMIDI_OK && out.n_partitions == N_PARTITIONS && out.n_brokers == 1 &&
              out.n_ids == 2 * N_PARTITIONS,
          "small buffers: full counts back (%zu partitions, %zu brokers, %zu ids)",
          out.n_partitions, out.n_brokers, out.n_ids);

    snprintf(missing, sizeof missing, "%s-missing", topic3);
    out = buffers(parts, 8, brokers, 4, ids, 32);
    rc = T->partition_leaders(cfg, 1, missing, 5000, &out, err, sizeof err);
    check(rc == KMIDI_OK && out.n_partitions == 0 && out.n_brokers == 1,
          "partition_leaders(missing): no partitions, broker still listed (rc %d)", rc);
    rc = T->partition_leaders(cfg, 1, topic3, 5000, NULL, err, sizeof err);
    check(rc == KMIDI_INVALID_ARG, "NULL out refused: %s", err);

    t0 = now_ms();
    out = buffers(parts, 8, brokers, 4, ids, 32);
    rc = T->partition_leaders(unreachable, 1, "t", 2000, &out, err, sizeof err);
    check(rc == KMIDI_TIMEOUT && now_ms() - t0 < 3500,
          "partition_leaders unreachable -> TIMEOUT in %lld ms (bound 2000): %s", now_ms() - t0,
          err);
}
