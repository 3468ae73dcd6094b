/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* What test_harness.c (the core ABI checks) shares with test_group.c (assignment,
   settings, KIP-848), test_producer.c (first delivery) and test_leaders.c (partition
   leaders): one table, one failure count, one output format. */
#ifndef KMIDI_CRD_TEST_HARNESS_H
#define KMIDI_CRD_TEST_HARNESS_H

#include "kmidi_transport.h"

extern const kmidi_transport_table *T;

void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
long long now_ms(void);

/* test_group.c. kip848: whether the broker offers group.protocol=consumer. */
void test_settings_refusals(void);
void test_group(const char *bootstrap, const char *topic3, int kip848);

/* test_producer.c: a new producer's first delivery does not wait 500 ms. */
void test_first_delivery(const char *bootstrap, const char *topic);

/* test_leaders.c: partition_leaders on the 3-partition topic of a single broker. */
void test_leaders(const char *bootstrap, const char *topic3);

#endif
