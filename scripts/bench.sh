#!/usr/bin/env bash
# Regenerates BENCHMARKS.md: builds release, builds the plugins, starts a Kafka 4.3.1
# broker (and a 3.9.2 one for kafka-rust, which 4.x refuses) with scripts/kafka.sh,
# runs every benchmark of `kmidi-bench` and writes the figures, each beside a reference
# measured in the same run.
#
#   scripts/bench.sh              the full run (~57 min, 30 of them the soak), writes
#                                 BENCHMARKS.md
#   scripts/bench.sh --quick      every benchmark briefly (~6 min, debug build), writes
#                                 target/bench/BENCHMARKS.quick.md; exit 0 if all ran
#   KMIDI_BENCH_NO_39=1 ...       skip the 3.9.2 broker (kafka-rust)
#   KMIDI_BENCH_NO_RT=1 ...       no SCHED_FIFO rows (benchmarks 1 and 3)
#   KMIDI_SOAK_SECS=N ...         the full run's soak length (default 1800)
#   KMIDI_KAFKA_VERSIONS=... ...  the brokers: its first 4.x and first 3.x (default
#                                 "3.9.2 4.3.1"; `scripts/kafka.sh versions`)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
QUICK=
[[ ${1:-} == --quick ]] && QUICK=1
K4=$(bash scripts/kafka.sh versions 4)
K39=$(bash scripts/kafka.sh versions 3)
OUTDIR=$REPO/target/bench
mkdir -p "$OUTDIR"
if [[ -n $QUICK ]]; then OUT=$OUTDIR/BENCHMARKS.quick.md; else OUT=$REPO/BENCHMARKS.md; fi
BODY=$OUTDIR/body.md
: >"$BODY"
BROKERS=()
cleanup() {
  for name in "${BROKERS[@]}"; do bash scripts/kafka.sh stop "$name" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
started=$SECONDS
step() { printf '\n==> [%3d s] %s\n' $((SECONDS - started)) "$*" >&2; }
# The Java references get the JIT a long-running client has (scripts/kafka.sh's default
# for tools stops at C1, which suits one-shot admin commands, not a reference).
export KMIDI_KAFKA_TOOL_JVM_OPTS=${KMIDI_KAFKA_TOOL_JVM_OPTS:--Xmx512m -XX:+UseSerialGC -Xshare:auto -Djava.awt.headless=true}

# --quick only proves every benchmark runs (its figures are not judged), so it reuses
# the debug build the tests just made instead of spending minutes on a release build.
if [[ -n $QUICK ]]; then PROFILE=dev PROFILE_DIR=debug; else PROFILE=release PROFILE_DIR=release; fi
PLUGINS=$REPO/target/plugins${QUICK:+-quick}
step "build ($PROFILE): kmidi, kmidi-bench, plugins"
cargo build --profile "$PROFILE" --locked -p kmidi -p kmidi-bench -p kmidi-plugin-testkit >&2
KMIDI_PROFILE=$PROFILE bash scripts/build-plugins.sh "$PLUGINS" >&2
BENCH=$REPO/target/$PROFILE_DIR/kmidi-bench
# Every transport 4.x accepts: the built-in rdkafka first (the others' reference).
ON_4="rdkafka,$PLUGINS/libkmidi_c_rdkafka.so,$PLUGINS/libkmidi_rskafka.so"
[[ -f $PLUGINS/libkmidi_franz_go.so ]] && ON_4+=",$PLUGINS/libkmidi_franz_go.so"

# Starts a broker named bench-VERSION-PORT and sets BOOT to its address. Not called in
# a $(...) subshell: BROKERS must be recorded here, for the cleanup to stop it.
start_broker() {
  local version=$1 port name
  port=$(bash scripts/kafka.sh free-port)
  name=bench-$version-$port
  BROKERS+=("$name")
  bash scripts/kafka.sh start "$version" "$port" "$name" >&2
  BOOT=127.0.0.1:$port
}

if [[ -n $QUICK ]]; then
  SCHED=(--length 2) OVER=(--notes 2000)
  KAFKA=(--pings 100 --notes 40 --records 300) FOOT=(--length 2 --idle 2) SOAK=60
else
  SCHED=(--length 300) OVER=(--notes 20000)
  KAFKA=(--pings 2000 --notes 600 --records 10000) FOOT=(--length 30) SOAK=${KMIDI_SOAK_SECS:-1800}
fi
[[ -z ${KMIDI_BENCH_NO_RT:-} ]] && SCHED+=(--realtime) OVER+=(--realtime)

step "3, 4a: kmidi's own overhead, the plugin boundary"
"$BENCH" overhead "${OVER[@]}" >>"$BODY"

step "Kafka $K4 broker"
start_broker "$K4"
B4=$BOOT
step "2, 4b, 5: latency and throughput per transport on Kafka $K4"
"$BENCH" kafka --bootstrap "$B4" --version "$K4" --transports "$ON_4" \
  "${KAFKA[@]}" >>"$BODY"
step "6: footprint of the real kmidi instrument and player"
"$BENCH" footprint --bootstrap "$B4" --transports "$ON_4" \
  --dir "$OUTDIR" "${FOOT[@]}" >>"$BODY"
step "8: soak: player --loop and instrument --metrics for ${SOAK} s"
"$BENCH" soak --bootstrap "$B4" --seconds "$SOAK" --dir "$OUTDIR" >>"$BODY"
cleanup
BROKERS=()

if [[ -z ${KMIDI_BENCH_NO_39:-} ]]; then
  step "Kafka $K39 broker (kafka-rust speaks only the v0 protocol 4.x refuses)"
  start_broker "$K39"
  B39=$BOOT
  step "2, 5 on Kafka $K39: kafka-rust, with rdkafka as the same broker's reference"
  "$BENCH" kafka --bootstrap "$B39" --version "$K39" --transports "rdkafka,kafka-rust" \
    "${KAFKA[@]}" >>"$BODY"
  cleanup
  BROKERS=()
fi

# Its own broker: KIP-848's session and heartbeat are the broker's to set, and must
# match the classic sides' 10 s / 2 s (the props kmidi-bench rebalance assumes, see
# bench/src/rebalance.rs BROKER_PROPS). ~90 s, so the quick pass runs it too.
step "Kafka $K4 broker with KIP-848 timeouts of 10 s session, 2 s heartbeat"
KMIDI_KAFKA_PROPS=$'group.consumer.min.session.timeout.ms=6000\ngroup.consumer.session.timeout.ms=10000\ngroup.consumer.min.heartbeat.interval.ms=1000\ngroup.consumer.heartbeat.interval.ms=2000' \
  start_broker "$K4"
step "9: rebalances, classic vs consumer protocol (rdkafka, franz-go)"
"$BENCH" rebalance --bootstrap "$BOOT" --franz-go "$PLUGINS/libkmidi_franz_go.so" \
  --dir "$OUTDIR" >>"$BODY"
cleanup
BROKERS=()

# kmidi's own rendering always; FluidSynth on a private JACK server (test-sound.sh
# starts and stops it) in the full run, from a JACK build of the bench.
if [[ -n $QUICK ]]; then
  step "7: what the synthesizer adds (--render only)"
  "$BENCH" audio --notes 30 --dir "$OUTDIR" >>"$BODY"
else
  step "7: what the synthesizer adds (--render, and JACK + FluidSynth)"
  cargo build --profile "$PROFILE" --locked -p kmidi-bench --features jack >&2
  bash scripts/test-sound.sh --run "$BENCH" audio --jack --dir "$OUTDIR" >>"$BODY"
fi

# Last and alone: the longest benchmark, and the one most sensitive to other load.
step "1: player scheduling error"
"$BENCH" schedule "${SCHED[@]}" >>"$BODY"

elapsed=$((SECONDS - started))
{
  echo "# kmidi benchmarks"
  echo
  echo "Generated by \`scripts/bench.sh${QUICK:+ --quick}\` on $(date -u '+%Y-%m-%d %H:%M UTC') in ${elapsed} s,"
  echo "at commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
  echo
  echo "**Machine:** $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"
  echo "shared with other engineers' builds and tests: absolute figures move from run to"
  echo "run, so every figure sits beside a reference measured in the same run, and the"
  echo "ratio is what to compare across runs. Loopback only; Kafka $K4 (and $K39 for"
  echo "kafka-rust), single broker, from scripts/kafka.sh."
  echo
  echo "**How the engine is measured:** benchmarks 1–3 and the music mode of 2 run"
  echo "kmidi's own engines (crate \`kmidi-engine\`: the player's \`perform\` loop, the"
  echo "instrument's \`listen\` loop, the session \`kmidi demo\` runs), the code the"
  echo "\`kmidi\` binary runs, from \`bench/\` (crate \`kmidi-bench\`); benchmark 6"
  echo "drives the real \`kmidi instrument\` and \`kmidi player\` binaries."
  echo "Each section names the \`kmidi-bench\` command that regenerates it alone (with a"
  echo "broker at --bootstrap); \`scripts/bench.sh\` regenerates this whole file."
  echo
  # The sections in their numbers' order (1, 2, 3, 4a, 4b, 5, 6, 7, 8, 9), whatever order they
  # ran in; sections with the same number keep theirs.
  awk '/^## /{key=$2; sub(/\.$/, "", key)} {printf "%s\t%08d\t%s\n", key, NR, $0}' "$BODY" |
    LC_ALL=C sort -t$'\t' -k1,1 -k2,2n | cut -f3-
} >"$OUT"
step "wrote $OUT in ${elapsed} s"
