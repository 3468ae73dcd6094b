#!/usr/bin/env bash
# Build the franz-go transport plugin: OUTDIR/libkmidi_franz_go.so (+ its cgo header).
# Usage: transports/franz-go/build.sh [OUTDIR]   (default: <repo>/target/plugins)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=${1:-$REPO/target/plugins}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
command -v go >/dev/null || { echo "build.sh: go (1.26+) not found on PATH" >&2; exit 1; }
cd "$HERE"
# -trimpath: no build paths in the binary; -s -w: no symbol/DWARF tables (about 1/3 smaller).
CGO_ENABLED=1 go build -mod=readonly -trimpath -buildmode=c-shared -ldflags='-s -w' \
  -o "$OUT/.libkmidi_franz_go.so.$$" .
# Renamed into place, so a process loading the plugin never sees half a file.
mv -f "$OUT/.libkmidi_franz_go.so.$$" "$OUT/libkmidi_franz_go.so"
# go writes the generated export header next to the .so; the ABI header is the one in
# kmidi-transport/include, so this one is not needed by anybody.
rm -f "$OUT"/.libkmidi_franz_go*.h "$OUT/libkmidi_franz_go.h"
echo "$OUT/libkmidi_franz_go.so"
