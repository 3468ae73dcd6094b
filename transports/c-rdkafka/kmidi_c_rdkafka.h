/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * The c-rdkafka plugin's only public surface is the ABI's exported function,
 * declared by the shared kmidi header; this header exists so the plugin and its
 * test harness include the ABI the same way (build.sh puts
 * kmidi-transport/include on the include path).
 */
#ifndef KMIDI_C_RDKAFKA_H
#define KMIDI_C_RDKAFKA_H

#include "kmidi_transport.h"

/* The plugin's name as users pass it to --transport. */
#define KMIDI_C_RDKAFKA_NAME "c-rdkafka"

#endif /* KMIDI_C_RDKAFKA_H */
