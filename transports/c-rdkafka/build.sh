#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Builds the c-rdkafka transport plugin: libkmidi_c_rdkafka.so in OUTDIR
# (default <repo>/target/plugins), with librdkafka linked in statically: the version
# kmidi's rdkafka-sys bundles, built once into .cache/ by librdkafka.sh. Needs gcc,
# cmake and the -dev packages of OpenSSL, Cyrus SASL, zstd and zlib
# (scripts/install-deps.sh).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUTDIR=${1:-$REPO/target/plugins}
CC=${CC:-gcc}

RDKAFKA=$(bash "$HERE/librdkafka.sh")
mkdir -p "$OUTDIR"
# -fvisibility=hidden: only kmidi_transport_v1 (marked default) is exported.
# --exclude-libs,ALL and the version script: librdkafka.a's own symbols stay hidden
#   too, so they can never interpose on (or be bound by) the host's librdkafka.
# -isystem: rdkafka.h is not -pedantic clean (statement expressions in its macros),
#   which the system header it used to be never had to be.
# -Wl,--no-undefined: a missing library is a link error now, not a dlopen error later.
# The system libraries stay shared: they are what librdkafka.a was configured with.
"$CC" -std=c11 -Wall -Wextra -pedantic -Werror -O2 -g -fPIC -shared -pthread \
  -fvisibility=hidden -Wl,--no-undefined -Wl,--exclude-libs,ALL \
  -Wl,--version-script="$HERE/exports.map" \
  -I"$REPO/kmidi-transport/include" -I"$HERE" -isystem "$RDKAFKA/include" \
  -DLIBRDKAFKA_STATICLIB \
  -o "$OUTDIR/.libkmidi_c_rdkafka.so.$$" \
  "$HERE/kmidi_c_rdkafka.c" "$HERE/common.c" "$HERE/producer.c" "$HERE/pid.c" "$HERE/consumer.c" \
  "$HERE/group.c" "$HERE/admin.c" \
  "$RDKAFKA/lib/librdkafka.a" -lssl -lcrypto -lsasl2 -lzstd -lz -lm -ldl -lrt
# Renamed into place, so a process loading the plugin never sees half a file.
mv -f "$OUTDIR/.libkmidi_c_rdkafka.so.$$" "$OUTDIR/libkmidi_c_rdkafka.so"
echo "$OUTDIR/libkmidi_c_rdkafka.so"
