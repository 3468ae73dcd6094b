#!/usr/bin/env bash
# Builds every transport plugin into one directory (default target/plugins), ready
# for `--plugin-dir` or KMIDI_PLUGIN_PATH:
#   libkmidi_rskafka.so    Rust (rskafka), with cargo
#   libkmidi_c_rdkafka.so  C on librdkafka's C API (librdkafka built once, cached)
#   libkmidi_franz_go.so   Go (franz-go), cgo -buildmode=c-shared (needs go)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$REPO/target/plugins}
mkdir -p "$OUT"
cd "$REPO"
# KMIDI_PROFILE=dev reuses a debug build (scripts/bench.sh --quick); release otherwise.
PROFILE=${KMIDI_PROFILE:-release}
if [[ $PROFILE == dev ]]; then DIR=debug; else DIR=$PROFILE; fi
cargo build --profile "$PROFILE" --locked -p kmidi-rskafka
cp "target/$DIR/libkmidi_rskafka.so" "$OUT/"
bash transports/c-rdkafka/build.sh "$OUT" >/dev/null
if command -v go >/dev/null 2>&1; then
  bash transports/franz-go/build.sh "$OUT" >/dev/null
else
  echo "build-plugins: go is not installed: skipping franz-go" >&2
fi
ls -1 "$OUT"/*.so
