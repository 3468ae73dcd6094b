/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Getting a new idempotent producer its producer id as soon as a broker is up,
 * instead of about 500 ms later: a workaround for how librdkafka 2.12 starts up,
 * kept apart from producer.c because it is about librdkafka's timers, not about
 * the ABI's producer.
 *
 * librdkafka asks for the id (InitProducerId) when a metadata response is parsed,
 * or when its 500 ms retry timer fires. A new client's first metadata response
 * comes over the bootstrap connection, which librdkafka then decommissions in
 * favour of the broker the metadata names (connected ~50 ms later, after its
 * sparse-connection back-off): when that response is parsed no broker is usable,
 * the id waits for the timer, and so does every record produced meanwhile. The
 * first notes of a song then arrive half a second late in one burst, and a cold
 * producer spends half a second of benchmark 5 (10 000 notes of 10 KB) idle:
 * c-rdkafka measured 0.38-0.45x the built-in there, which loads metadata first.
 * A metadata response from a named broker (orig_broker_id >= 0) is parsed while
 * that broker is up, so librdkafka sends InitProducerId at once.
 */

#include "internal.h"

/* Each request waits at most this long, so producer_free (which raises *stop and
   joins the thread running this) never waits much longer than one slice. */
#define PRIME_SLICE_MS 100
/* At most this many requests, and nothing after PRIME_LIMIT_MS (an unreachable
   cluster): librdkafka's own timer still gets the id then, as without this. */
#define PRIME_MAX_REQUESTS 4
#define PRIME_LIMIT_MS 10000

/* Requests metadata for topic until a broker the cluster named answers. The request
   names the topic being produced to, as the built-in transport's warm_up does:
   rd_kafka_metadata without a topic would ask for every topic in the cluster. Runs
   on the producer's poller thread, so produce and producer_new never wait for it. */
void kmidi_crd_prime_pid(rd_kafka_t *rk, const char *topic, atomic_bool *stop) {
    int64_t until = kmidi_crd_now_ms() + PRIME_LIMIT_MS;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    int requests = 0;
    if (rkt == NULL)
        return;
    while (!atomic_load(stop) && requests < PRIME_MAX_REQUESTS && kmidi_crd_now_ms() < until) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, PRIME_SLICE_MS);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            int32_t from = md->orig_broker_id;
            rd_kafka_metadata_destroy(md);
            if (from >= 0)
                break;
            requests++; /* the bootstrap connection answered: ask again */
        } else if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
            requests++; /* sent, not answered within the slice */
        } else if (err != RD_KAFKA_RESP_ERR__TRANSPORT) {
            /* __TRANSPORT: no usable broker within the slice, which it waited out.
               Anything else may return at once: wait a slice rather than spin. */
            requests++;
            rd_kafka_poll(rk, PRIME_SLICE_MS);
        }
        rd_kafka_poll(rk, 0); /* delivery reports and error callbacks stay served */
    }
    rd_kafka_topic_destroy(rkt);
}
