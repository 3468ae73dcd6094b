/* Deliberately broken kmidi transport plugins, one per -D flag, for the host's
 * load-time checks (kmidi-transport/tests/plugin_load.rs). Built with:
 *   cc -shared -fPIC -I include -D<CASE> bad_tables.c -o <case>.so
 * MINIMAL is a valid table with every function pointer NULL ("nothing supported"). */
#include <stddef.h>
#include "kmidi_transport.h"

#ifndef NAME
#define NAME "minimal"
#endif

static const kmidi_transport_table table = {
#if defined(BAD_MAGIC)
    0xDEADBEEFu,
#else
    KMIDI_TRANSPORT_MAGIC,
#endif
#if defined(BAD_VERSION)
    7u,
#else
    KMIDI_TRANSPORT_ABI_VERSION,
#endif
#if defined(SHORT_SIZE)
    16u,
#else
    (uint32_t)sizeof(kmidi_transport_table),
#endif
    0u,
#if defined(NULL_NAME)
    NULL,
#elif defined(BAD_UTF8_NAME)
    "bad\xff",
#else
    NAME,
#endif
    "C test table",
    "1.0",
    KMIDI_CAP_TLS | KMIDI_CAP_SASL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL,
    NULL, NULL,
};

#if defined(MISSING_SYMBOL)
const kmidi_transport_table *kmidi_transport_v0(uint32_t host_abi_version) {
    (void)host_abi_version;
    return &table;
}
#else
const kmidi_transport_table *kmidi_transport_v1(uint32_t host_abi_version) {
    (void)host_abi_version;
#if defined(NULL_TABLE)
    (void)&table;
    return NULL;
#else
    return &table;
#endif
}
#endif
