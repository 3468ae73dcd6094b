#!/usr/bin/env bash
# First run on a fresh machine: installs what is missing, builds kmidi, and runs
# `kmidi demo` on librdkafka's in-process mock cluster (no Kafka needed). Extra
# arguments go to `kmidi demo`, e.g. scripts/demo.sh --song ode_to_joy.mid
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-deps.sh
cargo build --release --locked -p kmidi
exec target/release/kmidi demo "$@"
