/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * How soon a new producer delivers its first record: the producer id it needs is
 * fetched as soon as a broker is up (pid.c), not after librdkafka's 500 ms retry
 * timer. Apart from test_harness.c, which checks what the ABI promises; this checks
 * a property of this plugin.
 */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_harness.h"

/* Well under librdkafka's 500 ms producer-id timer, well over the ~50 ms a first
   delivery takes on loopback (the broker connection waits out librdkafka's 50 ms
   sparse-connection back-off); the best of three, so one slow moment on a shared
   machine does not fail it. */
#define FIRST_DELIVERY_MS 300
#define TRIES 3

void test_first_delivery(const char *bootstrap, const char *topic) {
    kmidi_kv cfg[] = {{"bootstrap.servers", bootstrap}};
    /* Under valgrind everything is tens of times slower: check delivery only. */
    int timed = getenv("KMIDI_VALGRIND") == NULL || strcmp(getenv("KMIDI_VALGRIND"), "1") != 0;
    long long best = LLONG_MAX;
    int i, delivered = 0;
    for (i = 0; i < TRIES; i++) {
        kmidi_producer *p = NULL;
        kmidi_producer_stats st;
        char err[512] = "";
        long long t0 = now_ms();
        int32_t rc = T->producer_new(cfg, 1, &p, err, sizeof err);
        if (rc != KMIDI_OK || p == NULL) {
            check(0, "producer_new for the first-delivery check (%s)", err);
            return;
        }
        rc = T->produce(p, topic, (const uint8_t *)"first", 5, (const uint8_t *)"note", 4);
        if (rc == KMIDI_OK)
            rc = T->flush(p, 10000);
        T->producer_stats(p, &st);
        if (rc == KMIDI_OK && st.delivered == 1) {
            delivered++;
            if (now_ms() - t0 < best)
                best = now_ms() - t0;
        }
        T->producer_free(p);
    }
    check(delivered == TRIES, "a new producer delivered its first record %d/%d times", delivered,
          TRIES);
    if (timed)
        check(best < FIRST_DELIVERY_MS,
              "first record of a new producer delivered in %lld ms (best of %d; < %d ms: "
              "the producer id did not wait for librdkafka's 500 ms timer)",
              best, TRIES, FIRST_DELIVERY_MS);
}
