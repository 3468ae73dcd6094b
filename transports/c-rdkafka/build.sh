#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Builds the c-rdkafka transport plugin: libkmidi_c_rdkafka.so in OUTDIR
# (default <repo>/target/plugins). Needs gcc and librdkafka-dev (pkg-config rdkafka).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUTDIR=${1:-$REPO/target/plugins}
CC=${CC:-gcc}

pkg-config --exists rdkafka || {
  echo "build.sh: librdkafka not found by pkg-config (apt-get install librdkafka-dev)" >&2
  exit 1
}
mkdir -p "$OUTDIR"
# -fvisibility=hidden: only kmidi_transport_v1 (marked default) is exported.
# -Wl,--no-undefined: a missing library is a link error now, not a dlopen error later.
# shellcheck disable=SC2046  # pkg-config output is meant to be word-split
"$CC" -std=c11 -Wall -Wextra -pedantic -Werror -O2 -g -fPIC -shared -pthread \
  -fvisibility=hidden -Wl,--no-undefined \
  -I"$REPO/kmidi-transport/include" -I"$HERE" \
  -o "$OUTDIR/.libkmidi_c_rdkafka.so.$$" \
  "$HERE/kmidi_c_rdkafka.c" "$HERE/common.c" "$HERE/producer.c" "$HERE/consumer.c" \
  "$HERE/admin.c" \
  $(pkg-config --cflags --libs rdkafka)
# Renamed into place, so a process loading the plugin never sees half a file.
mv -f "$OUTDIR/.libkmidi_c_rdkafka.so.$$" "$OUTDIR/libkmidi_c_rdkafka.so"
echo "$OUTDIR/libkmidi_c_rdkafka.so"
