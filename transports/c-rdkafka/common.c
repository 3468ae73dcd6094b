/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Helpers shared by the producer, consumer, group and admin parts: turning kmidi's
 * defaults plus the user's properties into a librdkafka conf, and the error-text
 * conventions. They live in one place so that every part lets -X properties win
 * the same way and none of them can quote a credential in an error text.
 */

#include "internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t kmidi_crd_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes a formatted, NUL-terminated, truncated message; tolerates NULL/0 buffers
   because the host may not care about constructor errors. */
void kmidi_crd_write_err(char *buf, size_t len, const char *fmt, ...) {
    va_list ap;
    if (buf == NULL || len == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* A consumer's last error, for consumer_last_error. Here rather than in consumer.c
   because group.c sets it too, and group.c is what consumer.c calls: keeping it
   among the helpers lets the calls run one way, consumer.c -> group.c -> common.c. */
void kmidi_crd_set_cerr(kmidi_consumer *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
    va_end(ap);
}

/* Case-insensitive substring test, ASCII only (property names are ASCII). */
static int contains_ci(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay != '\0'; hay++) {
        size_t i = 0;
        while (i < n && hay[i] != '\0' &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

/* A property whose value must never appear in an error text (credentials). */
static int is_sensitive(const char *key) {
    return contains_ci(key, "password") || contains_ci(key, "secret") ||
           contains_ci(key, "sasl.oauthbearer.config") || contains_ci(key, "ssl.key.pem");
}

/* Sets one property. librdkafka's own message is used for ordinary keys; for
   sensitive keys it is replaced, because some librdkafka messages quote the value. */
int kmidi_crd_set_prop(rd_kafka_conf_t *conf, const char *key, const char *value, char *errbuf,
                       size_t errlen) {
    char rderr[512];
    rd_kafka_conf_res_t res;
    if (key == NULL || value == NULL) {
        if (key == NULL)
            kmidi_crd_write_err(errbuf, errlen, "config: NULL property name");
        else
            kmidi_crd_write_err(errbuf, errlen, "config property \"%s\": NULL value", key);
        return KMIDI_INVALID_ARG;
    }
    res = rd_kafka_conf_set(conf, key, value, rderr, sizeof(rderr));
    if (res == RD_KAFKA_CONF_OK)
        return KMIDI_OK;
    if (is_sensitive(key))
        kmidi_crd_write_err(errbuf, errlen, "config property \"%s\": %s (value not shown)", key,
                            res == RD_KAFKA_CONF_UNKNOWN ? "unknown property" : "invalid value");
    else
        kmidi_crd_write_err(errbuf, errlen, "config property \"%s\": %s", key, rderr);
    return KMIDI_INVALID_ARG;
}

/* Builds a conf from kmidi's defaults, then the user's kvs (which win), so that
   "unless given" holds without looking the keys up by hand. Returns NULL and fills
   errbuf on error. */
rd_kafka_conf_t *kmidi_crd_build_conf(const char *const *defaults, const kmidi_kv *config,
                                      size_t n_config, char *errbuf, size_t errlen, int32_t *rc) {
    rd_kafka_conf_t *conf;
    size_t i;
    if (n_config > 0 && config == NULL) {
        kmidi_crd_write_err(errbuf, errlen, "config: NULL array with %zu entries", n_config);
        *rc = KMIDI_INVALID_ARG;
        return NULL;
    }
    conf = rd_kafka_conf_new();
    for (i = 0; defaults != NULL && defaults[i] != NULL; i += 2) {
        if ((*rc = kmidi_crd_set_prop(conf, defaults[i], defaults[i + 1], errbuf, errlen)) !=
            KMIDI_OK) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    for (i = 0; i < n_config; i++) {
        if ((*rc = kmidi_crd_set_prop(conf, config[i].key, config[i].value, errbuf, errlen)) !=
            KMIDI_OK) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    *rc = KMIDI_OK;
    return conf;
}

/* The bootstrap servers named in the config, for error texts ("the cluster at X"). */
const char *kmidi_crd_bootstrap_of(const kmidi_kv *config, size_t n_config) {
    size_t i;
    for (i = 0; config != NULL && i < n_config; i++)
        if (config[i].key != NULL && config[i].value != NULL &&
            (strcmp(config[i].key, "bootstrap.servers") == 0 ||
             strcmp(config[i].key, "metadata.broker.list") == 0))
            return config[i].value;
    return "(no bootstrap.servers)";
}

/* "key=value\n" lines of what rk really runs with: rd_kafka_conf(rk) is the handle's
   own conf after rd_kafka_new finalized it, so librdkafka's defaults and the values
   it derives show, not only what was set. Topic-level keys (acks) live in the
   default topic conf, which the handle's conf does not fall through to. A key
   librdkafka does not know is left out rather than guessed. */
const char *kmidi_crd_settings_text(rd_kafka_t *rk, const char *const *keys, char *buf,
                                    size_t len) {
    const rd_kafka_conf_t *conf = rd_kafka_conf(rk);
    rd_kafka_topic_conf_t *tconf = NULL;
    size_t used = 0, i;
    buf[0] = '\0';
    for (i = 0; keys[i] != NULL; i++) {
        char value[256];
        size_t vlen = sizeof(value);
        rd_kafka_conf_res_t res = rd_kafka_conf_get(conf, keys[i], value, &vlen);
        int n;
        if (res == RD_KAFKA_CONF_UNKNOWN) {
            if (tconf == NULL)
                tconf = rd_kafka_default_topic_conf_dup(rk);
            vlen = sizeof(value);
            res = tconf != NULL ? rd_kafka_topic_conf_get(tconf, keys[i], value, &vlen) : res;
        }
        if (res != RD_KAFKA_CONF_OK)
            continue;
        n = snprintf(buf + used, len - used, "%s=%s\n", keys[i], value);
        if (n < 0 || (size_t)n >= len - used) {
            buf[used] = '\0'; /* a line that does not fit is dropped, never cut */
            break;
        }
        used += (size_t)n;
    }
    if (tconf != NULL)
        rd_kafka_topic_conf_destroy(tconf);
    return buf;
}
