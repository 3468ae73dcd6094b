// SPDX-License-Identifier: MIT OR Apache-2.0
//
// Benchmark 2's fair reference for kmidi's music mode: the Java client (from the
// broker's own jars) sends one record every INTERVAL_MS whatever the previous one did
// (open loop, as a song is played), and a consumer in the same JVM times each arrival
// from its send (System.nanoTime on both ends: one clock, no skew). Kafka's
// EndToEndLatency is closed loop (send, wait for it, send the next), which keeps every
// thread on the path busy; this one leaves the path idle between records, as music does.
//
// Run by kmidi-bench through `scripts/kafka.sh run-tool VERSION path/to/this.java ...`
// (Java's single-file source launcher, the Kafka jars on the class path):
//   OpenLoopLatency BOOTSTRAP TOPIC COUNT INTERVAL_MS SIZE WARMUP
// Prints one line: `open-loop n=.. lost=.. p50_us=.. p99_us=.. max_us=.. mean_us=..`.

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class OpenLoopLatency {
    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: OpenLoopLatency BOOTSTRAP TOPIC COUNT INTERVAL_MS SIZE WARMUP");
            System.exit(2);
        }
        String bootstrap = args[0];
        String topic = args[1];
        int count = Integer.parseInt(args[2]);
        long intervalNs = Long.parseLong(args[3]) * 1_000_000L;
        int size = Math.max(16, Integer.parseInt(args[4]));
        int warmup = Integer.parseInt(args[5]);
        int total = warmup + count;

        // kmidi's producer settings (acks=all, idempotent, no linger); the consumer keeps
        // the Java client's defaults (fetch.min.bytes=1, fetch.max.wait.ms=500), as
        // kmidi's consumer keeps librdkafka's.
        Properties pp = new Properties();
        pp.put("bootstrap.servers", bootstrap);
        pp.put("acks", "all");
        pp.put("enable.idempotence", "true");
        pp.put("linger.ms", "0");
        pp.put("key.serializer", ByteArraySerializer.class.getName());
        pp.put("value.serializer", ByteArraySerializer.class.getName());
        Properties cp = new Properties();
        cp.put("bootstrap.servers", bootstrap);
        cp.put("enable.auto.commit", "false");
        cp.put("auto.offset.reset", "latest");
        cp.put("key.deserializer", ByteArrayDeserializer.class.getName());
        cp.put("value.deserializer", ByteArrayDeserializer.class.getName());

        long[] latencyNs = new long[total];
        Arrays.fill(latencyNs, -1L);
        AtomicBoolean done = new AtomicBoolean(false);
        ConcurrentHashMap<Integer, Boolean> seen = new ConcurrentHashMap<>();
        TopicPartition tp = new TopicPartition(topic, 0);

        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp);
             KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp)) {
            consumer.assign(List.of(tp));
            consumer.seekToEnd(List.of(tp));
            // Resolves the end offset now, so the first record is not missed.
            consumer.position(tp);
            // The producer's metadata and id before the first timed record.
            producer.partitionsFor(topic);

            Thread reader = new Thread(() -> {
                while (!done.get() && seen.size() < total) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                        long now = System.nanoTime();
                        ByteBuffer b = ByteBuffer.wrap(r.value());
                        long sent = b.getLong();
                        int seq = b.getInt();
                        if (seq >= 0 && seq < total && seen.putIfAbsent(seq, true) == null) {
                            latencyNs[seq] = now - sent;
                        }
                    }
                }
            });
            reader.start();

            long start = System.nanoTime() + intervalNs;
            for (int i = 0; i < total; i++) {
                long due = start + i * intervalNs;
                long wait;
                while ((wait = due - System.nanoTime()) > 0) {
                    LockSupport.parkNanos(wait);
                }
                ByteBuffer b = ByteBuffer.allocate(size);
                b.putLong(System.nanoTime());
                b.putInt(i);
                producer.send(new ProducerRecord<>(topic, 0, null, b.array()));
            }
            producer.flush();
            // Every record has had 10 s to arrive; then the reader stops.
            reader.join(10_000);
            done.set(true);
            reader.join(2_000);
        }

        long[] measured = Arrays.stream(latencyNs, warmup, total).filter(v -> v >= 0).sorted().toArray();
        int lost = count - measured.length;
        if (measured.length == 0) {
            System.out.printf("open-loop n=0 lost=%d%n", lost);
            System.exit(1);
        }
        double mean = Arrays.stream(measured).average().orElse(0) / 1e3;
        System.out.printf("open-loop n=%d lost=%d p50_us=%d p99_us=%d max_us=%d mean_us=%.1f%n",
                measured.length, lost, pct(measured, 50) / 1000, pct(measured, 99) / 1000,
                measured[measured.length - 1] / 1000, mean);
    }

    /** The nearest-rank percentile of sorted values. */
    private static long pct(long[] sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
