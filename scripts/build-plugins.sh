#!/usr/bin/env bash
# Builds every transport plugin into one directory (default target/plugins), ready
# for `--plugin-dir` or KMIDI_PLUGIN_PATH:
#   libkmidi_rskafka.so    Rust (rskafka), with cargo
#   libkmidi_c_rdkafka.so  C on librdkafka's C API (needs librdkafka-dev)
#   libkmidi_franz_go.so   Go (franz-go), cgo -buildmode=c-shared (needs go)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$REPO/target/plugins}
mkdir -p "$OUT"
cd "$REPO"
cargo build --release --locked -p kmidi-rskafka
cp target/release/libkmidi_rskafka.so "$OUT/"
bash transports/c-rdkafka/build.sh "$OUT" >/dev/null
if command -v go >/dev/null 2>&1; then
  bash transports/franz-go/build.sh "$OUT" >/dev/null
else
  echo "build-plugins: go is not installed: skipping franz-go" >&2
fi
ls -1 "$OUT"/*.so
