/* Private to the franz-go plugin: what the opaque ABI handles really are.
 *
 * A kmidi_producer / kmidi_consumer pointer handed to the host is a small C-allocated
 * struct holding a runtime/cgo Handle (an integer key into the Go side's handle table)
 * and a tag that catches a wrong or stale pointer before the handle is looked up.
 * Keeping the handle in C memory means no Go pointer is ever held by C and no
 * uintptr is turned back into a pointer on the Go side.
 */
#ifndef KMIDI_FRANZ_GO_PLUGIN_H
#define KMIDI_FRANZ_GO_PLUGIN_H

#include <stdint.h>
#include "kmidi_transport.h"

#define KMIDI_FG_PRODUCER_TAG 0x4647505244554352ull /* "FGPRDUCR" */
#define KMIDI_FG_CONSUMER_TAG 0x4647434F4E53554Dull /* "FGCONSUM" */

struct kmidi_producer {
    uint64_t tag;
    uintptr_t handle;
};

struct kmidi_consumer {
    uint64_t tag;
    uintptr_t handle;
};

#endif
