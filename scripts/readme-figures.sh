#!/usr/bin/env bash
# Regenerates the measurement example in the README (docs/compare.txt, .json, .svg):
# `kmidi compare` on a real Apache Kafka 3.9 broker, A = rdkafka with kmidi's
# settings, B = the kafka crate with its own fetch defaults (min bytes 4096, 100 ms
# wait): the difference the README's table and plot show is measured, not drawn.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
VERSION=${KMIDI_KAFKA_39:-3.9.2}
cargo build --release --locked -p kmidi
port=$(bash scripts/kafka.sh free-port)
name=readme-$port
trap 'bash scripts/kafka.sh stop "$name" >/dev/null 2>&1 || true' EXIT
bootstrap=$(bash scripts/kafka.sh start "$VERSION" "$port" "$name" | tail -n1)
tmp=$(mktemp -d)
target/release/kmidi compare -q --a rdkafka --b kafka-rust -b "$bootstrap" \
  -m bach_prelude_c.mid --xb fetch.min.bytes=4096 --xb fetch.wait.max.ms=100 \
  --no-port --record "$tmp/both.mid" \
  --report docs/compare.json --plot docs/compare.svg 2>&1 |
  grep -v -e '^report:' -e '^plot:' -e '^done:' -e 'WARN' | tee docs/compare.txt
rm -rf "$tmp"
