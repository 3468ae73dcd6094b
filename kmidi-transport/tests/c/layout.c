/* Prints the header's struct sizes and field offsets, one "name value" per line, so
 * plugin_abi.rs can compare them with the Rust mirror (kmidi_transport::plugin::abi). */
#include <stddef.h>
#include <stdio.h>
#include "kmidi_transport.h"

#define OFF(type, field) printf(#type "." #field " %zu\n", offsetof(type, field))

int main(void) {
    printf("kmidi_kv %zu\n", sizeof(kmidi_kv));
    printf("kmidi_message %zu\n", sizeof(kmidi_message));
    printf("kmidi_producer_stats %zu\n", sizeof(kmidi_producer_stats));
    printf("kmidi_topic_partition %zu\n", sizeof(kmidi_topic_partition));
    printf("kmidi_transport_table %zu\n", sizeof(kmidi_transport_table));
    printf("kmidi_partition_leader %zu\n", sizeof(kmidi_partition_leader));
    printf("kmidi_leadership %zu\n", sizeof(kmidi_leadership));
    OFF(kmidi_message, partition);
    OFF(kmidi_message, offset);
    OFF(kmidi_message, key_len);
    OFF(kmidi_message, value);
    OFF(kmidi_message, timestamp_ms);
    OFF(kmidi_transport_table, name);
    OFF(kmidi_transport_table, capabilities);
    OFF(kmidi_transport_table, producer_new);
    OFF(kmidi_transport_table, producer_free);
    OFF(kmidi_transport_table, consumer_new);
    OFF(kmidi_transport_table, consumer_free);
    OFF(kmidi_transport_table, topic_partitions);
    OFF(kmidi_transport_table, create_topic);
    OFF(kmidi_transport_table, consumer_assignment);
    OFF(kmidi_transport_table, producer_settings);
    OFF(kmidi_transport_table, consumer_settings);
    OFF(kmidi_transport_table, partition_leaders);
    OFF(kmidi_topic_partition, partition);
    OFF(kmidi_partition_leader, leader);
    OFF(kmidi_partition_leader, replicas);
    OFF(kmidi_partition_leader, n_isr);
    OFF(kmidi_leadership, n_partitions);
    OFF(kmidi_leadership, brokers);
    OFF(kmidi_leadership, ids);
    OFF(kmidi_leadership, n_ids);
    return 0;
}
