#!/usr/bin/env bash
# First run on a fresh machine: installs what is missing, builds kmidi, and runs
# `kmidi demo` on librdkafka's in-process mock cluster (no Kafka needed). Extra
# arguments go to `kmidi demo`, e.g. scripts/demo.sh --song ode_to_joy.mid
#
# Without a FluidSynth port the demo writes kmidi-demo.mid (and .wav) into out/,
# which git ignores, so the checkout stays clean; `--out-dir DIR` puts them elsewhere.
#   KMIDI_DEMO_BIN=target/debug/kmidi ...   run that kmidi, skipping the set-up and
#                                           the release build (scripts/test-demo.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
KMIDI=${KMIDI_DEMO_BIN:-target/release/kmidi}
if [[ -z ${KMIDI_DEMO_BIN:-} ]]; then
  bash scripts/install-deps.sh
  cargo build --release --locked -p kmidi
fi
OUT=(--out-dir out)
for arg in "$@"; do
  [[ $arg == --out-dir || $arg == --out-dir=* ]] && OUT=()
done
((${#OUT[@]} == 0)) || mkdir -p out
exec "$KMIDI" demo "${OUT[@]}" "$@"
