#!/usr/bin/env bash
# Regenerates the README's example output from real runs, so what it shows is
# measured, not drawn:
# - the demo block: `kmidi demo --song ode_to_joy.mid` on librdkafka's mock cluster;
# - the measurement example (docs/compare.txt, .json, .svg): `kmidi compare` on a real
#   Apache Kafka 3.9 broker, A = rdkafka with kmidi's settings, B = the kafka crate
#   with its own fetch defaults (min bytes 4096, 100 ms wait);
# - the rebalance example (docs/rebalance.txt, .json, .svg): `kmidi compare --churn` on
#   a real Apache Kafka 4.3 broker, rdkafka with the classic group protocol against
#   rdkafka with KIP-848's, both with a 10 s session and a 2 s heartbeat (the broker
#   decides these for KIP-848, so it is started with them: LAB_PROPS);
# - the load example (docs/load.txt, .json, .svg): `kmidi compare --scenario` with a
#   ramp made by local load workers on a real Apache Kafka 4.3 broker, rdkafka against
#   the franz-go plugin (built by scripts/build-plugins.sh).
# - the native-client example (docs/confluent.txt, .json): `kmidi compare --equalize` of
#   rdkafka against Confluent's native client on a real Apache Kafka 4.3 broker, from a
#   kmidi built with the confluent feature.
# - the "Which broker?" examples (docs/brokers-pause.*, docs/brokers-rolling.*): on a
#   three-node Apache Kafka 4.3 cluster, broker 2 paused mid-song and heard as one voice
#   (`kmidi instrument --voices broker` on a per-broker probe topic), then a rolling
#   restart under rdkafka against the franz-go plugin (`kmidi compare`).
#   The rolling restart's log lines (librdkafka's connection errors while a broker is
#   down, the leader watch's warnings and their hints) are left out of its block.
# `readme-figures.sh load|confluent|brokers` regenerates that block alone.
# Each block is spliced between its <!-- readme-figures:NAME --> markers in README.md.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
# The first 3.x and 4.x of KMIDI_KAFKA_VERSIONS (default "3.9.2 4.3.1").
VERSION=$(bash scripts/kafka.sh versions 3)
VERSION_4=$(bash scripts/kafka.sh versions 4)
LAB_PROPS=$'group.consumer.min.session.timeout.ms=6000\ngroup.consumer.session.timeout.ms=10000\ngroup.consumer.min.heartbeat.interval.ms=1000\ngroup.consumer.heartbeat.interval.ms=2000'
KMIDI=$REPO/target/release/kmidi
cargo build --release --locked -p kmidi
tmp=$(mktemp -d)
port=$(bash scripts/kafka.sh free-port)
name=readme-$port
lab=readme-lab-$port
# The pause example's instrument, running in the background while its player plays.
inst=
cleanup() {
  # Not left listening to a cluster that is about to go, should the player fail.
  if [ -n "$inst" ]; then kill "$inst" 2>/dev/null || true; fi
  for broker in "$name" "$lab" "readme-load-$port" "readme-confluent-$port"; do
    bash scripts/kafka.sh stop "$broker" >/dev/null 2>&1 || true
  done
  bash scripts/kafka.sh stop-cluster "readme-brokers-$port" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# Replaces the lines between the markers of block $1 with a code block: `$ $2`, then
# the contents of file $3.
splice() {
  local block=$1 command=$2 body=$3
  {
    echo '```'
    echo "\$ $command"
    cat "$body"
    echo '```'
  } >"$tmp/block"
  awk -v start="<!-- readme-figures:$block -->" -v end="<!-- /readme-figures:$block -->" \
    -v body="$tmp/block" '
      $0 == start { print; while ((getline line < body) > 0) print line; skip = 1; next }
      $0 == end { skip = 0 }
      !skip { print }' README.md >"$tmp/README.md"
  grep -qF "<!-- /readme-figures:$block -->" "$tmp/README.md" || {
    echo "readme-figures.sh: README.md has no block '$block'" >&2
    exit 1
  }
  mv "$tmp/README.md" README.md
}

# The load example: the ramp's knee for rdkafka against franz-go.
load_block() {
  local load_port load_name="readme-load-$port" load_bootstrap
  load_port=$(bash scripts/kafka.sh free-port)
  load_bootstrap=$(bash scripts/kafka.sh start "$VERSION_4" "$load_port" "$load_name" | tail -n1)
  local load_args=(--transport-a rdkafka --transport-b franz-go --plugin-dir target/plugins
    --scenario "ramp@3s:from=10MB/s:to=80MB/s:step=10MB/s:every=3s" -m bach_prelude_c.mid)
  "$KMIDI" compare -q "${load_args[@]}" -b "$load_bootstrap" --no-port \
    --record "$tmp/load.mid" --report docs/load.json --plot docs/load.svg 2>&1 |
    grep -v -e '^report:' -e '^plot:' -e '^done:' -e 'WARN' | tee docs/load.txt
  bash scripts/kafka.sh stop "$load_name" >/dev/null 2>&1 || true
  splice load "kmidi compare ${load_args[*]} -b $load_bootstrap --no-port --record load.mid \\
    --report docs/load.json --plot docs/load.svg" docs/load.txt
}
# The "Which broker?" examples, on a three-node cluster of their own.
brokers_block() {
  local base="readme-brokers-$port" b
  b=$(bash scripts/kafka.sh start-cluster "$VERSION_4" 3 "$base" | tail -n1)
  # Replication factor 1: each partition's notes wait on its leader alone, so a paused
  # broker silences its own voice (with 3 replicas and acks=all it stalls every
  # partition it follows until it drops out of their ISR).
  "$KMIDI" topic create -b "$b" -t probe --per-broker --replication-factor 1 >/dev/null
  local pause_args=(-t probe --voices broker --scenario broker-pause@8s:broker=2:for=4s
    --fault-driver script --idle-exit 10)
  "$KMIDI" instrument -q -b "$b" "${pause_args[@]}" --no-port --record "$tmp/pause.mid" \
    --report docs/brokers-pause.json --plot docs/brokers-pause.svg >"$tmp/pause.txt" 2>&1 &
  inst=$!
  sleep 5
  "$KMIDI" player -q -b "$b" -t probe --key-by voice -m bach_prelude_c.mid
  wait "$inst"
  inst=
  grep -v -e '^report:' -e '^plot:' -e '^done:' -e 'WARN' "$tmp/pause.txt" | tee docs/brokers-pause.txt
  splice brokers-pause "kmidi instrument -b $b ${pause_args[*]} --no-port --record pause.mid \\
    --report docs/brokers-pause.json --plot docs/brokers-pause.svg &
$ kmidi player -b $b -t probe --key-by voice -m bach_prelude_c.mid" docs/brokers-pause.txt
  local roll_args=(--transport-a rdkafka --transport-b franz-go --plugin-dir target/plugins
    --partitions 3 --scenario rolling-restart@3s --fault-driver script -m bach_prelude_c.mid)
  "$KMIDI" compare -q "${roll_args[@]}" -b "$b" --no-port --record "$tmp/rolling.mid" \
    --report docs/brokers-rolling.json --plot docs/brokers-rolling.svg 2>&1 |
    grep -v -e '^report:' -e '^plot:' -e '^done:' -e 'WARN' -e '^ERROR librdkafka' \
      -e '^  once it is back' -e '^  restore it with' | tee docs/brokers-rolling.txt
  bash scripts/kafka.sh stop-cluster "$base" >/dev/null 2>&1 || true
  splice brokers-rolling "kmidi compare ${roll_args[*]} -b $b --no-port --record rolling.mid \\
    --report docs/brokers-rolling.json --plot docs/brokers-rolling.svg" docs/brokers-rolling.txt
}
if [ "${1:-}" = brokers ]; then
  [ -f target/plugins/libkmidi_franz_go.so ] || bash scripts/build-plugins.sh
  brokers_block
  echo "readme-figures.sh: README.md's brokers blocks, docs/brokers-*.{txt,json,svg} regenerated" >&2
  exit 0
fi

# The native-client example: rdkafka against confluent-kafka, settings equalized.
confluent_block() {
  local c_port c_name="readme-confluent-$port" c_bootstrap
  cargo build --release --locked -p kmidi --features confluent
  c_port=$(bash scripts/kafka.sh free-port)
  c_bootstrap=$(bash scripts/kafka.sh start "$VERSION_4" "$c_port" "$c_name" | tail -n1)
  local c_args=(--transport-a rdkafka --transport-b confluent --equalize -m bach_prelude_c.mid)
  "$KMIDI" compare -q "${c_args[@]}" -b "$c_bootstrap" --no-port \
    --record "$tmp/confluent.mid" --report docs/confluent.json 2>&1 |
    grep -v -e '^report:' -e '^done:' -e 'WARN' -e '^\s*at ' | tee docs/confluent.txt
  bash scripts/kafka.sh stop "$c_name" >/dev/null 2>&1 || true
  # The other blocks' binary is the default build.
  cargo build --release --locked -p kmidi
  splice confluent "kmidi compare ${c_args[*]} -b $c_bootstrap --no-port --record native.mid \\
    --report docs/confluent.json" docs/confluent.txt
}
if [ "${1:-}" = confluent ]; then
  confluent_block
  echo "readme-figures.sh: README.md's confluent block, docs/confluent.{txt,json} regenerated" >&2
  exit 0
fi
if [ "${1:-}" = load ]; then
  [ -f target/plugins/libkmidi_franz_go.so ] || bash scripts/build-plugins.sh
  load_block
  echo "readme-figures.sh: README.md's load block, docs/load.{txt,json,svg} regenerated" >&2
  exit 0
fi

mkdir "$tmp/demo"
(cd "$tmp/demo" && "$KMIDI" demo --song ode_to_joy.mid) >"$tmp/demo.txt" 2>&1
splice demo "target/release/kmidi demo --song ode_to_joy.mid" "$tmp/demo.txt"

bootstrap=$(bash scripts/kafka.sh start "$VERSION" "$port" "$name" | tail -n1)
"$KMIDI" compare -q --transport-a rdkafka --transport-b kafka-rust -b "$bootstrap" \
  -m bach_prelude_c.mid --property-b fetch.min.bytes=4096 --property-b fetch.wait.max.ms=100 \
  --no-port --record "$tmp/both.mid" \
  --report docs/compare.json --plot docs/compare.svg 2>&1 |
  grep -v -e '^report:' -e '^plot:' -e '^done:' -e 'WARN' | tee docs/compare.txt
splice compare "kmidi compare --transport-a rdkafka --transport-b kafka-rust -b $bootstrap -m bach_prelude_c.mid \\
    --property-b fetch.min.bytes=4096 --property-b fetch.wait.max.ms=100 --no-port --record both.mid \\
    --report docs/compare.json --plot docs/compare.svg" docs/compare.txt
lab_port=$(bash scripts/kafka.sh free-port)
lab_bootstrap=$(KMIDI_KAFKA_PROPS=$LAB_PROPS bash scripts/kafka.sh start "$VERSION_4" "$lab_port" "$lab" | tail -n1)
lab_args=(--transport-a rdkafka --property-a group.protocol=classic --property-a session.timeout.ms=10000
  --property-a heartbeat.interval.ms=2000 --transport-b rdkafka --property-b group.protocol=consumer
  --churn "join@5s,leave@11s,kill@17s" -m bach_prelude_c.mid)
"$KMIDI" compare -q "${lab_args[@]}" -b "$lab_bootstrap" --no-port \
  --record "$tmp/lab.mid" --report docs/rebalance.json --plot docs/rebalance.svg 2>&1 |
  grep -v -e '^report:' -e '^plot:' -e '^done:' -e 'WARN' | tee docs/rebalance.txt
splice rebalance "kmidi compare ${lab_args[*]} -b $lab_bootstrap --no-port --record lab.mid \\
    --report docs/rebalance.json --plot docs/rebalance.svg" docs/rebalance.txt
load_block
brokers_block
confluent_block
echo "readme-figures.sh: README.md, docs/compare.{txt,json,svg}, docs/rebalance.{txt,json,svg}, docs/load.{txt,json,svg}, docs/brokers-*.{txt,json,svg}, docs/confluent.{txt,json} regenerated" >&2
