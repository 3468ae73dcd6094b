/* End-to-end check of libkmidi_franz_go.so through the C ABI only, as the Rust host
 * uses it: dlopen, table checks, admin, produce/flush/consume round trip, commit,
 * unreachable-broker timeouts, argument checks, and what loading a Go runtime does to
 * the host's signal handlers.
 *
 * Usage: test_harness PLUGIN.so BOOTSTRAP      (BOOTSTRAP = 127.0.0.1:PORT of a live broker)
 * Prints one line per check and "N passed, N failed" last; exit status 0 iff none failed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kmidi_transport.h"

static int passed, failed;

static void check(int ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s: ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    if (ok) {
        passed++;
    } else {
        failed++;
    }
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static volatile sig_atomic_t sigint_count, sigterm_count;
static void on_sigint(int sig) { (void)sig; sigint_count++; }
static void on_sigterm(int sig) { (void)sig; sigterm_count++; }

static int handler_is(int sig, void (*h)(int), int *onstack) {
    struct sigaction sa;
    sigaction(sig, NULL, &sa);
    if (onstack) *onstack = (sa.sa_flags & SA_ONSTACK) != 0;
    return sa.sa_handler == h;
}

static const char *handler_name(int sig) {
    struct sigaction sa;
    sigaction(sig, NULL, &sa);
    if (sa.sa_handler == SIG_DFL) return "SIG_DFL";
    if (sa.sa_handler == SIG_IGN) return "SIG_IGN";
    return "a handler";
}

/* Send sig to every thread of this process (Go's threads included) with tgkill. */
static int signal_every_thread(int sig) {
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (syscall(SYS_tgkill, getpid(), atoi(e->d_name), sig) == 0) n++;
    }
    closedir(d);
    return n;
}

static const kmidi_transport_table *T;

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s PLUGIN.so BOOTSTRAP\n", argv[0]);
        return 2;
    }
    const char *so = argv[1], *bootstrap = argv[2];
    char err[512];
    char topic[64], topic3[96], missing[96], group[96];
    snprintf(topic, sizeof topic, "kmidi-fg-%d-%ld", (int)getpid(), (long)time(NULL));
    snprintf(topic3, sizeof topic3, "%s-p3", topic);
    snprintf(missing, sizeof missing, "%s-missing", topic);
    snprintf(group, sizeof group, "%s-g", topic);

    /* ---- signals, before the Go runtime exists: the host's handlers and SIGPIPE ignored
       (as a Rust binary has it). */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint; /* deliberately no SA_ONSTACK */
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_sigterm;
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* ---- load ---- */
    void *lib = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    check(lib != NULL, "dlopen %s%s%s", so, lib ? "" : ": ", lib ? "" : dlerror());
    if (!lib) goto done;
    const kmidi_transport_table *(*entry)(uint32_t) = NULL;
    void *sym = dlsym(lib, KMIDI_TRANSPORT_SYMBOL);
    memcpy(&entry, &sym, sizeof entry); /* ISO C has no object-to-function pointer cast */
    check(entry != NULL, "symbol %s", KMIDI_TRANSPORT_SYMBOL);
    if (!entry) goto done;
    check(entry(0) == NULL, "kmidi_transport_v1(0) refuses an ABI-0 host");
    T = entry(KMIDI_TRANSPORT_ABI_VERSION);
    check(T != NULL, "kmidi_transport_v1(1) returns a table");
    if (!T) goto done;
    check(T->magic == KMIDI_TRANSPORT_MAGIC, "magic 0x%08" PRIx32, T->magic);
    check(T->abi_version == KMIDI_TRANSPORT_ABI_VERSION, "abi_version %" PRIu32, T->abi_version);
    check(T->struct_size == sizeof(kmidi_transport_table), "struct_size %" PRIu32 " == %zu",
          T->struct_size, sizeof(kmidi_transport_table));
    check(T->reserved == 0, "reserved 0");
    check(strcmp(T->name, "franz-go") == 0, "name \"%s\"", T->name);
    check(strcmp(T->library, "franz-go") == 0, "library \"%s\"", T->library);
    check(T->library_version[0] == 'v' && strcmp(T->library_version, "unknown") != 0,
          "library_version \"%s\" (the kgo module version)", T->library_version);
    uint64_t caps = KMIDI_CAP_CONSUMER_GROUPS | KMIDI_CAP_TIMESTAMPS | KMIDI_CAP_HEADERS |
                    KMIDI_CAP_TLS | KMIDI_CAP_SASL | KMIDI_CAP_IDEMPOTENCE;
    check(T->capabilities == caps, "capabilities 0x%" PRIx64, T->capabilities);
    check(T->producer_new && T->produce && T->flush && T->producer_stats &&
              T->producer_take_failure && T->producer_last_error && T->producer_free &&
              T->consumer_new && T->poll && T->commit && T->consumer_last_error &&
              T->consumer_free && T->topic_partitions && T->create_topic,
          "every function pointer is set");
    check(entry(1) == T, "the table is static (same pointer on a second call)");

    /* ---- config errors ---- */
    {
        kmidi_kv bad[] = {{"bootstrap.servers", bootstrap}, {"no.such.key", "x"}};
        kmidi_producer *p = (kmidi_producer *)0x1;
        int32_t rc = T->producer_new(bad, 2, &p, err, sizeof err);
        check(rc == KMIDI_ERROR && p == NULL && strstr(err, "no.such.key") &&
                  strstr(err, "bootstrap.servers"),
              "unknown key refused, named, supported keys listed (rc %d): %.90s...", rc, err);
        kmidi_kv secret[] = {{"security.protocol", "SASL_PLAINTEXT"}, {"sasl.mechanism", "GSSAPI"},
                             {"sasl.username", "alice"}, {"sasl.password", "hunter2-secret"}};
        rc = T->producer_new(secret, 4, &p, err, sizeof err);
        check(rc == KMIDI_ERROR && strstr(err, "hunter2") == NULL && strstr(err, "sasl.mechanism"),
              "bad SASL config refused without echoing the password: %s", err);
        kmidi_kv lin[] = {{"linger.ms", "soon"}};
        rc = T->producer_new(lin, 1, &p, err, sizeof err);
        check(rc == KMIDI_ERROR && strstr(err, "linger.ms"), "bad linger.ms: %s", err);
        char tiny[8];
        rc = T->producer_new(bad, 2, &p, tiny, sizeof tiny);
        check(rc == KMIDI_ERROR && strlen(tiny) == sizeof tiny - 1, "errbuf truncated and NUL-terminated");
        kmidi_kv ok[] = {{"bootstrap.servers", bootstrap}, {"acks", "1"}, {"enable.idempotence", "true"}};
        rc = T->producer_new(ok, 3, &p, err, sizeof err);
        check(rc == KMIDI_ERROR && strstr(err, "acks"), "acks=1 with enable.idempotence=true refused: %s", err);
    }

    /* ---- argument checks on bad handles ---- */
    {
        struct { uint64_t tag; uintptr_t h; } fake = {42, 7};
        kmidi_message m;
        check(T->produce(NULL, "t", NULL, 0, NULL, 0) == KMIDI_INVALID_ARG, "produce(NULL) is INVALID_ARG");
        check(T->poll((kmidi_consumer *)&fake, 0, &m) == KMIDI_INVALID_ARG, "poll(foreign pointer) is INVALID_ARG");
        check(T->producer_last_error(NULL) != NULL, "producer_last_error(NULL) is a string");
        T->producer_free(NULL);
        T->consumer_free(NULL);
        check(1, "producer_free(NULL) / consumer_free(NULL) are no-ops");
    }

    kmidi_kv cfg[] = {{"bootstrap.servers", bootstrap}, {"client.id", "kmidi-fg-test"}};

    /* ---- admin ---- */
    {
        kmidi_kv tcfg[] = {{"retention.ms", "600000"}};
        double t0 = now_ms();
        int32_t rc = T->create_topic(cfg, 2, topic, 1, 1, tcfg, 1, 15000, err, sizeof err);
        check(rc == KMIDI_OK, "create_topic %s (1 partition) rc %d in %.0f ms %s", topic, rc, now_ms() - t0,
              rc ? err : "");
        rc = T->create_topic(cfg, 2, topic3, 3, 1, NULL, 0, 15000, err, sizeof err);
        check(rc == KMIDI_OK, "create_topic %s (3 partitions) rc %d %s", topic3, rc, rc ? err : "");
        rc = T->create_topic(cfg, 2, topic, 1, 1, NULL, 0, 15000, err, sizeof err);
        check(rc == KMIDI_ERROR && strstr(err, "already exists"), "create_topic again: rc %d: %s", rc, err);
        int32_t n = -7;
        rc = T->topic_partitions(cfg, 2, topic3, 10000, &n, err, sizeof err);
        check(rc == KMIDI_OK && n == 3, "topic_partitions(existing) = %d (rc %d)", n, rc);
        n = -7;
        rc = T->topic_partitions(cfg, 2, missing, 10000, &n, err, sizeof err);
        check(rc == KMIDI_OK && n == -1, "topic_partitions(missing) = %d (rc %d)", n, rc);
    }

    /* ---- produce 100 ---- */
    enum { N = 100 };
    char keys[N][32], vals[N][600];
    size_t vlen[N];
    kmidi_producer *p = NULL;
    int32_t rc = T->producer_new(cfg, 2, &p, err, sizeof err);
    check(rc == KMIDI_OK && p, "producer_new rc %d %s", rc, rc ? err : "");
    if (!p) goto done;
    {
        double t0 = now_ms(), worst = 0;
        int bad = 0;
        for (int i = 0; i < N; i++) {
            snprintf(keys[i], sizeof keys[i], "song-%d.mid", i % 7);
            vlen[i] = (size_t)snprintf(vals[i], sizeof vals[i], "{\"seq\":%d,\"hex\":\"90 3C %02X\"}", i, i);
            for (int j = 0; j < i * 5 && vlen[i] < sizeof vals[i] - 1; j++) vals[i][vlen[i]++] = (char)(j & 0xff);
            double s = now_ms();
            /* record 0: null key; record 1: empty value; record 2: null value (tombstone) */
            const uint8_t *k = i == 0 ? NULL : (const uint8_t *)keys[i];
            size_t kl = i == 0 ? 0 : strlen(keys[i]);
            const uint8_t *v = i == 2 ? NULL : (const uint8_t *)vals[i];
            size_t vl = (i == 1 || i == 2) ? 0 : vlen[i];
            if (T->produce(p, topic, k, kl, v, vl) != KMIDI_OK) bad++;
            if (now_ms() - s > worst) worst = now_ms() - s;
        }
        check(bad == 0, "produce x%d accepted (%.1f ms total, slowest call %.2f ms)", N, now_ms() - t0, worst);
        t0 = now_ms();
        rc = T->flush(p, 15000);
        check(rc == KMIDI_OK, "flush rc %d in %.0f ms %s", rc, now_ms() - t0, rc ? T->producer_last_error(p) : "");
        kmidi_producer_stats st;
        rc = T->producer_stats(p, &st);
        check(rc == KMIDI_OK && st.sent == N && st.delivered == N && st.failed == 0,
              "stats sent %" PRIu64 " delivered %" PRIu64 " failed %" PRIu64, st.sent, st.delivered, st.failed);
        const char *f = (const char *)0x1;
        check(T->producer_take_failure(p, &f) == KMIDI_TIMEOUT, "no delivery failures");
        check(T->produce(p, NULL, NULL, 0, NULL, 0) == KMIDI_INVALID_ARG &&
                  strlen(T->producer_last_error(p)) > 0,
              "produce(topic NULL) INVALID_ARG with text: %s", T->producer_last_error(p));
        /* records to the 3-partition topic, for the group test below */
        for (int i = 0; i < 30; i++) {
            char k[16];
            snprintf(k, sizeof k, "k%d", i);
            T->produce(p, topic3, (const uint8_t *)k, strlen(k), (const uint8_t *)"x", 1);
        }
        check(T->flush(p, 15000) == KMIDI_OK, "flush 30 records to the 3-partition topic");
    }

    /* ---- consume the 100 back ---- */
    {
        const char *topics[] = {topic};
        kmidi_consumer *c = NULL;
        double t0 = now_ms();
        rc = T->consumer_new(cfg, 2, group, topics, 1, KMIDI_OFFSET_EARLIEST, &c, err, sizeof err);
        check(rc == KMIDI_OK && c, "consumer_new (group %s, earliest) rc %d %s", group, rc, rc ? err : "");
        if (!c) goto done;
        int got = 0, order_ok = 1, bytes_ok = 1, ts_ok = 1, transient = 0;
        double first = -1;
        int64_t wall = (int64_t)time(NULL) * 1000;
        while (got < N && now_ms() - t0 < 30000) {
            kmidi_message m;
            rc = T->poll(c, 500, &m);
            if (rc == KMIDI_TIMEOUT) continue;
            if (rc == KMIDI_TRANSIENT) { transient++; continue; }
            if (rc != KMIDI_OK) {
                check(0, "poll rc %d: %s", rc, T->consumer_last_error(c));
                break;
            }
            if (first < 0) first = now_ms() - t0;
            int i = got;
            if (m.offset != i || m.partition != 0 || strcmp(m.topic, topic) != 0) order_ok = 0;
            if (i == 0) {
                if (m.key != NULL || m.key_len != 0) bytes_ok = 0;
            } else if (m.key == NULL || m.key_len != strlen(keys[i]) || memcmp(m.key, keys[i], m.key_len)) {
                bytes_ok = 0;
            }
            if (i == 1) {
                if (m.value == NULL || m.value_len != 0) bytes_ok = 0;
            } else if (i == 2) {
                if (m.value != NULL || m.value_len != 0) bytes_ok = 0;
            } else if (m.value == NULL || m.value_len != vlen[i] || memcmp(m.value, vals[i], vlen[i])) {
                bytes_ok = 0;
            }
            if (m.timestamp_ms < wall - 120000 || m.timestamp_ms > wall + 120000) ts_ok = 0;
            got++;
        }
        check(got == N, "consumed %d/%d (first after %.0f ms, all after %.0f ms, %d transient)", got, N, first,
              now_ms() - t0, transient);
        check(order_ok, "in order: offsets 0..%d on partition 0 of %s", N - 1, topic);
        check(bytes_ok, "keys and values byte-exact (null key, empty value, null value kept apart)");
        check(ts_ok, "broker timestamps present and near now");
        kmidi_message m;
        t0 = now_ms();
        rc = T->poll(c, 300, &m);
        double waited = now_ms() - t0;
        check(rc == KMIDI_TIMEOUT && waited >= 250 && waited < 1500, "poll with nothing left: TIMEOUT after %.0f ms", waited);
        rc = T->commit(c);
        check(rc == KMIDI_OK, "commit rc %d %s", rc, rc ? T->consumer_last_error(c) : "");
        t0 = now_ms();
        T->consumer_free(c);
        check(1, "consumer_free in %.0f ms", now_ms() - t0);

        /* The same group again: the commit means nothing is left to read. */
        rc = T->consumer_new(cfg, 2, group, topics, 1, KMIDI_OFFSET_EARLIEST, &c, err, sizeof err);
        int again = 0;
        t0 = now_ms();
        while (now_ms() - t0 < 6000) {
            if (T->poll(c, 250, &m) == KMIDI_OK) again++;
        }
        check(rc == KMIDI_OK && again == 0, "same group after commit: %d records redelivered", again);

        /* A new group at latest sees only what is produced after it joined. */
        kmidi_consumer *l = NULL;
        char g2[128];
        snprintf(g2, sizeof g2, "%s-latest", group);
        rc = T->consumer_new(cfg, 2, g2, topics, 1, KMIDI_OFFSET_LATEST, &l, err, sizeof err);
        t0 = now_ms();
        while (now_ms() - t0 < 4000) T->poll(l, 250, &m); /* join and get assigned */
        T->produce(p, topic, (const uint8_t *)"late", 4, (const uint8_t *)"late-value", 10);
        T->flush(p, 10000);
        int late = 0, old = 0;
        t0 = now_ms();
        while (now_ms() - t0 < 10000 && late == 0) {
            if (T->poll(l, 250, &m) == KMIDI_OK) {
                if (m.offset == N && m.value_len == 10 && !memcmp(m.value, "late-value", 10)) late++;
                else old++;
            }
        }
        check(rc == KMIDI_OK && late == 1 && old == 0, "latest: the new record only (late %d, old %d)", late, old);
        T->consumer_free(l);
        T->consumer_free(c);

        /* The 3-partition topic: every record once, across partitions. */
        const char *t3[] = {topic3};
        char g3[128];
        snprintf(g3, sizeof g3, "%s-p3", group);
        rc = T->consumer_new(cfg, 2, g3, t3, 1, KMIDI_OFFSET_EARLIEST, &c, err, sizeof err);
        int parts[3] = {0, 0, 0}, n3 = 0;
        t0 = now_ms();
        while (n3 < 30 && now_ms() - t0 < 20000) {
            if (T->poll(c, 250, &m) == KMIDI_OK && m.partition >= 0 && m.partition < 3) {
                parts[m.partition]++;
                n3++;
            }
        }
        check(rc == KMIDI_OK && n3 == 30, "3 partitions: %d records (%d/%d/%d)", n3, parts[0], parts[1], parts[2]);
        T->consumer_free(c);
    }

    /* ---- signals after the Go runtime is up and busy ---- */
    {
        int onstack = 0;
        check(handler_is(SIGINT, on_sigint, &onstack), "SIGINT handler still the host's after load");
        printf("info: SA_ONSTACK on the host's SIGINT handler after load: %s\n", onstack ? "yes (added by Go)" : "no");
        check(handler_is(SIGTERM, on_sigterm, NULL), "SIGTERM handler still the host's after load");
        printf("info: SIGPIPE disposition after load: %s (was SIG_IGN)\n", handler_name(SIGPIPE));
        kill(getpid(), SIGINT);
        kill(getpid(), SIGTERM);
        int nthreads = signal_every_thread(SIGINT);
        usleep(200000);
        check(sigint_count == 1 + nthreads && sigterm_count == 1,
              "SIGINT reached the host's handler from every one of %d threads (count %d), SIGTERM %d",
              nthreads, (int)sigint_count, (int)sigterm_count);
        int before = (int)sigint_count;
        pthread_kill(pthread_self(), SIGPIPE); /* on a non-Go thread: forwarded to SIG_IGN */
        signal_every_thread(SIGPIPE);          /* on Go threads: Go's handler, ignored */
        usleep(100000);
        check(sigint_count == before, "SIGPIPE to every thread did not kill the process (host had SIG_IGN)");
    }

    /* ---- unreachable broker: bounded timeouts ---- */
    {
        kmidi_kv dead[] = {{"bootstrap.servers", "127.0.0.1:1"}};
        int32_t n = 0;
        double t0 = now_ms();
        rc = T->topic_partitions(dead, 1, topic, 1500, &n, err, sizeof err);
        double el = now_ms() - t0;
        check(rc == KMIDI_TIMEOUT && el < 3000, "topic_partitions on a dead broker: rc %d after %.0f ms: %.100s", rc, el, err);
        t0 = now_ms();
        rc = T->create_topic(dead, 1, topic, 1, 1, NULL, 0, 1000, err, sizeof err);
        el = now_ms() - t0;
        check(rc == KMIDI_TIMEOUT && el < 2500, "create_topic on a dead broker: rc %d after %.0f ms", rc, el);
        kmidi_producer *dp = NULL;
        rc = T->producer_new(dead, 1, &dp, err, sizeof err);
        check(rc == KMIDI_OK, "producer_new on a dead broker is lazy (rc %d)", rc);
        t0 = now_ms();
        rc = T->produce(dp, topic, NULL, 0, (const uint8_t *)"x", 1);
        check(rc == KMIDI_OK && now_ms() - t0 < 50, "produce does not block on a dead broker (%.1f ms)", now_ms() - t0);
        t0 = now_ms();
        rc = T->flush(dp, 1000);
        el = now_ms() - t0;
        check(rc == KMIDI_TIMEOUT && el >= 900 && el < 2000, "flush on a dead broker: rc %d after %.0f ms: %s", rc, el,
              T->producer_last_error(dp));
        t0 = now_ms();
        T->producer_free(dp);
        check(now_ms() - t0 < 3000, "producer_free with an undelivered record: %.0f ms", now_ms() - t0);
        const char *topics[] = {topic};
        kmidi_consumer *dc = NULL;
        rc = T->consumer_new(dead, 1, "g", topics, 1, KMIDI_OFFSET_EARLIEST, &dc, err, sizeof err);
        kmidi_message m;
        t0 = now_ms();
        int32_t prc = T->poll(dc, 700, &m);
        el = now_ms() - t0;
        check(rc == KMIDI_OK && (prc == KMIDI_TIMEOUT || prc == KMIDI_TRANSIENT) && el < 1500,
              "poll on a dead broker: rc %d after %.0f ms", prc, el);
        int warned = prc == KMIDI_TRANSIENT;
        for (int i = 0; i < 3 && !warned; i++) warned = T->poll(dc, 300, &m) == KMIDI_TRANSIENT;
        check(warned && strstr(T->consumer_last_error(dc), "127.0.0.1"),
              "poll on a dead broker warns with TRANSIENT: %s", T->consumer_last_error(dc));
        t0 = now_ms();
        T->consumer_free(dc);
        check(now_ms() - t0 < 3000, "consumer_free on a dead broker: %.0f ms", now_ms() - t0);
    }

    /* ---- a delivery failure is reported, not dropped ---- */
    {
        kmidi_kv short_timeout[] = {{"bootstrap.servers", bootstrap}, {"message.timeout.ms", "5000"}};
        kmidi_producer *fp = NULL;
        rc = T->producer_new(short_timeout, 2, &fp, err, sizeof err);
        /* an oversized record (> broker's max message size) fails for sure */
        size_t big = 3 * 1024 * 1024;
        uint8_t *buf = calloc(1, big);
        T->produce(fp, topic, NULL, 0, buf, big);
        free(buf);
        T->flush(fp, 10000);
        kmidi_producer_stats st;
        T->producer_stats(fp, &st);
        const char *f = NULL;
        int32_t frc = T->producer_take_failure(fp, &f);
        check(rc == KMIDI_OK && st.failed == 1 && frc == KMIDI_OK && f && strlen(f) > 0,
              "oversized record: failed %" PRIu64 ", failure text: %s", st.failed, f ? f : "(none)");
        check(T->producer_take_failure(fp, &f) == KMIDI_TIMEOUT, "only one failure queued");
        T->producer_free(fp);
    }

    /* ---- a panic inside the plugin is caught and poisons the handle ---- */
    if (getenv("KMIDI_FRANZ_GO_TEST_PANIC")) {
        rc = T->produce(p, getenv("KMIDI_FRANZ_GO_TEST_PANIC"), NULL, 0, (const uint8_t *)"x", 1);
        check(rc == KMIDI_PANICKED, "panic in produce -> PANICKED (rc %d): %s", rc, T->producer_last_error(p));
        check(T->flush(p, 100) == KMIDI_PANICKED, "poisoned handle: flush -> PANICKED");
    }
    T->producer_free(p);
    check(1, "producer_free");

done:
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
