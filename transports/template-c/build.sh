#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Builds the C plugin template: libkmidi_template.so in OUTDIR (default
# <repo>/target/plugins), with the one cc line its README shows. Needs only a C11
# compiler: the template links no Kafka library.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUTDIR=${1:-$REPO/target/plugins}
CC=${CC:-cc}

mkdir -p "$OUTDIR"
"$CC" -std=c11 -Wall -Wextra -pedantic -Werror -shared -fPIC \
  -I "$REPO/kmidi-transport/include" \
  -o "$OUTDIR/.libkmidi_template.so.$$" "$HERE/kmidi_template.c" -lpthread
# Renamed into place, so a process loading the plugin never sees half a file.
mv -f "$OUTDIR/.libkmidi_template.so.$$" "$OUTDIR/libkmidi_template.so"
echo "$OUTDIR/libkmidi_template.so"
