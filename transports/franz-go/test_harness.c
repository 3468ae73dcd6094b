/* End-to-end check of libkmidi_franz_go.so through the C ABI only, as the Rust host
 * uses it: dlopen, table checks, admin, produce/flush/consume round trip, commit,
 * unreachable-broker timeouts, argument checks, and what loading a Go runtime does to
 * the host's signal handlers.
 *
 * Usage: test_harness PLUGIN.so BOOTSTRAP [KAFKA_VERSION]
 *   BOOTSTRAP = 127.0.0.1:PORT of a live broker. KAFKA_VERSION (e.g. 4.3.1, 3.9.2) picks
 *   the version-specific checks: 4.x runs the KIP-848 consumer protocol and share-group
 *   (KIP-932) checks, 3.x checks that group.protocol=consumer and a share group are
 *   refused with a clear poll error; without it both are skipped.
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

/* The "key=value" line for key in a settings text, copied into buf; NULL if absent. */
static const char *setting(const char *text, const char *key, char *buf, size_t n) {
    size_t kl = strlen(key);
    for (const char *l = text; l && *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        if (len > kl && strncmp(l, key, kl) == 0 && l[kl] == '=') {
            size_t vl = len - kl - 1 < n - 1 ? len - kl - 1 : n - 1;
            memcpy(buf, l + kl + 1, vl);
            buf[vl] = 0;
            return buf;
        }
        l = e ? e + 1 : NULL;
    }
    return NULL;
}

/* Every settings line fed back as a config key must be accepted (compare --equalize). */
static int settings_accepted(const char *text, const char *bootstrap, int consumer, const char *group,
                             const char *topic, char *err, size_t errlen) {
    kmidi_kv kvs[16];
    char keys[16][64], vals[16][128];
    size_t n = 0;
    kvs[n].key = "bootstrap.servers";
    kvs[n++].value = bootstrap;
    for (const char *l = text; l && *l && n < 16;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        const char *eq = memchr(l, '=', len);
        if (eq) {
            snprintf(keys[n], sizeof keys[n], "%.*s", (int)(eq - l), l);
            snprintf(vals[n], sizeof vals[n], "%.*s", (int)(len - (size_t)(eq - l) - 1), eq + 1);
            kvs[n].key = keys[n];
            kvs[n].value = vals[n];
            n++;
        }
        l = e ? e + 1 : NULL;
    }
    int32_t rc;
    err[0] = 0;
    if (consumer) {
        const char *topics[] = {topic};
        kmidi_consumer *c = NULL;
        rc = T->consumer_new(kvs, n, group, topics, 1, KMIDI_OFFSET_LATEST, &c, err, errlen);
        if (rc == KMIDI_OK) T->consumer_free(c);
    } else {
        kmidi_producer *p = NULL;
        rc = T->producer_new(kvs, n, &p, err, errlen);
        if (rc == KMIDI_OK) T->producer_free(p);
    }
    return rc == KMIDI_OK;
}

/* Polls c until it has n records or deadline_ms passes; counts per partition (3 max). */
static int drain(kmidi_consumer *c, int n, double deadline_ms, int parts[3]) {
    int got = 0;
    double t0 = now_ms();
    kmidi_message m;
    while (got < n && now_ms() - t0 < deadline_ms) {
        if (T->poll(c, 250, &m) == KMIDI_OK) {
            if (m.partition >= 0 && m.partition < 3) parts[m.partition]++;
            got++;
        }
    }
    return got;
}

/* The assignment as "topic[p],..." (partitions of topic only) and the count. */
static size_t assignment_of(kmidi_consumer *c, const char *topic, int32_t *rc_out, char *desc, size_t dn) {
    kmidi_topic_partition one[1], many[16];
    size_t n = 0, n2 = 0;
    int32_t rc = T->consumer_assignment(c, one, 1, &n);
    if (rc == KMIDI_OK && n > 1) rc = T->consumer_assignment(c, many, 16, &n2);
    else if (rc == KMIDI_OK) {
        many[0] = one[0];
        n2 = n;
    }
    *rc_out = rc;
    desc[0] = 0;
    size_t mine = 0;
    for (size_t i = 0; rc == KMIDI_OK && i < n2 && i < 16; i++) {
        if (strcmp(many[i].topic, topic) == 0) mine++;
        size_t l = strlen(desc);
        snprintf(desc + l, dn - l, "%s%d", l ? "," : "p", many[i].partition);
    }
    return n == n2 ? mine : (size_t)-1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s PLUGIN.so BOOTSTRAP\n", argv[0]);
        return 2;
    }
    const char *so = argv[1], *bootstrap = argv[2];
    const char *kversion = argc > 3 ? argv[3] : "";
    int kmajor = kversion[0] ? atoi(kversion) : 0; /* 0: unknown, skip version checks */
    char err[512];
    char topic[64], topic3[96], missing[96], group[96], topic_share[96];
    snprintf(topic, sizeof topic, "kmidi-fg-%d-%ld", (int)getpid(), (long)time(NULL));
    snprintf(topic3, sizeof topic3, "%s-p3", topic);
    snprintf(missing, sizeof missing, "%s-missing", topic);
    snprintf(group, sizeof group, "%s-g", topic);
    snprintf(topic_share, sizeof topic_share, "%s-share", topic);

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
    check(strncmp(T->library, "franz-go (", 10) == 0 && strstr(T->library, "v1.22"), "library \"%s\"", T->library);
    check(T->library_version[0] == 'v' && strcmp(T->library_version, "unknown") != 0,
          "library_version \"%s\" (the kgo module version)", T->library_version);
    uint64_t caps = KMIDI_CAP_CONSUMER_GROUPS | KMIDI_CAP_TIMESTAMPS | KMIDI_CAP_HEADERS |
                    KMIDI_CAP_TLS | KMIDI_CAP_SASL | KMIDI_CAP_IDEMPOTENCE |
                    KMIDI_CAP_CONSUMER_PROTOCOL | KMIDI_CAP_SHARE_GROUPS;
    check(T->capabilities == caps, "capabilities 0x%" PRIx64, T->capabilities);
    check(T->producer_new && T->produce && T->flush && T->producer_stats &&
              T->producer_take_failure && T->producer_last_error && T->producer_free &&
              T->consumer_new && T->poll && T->commit && T->consumer_last_error &&
              T->consumer_free && T->topic_partitions && T->create_topic &&
              T->consumer_assignment && T->producer_settings && T->consumer_settings &&
              T->partition_leaders,
          "every function pointer is set (the appended entries too)");
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
        const char *topics[] = {"t"};
        kmidi_consumer *c = NULL;
        kmidi_kv gp[] = {{"bootstrap.servers", bootstrap}, {"group.protocol", "modern"}};
        rc = T->consumer_new(gp, 2, "g", topics, 1, KMIDI_OFFSET_LATEST, &c, err, sizeof err);
        check(rc == KMIDI_ERROR && c == NULL && strstr(err, "group.protocol"), "group.protocol=modern refused: %s", err);
        kmidi_kv rr[] = {{"bootstrap.servers", bootstrap}, {"group.protocol", "consumer"},
                         {"partition.assignment.strategy", "roundrobin"}};
        rc = T->consumer_new(rr, 3, "g", topics, 1, KMIDI_OFFSET_LATEST, &c, err, sizeof err);
        check(rc == KMIDI_ERROR && strstr(err, "partition.assignment.strategy"),
              "group.protocol=consumer with a client-side strategy refused: %s", err);
        kmidi_kv gt[] = {{"bootstrap.servers", bootstrap}, {"kmidi.group.type", "queue"}};
        rc = T->consumer_new(gt, 2, "g", topics, 1, KMIDI_OFFSET_LATEST, &c, err, sizeof err);
        check(rc == KMIDI_ERROR && strstr(err, "kmidi.group.type"), "kmidi.group.type=queue refused: %s", err);
        kmidi_kv sh[] = {{"bootstrap.servers", bootstrap}, {"kmidi.group.type", "share"}};
        rc = T->consumer_new(sh, 2, "", topics, 1, KMIDI_OFFSET_LATEST, &c, err, sizeof err);
        check(rc == KMIDI_ERROR && strstr(err, "share"), "a share group without a name refused: %s", err);
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

        /* partition_leaders: the single test broker (node.id 1) leads all 3 partitions,
           replicas and ISR [1]; small buffers get the full counts back. */
        kmidi_partition_leader lp[8];
        int32_t lb[4], li[32];
        kmidi_leadership L = {lp, 8, 0, lb, 4, 0, li, 32, 0};
        /* create_topic returns before every broker's metadata has the topic: wait for
           it (and its leaders) to show, as a host following a new topic would. */
        for (double until = now_ms() + 10000; now_ms() < until; usleep(100000)) {
            L.n_partitions = 0;
            rc = T->partition_leaders(cfg, 2, topic3, 10000, &L, err, sizeof err);
            if (rc != KMIDI_OK || (L.n_partitions == 3 && L.n_ids == 6 && lp[0].leader >= 0 &&
                                   lp[1].leader >= 0 && lp[2].leader >= 0))
                break;
        }
        int led = rc == KMIDI_OK && L.n_partitions == 3 && L.n_brokers == 1 && lb[0] == 1 &&
                  L.n_ids == 6;
        for (size_t i = 0; led && i < L.n_partitions; i++)
            led = lp[i].partition == (int32_t)i && lp[i].leader == 1 && lp[i].n_replicas == 1 &&
                  lp[i].n_isr == 1 && li[lp[i].replicas] == 1 && li[lp[i].isr] == 1;
        check(led, "partition_leaders(existing): %zu partitions led by broker 1, %zu brokers, %zu ids (rc %d %s)",
              L.n_partitions, L.n_brokers, L.n_ids, rc, rc ? err : "");
        kmidi_leadership small = {lp, 1, 0, NULL, 0, 0, li, 1, 0};
        rc = T->partition_leaders(cfg, 2, topic3, 10000, &small, err, sizeof err);
        check(rc == KMIDI_OK && small.n_partitions == 3 && small.n_brokers == 1 && small.n_ids == 6,
              "partition_leaders(small buffers): full counts %zu/%zu/%zu", small.n_partitions,
              small.n_brokers, small.n_ids);
        kmidi_leadership none = {lp, 8, 9, lb, 4, 0, li, 32, 0};
        rc = T->partition_leaders(cfg, 2, missing, 10000, &none, err, sizeof err);
        check(rc == KMIDI_OK && none.n_partitions == 0 && none.n_brokers == 1,
              "partition_leaders(missing): no partitions (rc %d)", rc);
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
        char v1[64], v2[64], v3[64], text[512];
        const char *st = T->producer_settings(p);
        snprintf(text, sizeof text, "%s", st ? st : "");
        const char *lg = setting(text, "linger.ms", v1, sizeof v1), *ak = setting(text, "acks", v2, sizeof v2),
                   *id = setting(text, "enable.idempotence", v3, sizeof v3);
        int defaults = lg && !strcmp(lg, "0") && ak && !strcmp(ak, "all") && id && !strcmp(id, "true");
        for (char *q = text; *q; q++) if (*q == '\n') *q = ' ';
        check(defaults, "producer_settings (the plugin's defaults): %s", text);
        check(settings_accepted(T->producer_settings(p), bootstrap, 0, NULL, NULL, err, sizeof err),
              "producer_settings lines accepted as config keys %s", err);
        kmidi_kv l5[] = {{"bootstrap.servers", bootstrap}, {"linger.ms", "5"}, {"acks", "1"}};
        kmidi_producer *q5 = NULL;
        rc = T->producer_new(l5, 3, &q5, err, sizeof err);
        st = rc == KMIDI_OK ? T->producer_settings(q5) : "";
        check(rc == KMIDI_OK && strstr(st, "linger.ms=5") && strstr(st, "acks=1") &&
                  strstr(st, "enable.idempotence=false"),
              "producer_settings follow the config (linger.ms=5, acks=1 -> idempotence off)");
        if (q5) T->producer_free(q5);
    }
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
        {
            char text[1024], v[64];
            const char *st = T->consumer_settings(c);
            snprintf(text, sizeof text, "%s", st ? st : "");
            static const char *const want[] = {"fetch.wait.max.ms", "fetch.min.bytes", "group.protocol",
                                               "partition.assignment.strategy", "session.timeout.ms",
                                               "heartbeat.interval.ms"};
            int all = 1;
            for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) all &= setting(text, want[i], v, sizeof v) != NULL;
            check(all && !strcmp(setting(text, "group.protocol", v, sizeof v), "classic") &&
                      !strcmp(setting(text, "partition.assignment.strategy", v, sizeof v), "cooperative-sticky") &&
                      !strcmp(setting(text, "session.timeout.ms", v, sizeof v), "45000"),
                  "consumer_settings has all 6 keys (classic, cooperative-sticky, kgo defaults)");
            check(settings_accepted(text, bootstrap, 1, group, topic, err, sizeof err),
                  "consumer_settings lines accepted as config keys %s", err);
            for (char *q = text; *q; q++) if (*q == '\n') *q = ' ';
            printf("info: consumer settings: %s\n", text);
            kmidi_kv w5[] = {{"bootstrap.servers", bootstrap}, {"fetch.wait.max.ms", "5"},
                             {"partition.assignment.strategy", "range,roundrobin"}};
            kmidi_consumer *c5 = NULL;
            rc = T->consumer_new(w5, 3, group, topics, 1, KMIDI_OFFSET_LATEST, &c5, err, sizeof err);
            st = rc == KMIDI_OK ? T->consumer_settings(c5) : err;
            check(rc == KMIDI_OK && strstr(st, "fetch.wait.max.ms=10") &&
                      strstr(st, "partition.assignment.strategy=range,roundrobin"),
                  "fetch.wait.max.ms=5 (the host's demo value) accepted, raised to kgo's 10 ms minimum; strategy list kept");
            if (c5) T->consumer_free(c5);
        }
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
        {
            char desc[128];
            int32_t arc;
            size_t mine = assignment_of(c, topic3, &arc, desc, sizeof desc);
            check(arc == KMIDI_OK && mine == 3, "classic: consumer_assignment %s (%zu of %s's 3, rc %d)", desc, mine,
                  topic3, arc);
            t0 = now_ms();
            size_t nn = 0;
            for (int i = 0; i < 1000; i++) T->consumer_assignment(c, NULL, 0, &nn);
            check(nn == 3 && now_ms() - t0 < 200, "consumer_assignment x1000 without waiting: %.1f ms",
                  now_ms() - t0);
        }
        T->consumer_free(c);
    }

    /* ---- KIP-848: group.protocol=consumer ---- */
    if (kmajor >= 4) {
        const char *t3[] = {topic3};
        char g4[128];
        snprintf(g4, sizeof g4, "%s-848", group);
        kmidi_kv c848[] = {{"bootstrap.servers", bootstrap}, {"group.protocol", "consumer"}};
        kmidi_consumer *c = NULL;
        double t0 = now_ms();
        rc = T->consumer_new(c848, 2, g4, t3, 1, KMIDI_OFFSET_EARLIEST, &c, err, sizeof err);
        check(rc == KMIDI_OK, "consumer_new group.protocol=consumer rc %d %s", rc, rc ? err : "");
        int parts[3] = {0, 0, 0};
        int n = rc == KMIDI_OK ? drain(c, 30, 20000, parts) : 0;
        check(n == 30, "consumer protocol: %d/30 records (%d/%d/%d) in %.0f ms", n, parts[0], parts[1], parts[2],
              now_ms() - t0);
        char desc[128], text[512], v[64];
        int32_t arc;
        size_t mine = rc == KMIDI_OK ? assignment_of(c, topic3, &arc, desc, sizeof desc) : 0;
        check(rc == KMIDI_OK && arc == KMIDI_OK && mine == 3, "consumer protocol: consumer_assignment %s (%zu of 3)",
              desc, mine);
        snprintf(text, sizeof text, "%s", rc == KMIDI_OK ? T->consumer_settings(c) : "");
        const char *gp = setting(text, "group.protocol", v, sizeof v);
        check(gp && !strcmp(gp, "consumer") && strstr(text, "group.remote.assignor=uniform") &&
                  strstr(text, "fetch.wait.max.ms="),
              "consumer protocol: consumer_settings say group.protocol=consumer, uniform assignor");
        check(settings_accepted(text, bootstrap, 1, g4, topic3, err, sizeof err),
              "consumer protocol: settings lines accepted as config keys %s", err);
        for (char *q = text; *q; q++) if (*q == '\n') *q = ' ';
        printf("info: consumer-protocol settings: %s\n", text);
        check(rc == KMIDI_OK && T->commit(c) == KMIDI_OK, "consumer protocol: commit");
        if (c) T->consumer_free(c);
    } else if (kmajor > 0) {
        const char *t3[] = {topic3};
        char g4[128];
        snprintf(g4, sizeof g4, "%s-848", group);
        kmidi_kv c848[] = {{"bootstrap.servers", bootstrap}, {"group.protocol", "consumer"}};
        kmidi_consumer *c = NULL;
        rc = T->consumer_new(c848, 2, g4, t3, 1, KMIDI_OFFSET_EARLIEST, &c, err, sizeof err);
        int32_t prc = KMIDI_TIMEOUT;
        int records = 0;
        double t0 = now_ms();
        kmidi_message m;
        while (rc == KMIDI_OK && now_ms() - t0 < 15000) {
            prc = T->poll(c, 250, &m);
            if (prc == KMIDI_OK) records++;
            if (prc != KMIDI_OK && prc != KMIDI_TIMEOUT && prc != KMIDI_TRANSIENT) break;
        }
        const char *e = rc == KMIDI_OK ? T->consumer_last_error(c) : err;
        check(rc == KMIDI_OK && prc == KMIDI_ERROR && records == 0 &&
                  strstr(e, "group.protocol=consumer needs a broker with KIP-848 (Apache Kafka 4.0 or newer); use group.protocol=classic"),
              "Kafka %s, group.protocol=consumer: fatal poll error after %.0f ms, %d records: %s", kversion,
              now_ms() - t0, records, e);
        check(rc == KMIDI_OK && T->poll(c, 0, &m) == KMIDI_ERROR, "the error is lasting (next poll too)");
        if (c) T->consumer_free(c);
    }

    /* ---- KIP-932: two share consumers in one share group, a 2-partition topic ---- */
    if (kmajor >= 4) {
        enum { NS = 200 };
        int32_t crc = T->create_topic(cfg, 2, topic_share, 2, 1, NULL, 0, 15000, err, sizeof err);
        check(crc == KMIDI_OK, "create_topic %s (2 partitions) rc %d %s", topic_share, crc, crc ? err : "");
        const char *ts[] = {topic_share};
        char gs[128];
        snprintf(gs, sizeof gs, "%s-share", group);
        kmidi_kv scfg[] = {{"bootstrap.servers", bootstrap}, {"kmidi.group.type", "share"}};
        kmidi_consumer *sa = NULL, *sb = NULL;
        int32_t ra = T->consumer_new(scfg, 2, gs, ts, 1, KMIDI_OFFSET_EARLIEST, &sa, err, sizeof err);
        int32_t rb = T->consumer_new(scfg, 2, gs, ts, 1, KMIDI_OFFSET_EARLIEST, &sb, err, sizeof err);
        check(ra == KMIDI_OK && rb == KMIDI_OK, "two share consumers in share group %s: rc %d %d %s", gs, ra, rb,
              ra || rb ? err : "");
        if (ra == KMIDI_OK && rb == KMIDI_OK) {
            /* half produced before the consumers first poll, half while they do */
            for (int i = 0; i < NS / 2; i++) {
                char k[16], v[16];
                snprintf(k, sizeof k, "k%d", i);
                int vl = snprintf(v, sizeof v, "s%d", i);
                T->produce(p, topic_share, (const uint8_t *)k, strlen(k), (const uint8_t *)v, (size_t)vl);
            }
            T->flush(p, 15000);
            static unsigned char seen[NS];
            int got[2] = {0, 0}, dup = 0, distinct = 0, bad = 0, fatal = 0, produced = NS / 2;
            int parts[2][2] = {{0, 0}, {0, 0}};
            double t0 = now_ms(), first = -1;
            kmidi_consumer *cs[2] = {sa, sb};
            while (distinct < NS && now_ms() - t0 < 40000 && !fatal) {
                if (produced < NS && now_ms() - t0 > 1000) {
                    for (; produced < NS; produced++) {
                        char k[16], v[16];
                        snprintf(k, sizeof k, "k%d", produced);
                        int vl = snprintf(v, sizeof v, "s%d", produced);
                        T->produce(p, topic_share, (const uint8_t *)k, strlen(k), (const uint8_t *)v, (size_t)vl);
                    }
                    T->flush(p, 15000);
                }
                for (int w = 0; w < 2; w++) {
                    kmidi_message m;
                    int32_t prc;
                    while ((prc = T->poll(cs[w], 50, &m)) == KMIDI_OK) {
                        int i = -1;
                        if (m.value && m.value_len > 1 && m.value_len < 15 && m.value[0] == 's') {
                            char num[16];
                            memcpy(num, m.value + 1, m.value_len - 1);
                            num[m.value_len - 1] = 0;
                            i = atoi(num);
                        }
                        if (i < 0 || i >= NS || strcmp(m.topic, topic_share)) {
                            bad++;
                            continue;
                        }
                        if (first < 0) first = now_ms() - t0;
                        got[w]++;
                        if (m.partition == 0 || m.partition == 1) parts[w][m.partition]++;
                        if (seen[i]++) dup++;
                        else distinct++;
                    }
                    if (prc != KMIDI_TIMEOUT && prc != KMIDI_TRANSIENT) {
                        check(0, "share poll rc %d: %s", prc, T->consumer_last_error(cs[w]));
                        fatal = 1;
                    }
                }
            }
            check(distinct == NS && bad == 0,
                  "share group: together %d/%d distinct records (A %d: p0 %d p1 %d; B %d: p0 %d p1 %d), "
                  "%d came twice, first after %.0f ms, all after %.0f ms",
                  distinct, NS, got[0], parts[0][0], parts[0][1], got[1], parts[1][0], parts[1][1], dup, first,
                  now_ms() - t0);
            printf("info: share group figures: A %d, B %d, distinct %d of %d, duplicates %d\n", got[0], got[1],
                   distinct, NS, dup);
            check(T->commit(sa) == KMIDI_OK && T->commit(sb) == KMIDI_OK, "share: commit flushes the acknowledgements");
            char text[256];
            snprintf(text, sizeof text, "%s", T->consumer_settings(sa));
            check(strstr(text, "fetch.wait.max.ms=") && strstr(text, "fetch.min.bytes=") &&
                      !strstr(text, "group.protocol"),
                  "share: consumer_settings (fetch.* only)");
            for (char *q = text; *q; q++) if (*q == '\n') *q = ' ';
            printf("info: share consumer settings: %s\n", text);
            size_t nn = 9;
            int32_t arc = T->consumer_assignment(sa, NULL, 0, &nn);
            check(arc == KMIDI_UNSUPPORTED && strlen(T->consumer_last_error(sa)) > 0,
                  "share: consumer_assignment UNSUPPORTED: %s", T->consumer_last_error(sa));
            t0 = now_ms();
            T->consumer_free(sa);
            T->consumer_free(sb);
            sa = sb = NULL;
            check(now_ms() - t0 < 10000, "share consumers freed in %.0f ms", now_ms() - t0);
            /* Acknowledged as accepted: the group hands nothing out again. */
            rc = T->consumer_new(scfg, 2, gs, ts, 1, KMIDI_OFFSET_EARLIEST, &sa, err, sizeof err);
            int again = 0;
            t0 = now_ms();
            kmidi_message m;
            while (rc == KMIDI_OK && now_ms() - t0 < 6000) {
                if (T->poll(sa, 250, &m) == KMIDI_OK) again++;
            }
            check(rc == KMIDI_OK && again == 0, "share group after the acks: %d records delivered again", again);
        }
        if (sa) T->consumer_free(sa);
        if (sb) T->consumer_free(sb);
    } else if (kmajor > 0) {
        const char *t3[] = {topic3};
        kmidi_kv scfg[] = {{"bootstrap.servers", bootstrap}, {"kmidi.group.type", "share"}};
        kmidi_consumer *c = NULL;
        rc = T->consumer_new(scfg, 2, "kmidi-fg-share", t3, 1, KMIDI_OFFSET_EARLIEST, &c, err, sizeof err);
        int32_t prc = KMIDI_TIMEOUT;
        double t0 = now_ms();
        kmidi_message m;
        while (rc == KMIDI_OK && now_ms() - t0 < 15000) {
            prc = T->poll(c, 250, &m);
            if (prc != KMIDI_OK && prc != KMIDI_TIMEOUT && prc != KMIDI_TRANSIENT) break;
        }
        const char *e = rc == KMIDI_OK ? T->consumer_last_error(c) : err;
        check(rc == KMIDI_OK && prc == KMIDI_ERROR && strstr(e, "share"),
              "Kafka %s, kmidi.group.type=share: fatal poll error after %.0f ms: %s", kversion, now_ms() - t0, e);
        if (c) T->consumer_free(c);
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
        kmidi_partition_leader dlp[1];
        kmidi_leadership dl = {dlp, 1, 0, NULL, 0, 0, NULL, 0, 0};
        t0 = now_ms();
        rc = T->partition_leaders(dead, 1, topic, 1500, &dl, err, sizeof err);
        el = now_ms() - t0;
        check(rc == KMIDI_TIMEOUT && el < 3000, "partition_leaders on a dead broker: rc %d after %.0f ms", rc, el);
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
