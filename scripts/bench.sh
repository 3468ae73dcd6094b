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
#   scripts/bench.sh --only web   benchmark 10 alone (release build, a broker of its
#                                 own, ~4 min): its section replaces BENCHMARKS.md's
#                                 `## 10.` (or goes in by number), the rest untouched
#   scripts/bench.sh --only load  benchmark 11 alone (~3 min), the same way
#   scripts/bench.sh --resume [N...]  a full run that stopped: keeps the sections its
#                                 target/bench/body.md has (but sections N...), runs
#                                 the benchmarks missing, writes BENCHMARKS.md; the
#                                 top says it was resumed
#   KMIDI_BENCH_NO_39=1 ...       skip the 3.9.2 broker (kafka-rust)
#   KMIDI_BENCH_NO_RT=1 ...       no SCHED_FIFO rows (benchmarks 1 and 3)
#   KMIDI_SOAK_SECS=N ...         the full run's soak length (default 1800)
#   KMIDI_KAFKA_VERSIONS=... ...  the brokers: its first 4.x and first 3.x (default
#                                 "3.9.2 4.3.1"; `scripts/kafka.sh versions`)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
QUICK=
ONLY=
RESUME=
RERUN=()
usage() {
  echo "usage: scripts/bench.sh [--quick | --only web | --only load | --resume [N...]]" >&2
  exit 2
}
case ${1:-} in
  --quick) QUICK=1 ;;
  --only)
    ONLY=${2:-}
    [[ $ONLY == web || $ONLY == load ]] || usage
    ;;
  --resume)
    RESUME=1
    shift
    for n in "$@"; do [[ $n =~ ^[0-9]+[a-z]?$ ]] || usage; done
    RERUN=("$@")
    ;;
  "") ;;
  *) usage ;;
esac
K4=$(bash scripts/kafka.sh versions 4)
K39=$(bash scripts/kafka.sh versions 3)
OUTDIR=$REPO/target/bench
mkdir -p "$OUTDIR"
if [[ -n $QUICK ]]; then OUT=$OUTDIR/BENCHMARKS.quick.md; else OUT=$REPO/BENCHMARKS.md; fi
BODY=$OUTDIR/body.md
if [[ -n $RESUME ]]; then
  # The body of a full run that stopped (a benchmark failed, or Ctrl-C): keep its
  # sections, drop those asked to run again, and run only the benchmarks missing.
  [[ -s $BODY ]] || { echo "bench.sh --resume: no $BODY to resume" >&2; exit 2; }
  for n in "${RERUN[@]}"; do
    awk -v num="$n" '/^## /{key=$2; sub(/\.$/, "", key); skip = (key == num)} !skip' \
      "$BODY" >"$BODY.tmp" && cat "$BODY.tmp" >"$BODY" && rm -f "$BODY.tmp"
  done
else
  : >"$BODY"
  echo "$(date -u '+%Y-%m-%d %H:%M UTC') at commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    >"$BODY.started"
fi
# Whether a benchmark still has to run: one of its sections (a title's start, e.g.
# "## 5. ") is not in the body yet. Always true but on --resume.
missing() {
  local title
  [[ -z $RESUME ]] && return 0
  for title in "$@"; do grep -qF -- "$title" "$BODY" || return 0; done
  return 1
}
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

# Benchmark 10's arguments. The quick pass keeps it under ~40 s: one --web configuration
# with listeners (2, so several at once are exercised), a 2 s song, 20 hi-hats; without
# chromedriver it says so in its section and measures the rest.
if [[ -n $QUICK ]]; then
  WEB=(--length 2 --notes 20 --settle 1 --listeners 2)
else
  WEB=(--length 30 --notes 120 --listeners '1,4')
fi

# Benchmark 11's arguments: a ramp of 10 levels of 2.5 s (4 of 1.5 s in the quick pass)
# up to what ProducerPerformance reached with --records 10 KB records just before.
if [[ -n $QUICK ]]; then
  LOAD=(--levels 4 --every 1.5 --records 2000)
else
  LOAD=(--levels 10 --every 2.5 --records 30000)
fi

# Replaces section NUM of markdown file FILE with the section in SECTION (from its
# `## NUM.` heading to the next `## `), or puts it before the first section numbered
# above NUM (4a counts as 4), or at the end; every other line stays as it is.
splice_section() {
  local num=$1 section=$2 file=$3 tmp
  tmp=$(mktemp)
  awk -v num="$num" -v section="$section" '
    function emit(  line) {
      # A blank line before the heading, as between every other section.
      if (last != "") print ""
      while ((getline line < section) > 0) print line
      close(section)
      done = 1
    }
    /^## / {
      key = $2; sub(/\.$/, "", key)
      skipping = 0
      if (key == num) { if (!done) emit(); skipping = 1; next }
      if (!done && key + 0 > num + 0) emit()
    }
    skipping { next }
    { print; last = $0 }
    END { if (!done) emit() }
  ' "$file" >"$tmp"
  # Written over, not moved: the file keeps its owner and mode.
  cat "$tmp" >"$file"
  rm -f "$tmp"
}

# --only web|load: benchmark 10 or 11 alone, in release, on a broker of its own, spliced
# into BENCHMARKS.md with a line saying when and from what it was regenerated.
if [[ -n $ONLY ]]; then
  step "build (release): kmidi, kmidi-bench"
  cargo build --profile release --locked -p kmidi -p kmidi-bench >&2
  [[ $ONLY == load && ! -f $REPO/target/plugins/libkmidi_franz_go.so ]] &&
    bash scripts/build-plugins.sh "$REPO/target/plugins" >&2
  step "Kafka $K4 broker"
  start_broker "$K4"
  SECTION=$OUTDIR/$ONLY.md
  if [[ $ONLY == web ]]; then
    NUM=10
    step "10: listening from a browser (--web)"
    "$REPO/target/release/kmidi-bench" web --bootstrap "$BOOT" --dir "$OUTDIR" "${WEB[@]}" >"$SECTION.new"
  else
    NUM=11
    step "11: the load at which the music breaks"
    "$REPO/target/release/kmidi-bench" load --bootstrap "$BOOT" --version "$K4" \
      --dir "$OUTDIR" "${LOAD[@]}" >"$SECTION.new"
  fi
  cleanup
  BROKERS=()
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [[ -n $(git status --porcelain 2>/dev/null) ]]; then commit+=" (with uncommitted changes)"; fi
  note="_Regenerated alone by \`scripts/bench.sh --only $ONLY\` on $(date -u '+%Y-%m-%d %H:%M UTC') at commit $commit; the other sections are from the run named at the top._"
  awk -v note="$note" 'NR == 1 { print; print ""; print note; next } { print }' \
    "$SECTION.new" >"$SECTION"
  rm -f "$SECTION.new"
  [[ -f $REPO/BENCHMARKS.md ]] || echo "# kmidi benchmarks" >"$REPO/BENCHMARKS.md"
  splice_section "$NUM" "$SECTION" "$REPO/BENCHMARKS.md"
  step "spliced section $NUM into $REPO/BENCHMARKS.md in $((SECONDS - started)) s"
  exit 0
fi

# --quick only proves every benchmark runs (its figures are not judged), so it reuses
# the debug build the tests just made instead of spending minutes on a release build.
if [[ -n $QUICK ]]; then PROFILE=dev PROFILE_DIR=debug; else PROFILE=release PROFILE_DIR=release; fi
PLUGINS=$REPO/target/plugins${QUICK:+-quick}
step "build ($PROFILE): kmidi, kmidi-bench (with Confluent's native client), plugins"
cargo build --profile "$PROFILE" --locked -p kmidi -p kmidi-bench -p kmidi-plugin-testkit \
  --features kmidi/confluent,kmidi-bench/confluent >&2
KMIDI_PROFILE=$PROFILE bash scripts/build-plugins.sh "$PLUGINS" >&2
BENCH=$REPO/target/$PROFILE_DIR/kmidi-bench
# Every transport 4.x accepts: the built-in rdkafka first (the others' reference).
ON_4="rdkafka,confluent,$PLUGINS/libkmidi_c_rdkafka.so,$PLUGINS/libkmidi_rskafka.so"
FRANZ=
[[ -f $PLUGINS/libkmidi_franz_go.so ]] && FRANZ=$PLUGINS/libkmidi_franz_go.so && ON_4+=",$FRANZ"

if [[ -n $QUICK ]]; then
  SCHED=(--length 2) OVER=(--notes 2000)
  KAFKA=(--pings 100 --notes 40 --records 300 --rounds 2) FOOT=(--length 2 --idle 2) SOAK=60
else
  SCHED=(--length 300) OVER=(--notes 20000)
  KAFKA=(--pings 2000 --notes 600 --records 10000) FOOT=(--length 30) SOAK=${KMIDI_SOAK_SECS:-1800}
fi
[[ -z ${KMIDI_BENCH_NO_RT:-} ]] && SCHED+=(--realtime) OVER+=(--realtime)

if missing "## 3. " "## 4a. "; then
  step "3, 4a: kmidi's own overhead, the plugin boundary"
  "$BENCH" overhead "${OVER[@]}" >>"$BODY"
fi

if missing "## 2. End-to-end latency per transport (Kafka $K4)" "## 6. " "## 10. " "## 11. " "## 8. "; then
  step "Kafka $K4 broker"
  start_broker "$K4"
  B4=$BOOT
  if missing "## 2. End-to-end latency per transport (Kafka $K4)"; then
    step "2, 4b, 5: latency and throughput per transport on Kafka $K4"
    "$BENCH" kafka --bootstrap "$B4" --version "$K4" --transports "$ON_4" \
      "${KAFKA[@]}" >>"$BODY"
  fi
  if missing "## 6. "; then
    step "6: footprint of the real kmidi instrument and player"
    "$BENCH" footprint --bootstrap "$B4" --transports "$ON_4" \
      --dir "$OUTDIR" "${FOOT[@]}" >>"$BODY"
  fi
  if missing "## 10. "; then
    step "10: listening from a browser (--web): the page's onsets, bandwidth, CPU per listener"
    "$BENCH" web --bootstrap "$B4" --dir "$OUTDIR" "${WEB[@]}" >>"$BODY"
  fi
  if missing "## 11. "; then
    step "11: the load at which the music breaks (rdkafka, franz-go)"
    "$BENCH" load --bootstrap "$B4" --version "$K4" --dir "$OUTDIR" "${LOAD[@]}" \
      ${FRANZ:+--other "$FRANZ"} >>"$BODY"
  fi
  if missing "## 8. "; then
    step "8: soak: player --loop and instrument --metrics for ${SOAK} s"
    "$BENCH" soak --bootstrap "$B4" --seconds "$SOAK" --dir "$OUTDIR" >>"$BODY"
  fi
  cleanup
  BROKERS=()
fi

if [[ -z ${KMIDI_BENCH_NO_39:-} ]] && missing "(Kafka $K39)"; then
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
if missing "## 9. "; then
  step "Kafka $K4 broker with KIP-848 timeouts of 10 s session, 2 s heartbeat"
  KMIDI_KAFKA_PROPS=$'group.consumer.min.session.timeout.ms=6000\ngroup.consumer.session.timeout.ms=10000\ngroup.consumer.min.heartbeat.interval.ms=1000\ngroup.consumer.heartbeat.interval.ms=2000' \
    start_broker "$K4"
  step "9: rebalances, classic vs consumer protocol (rdkafka, franz-go; confluent)"
  "$BENCH" rebalance --bootstrap "$BOOT" --franz-go "$PLUGINS/libkmidi_franz_go.so" \
    --dir "$OUTDIR" >>"$BODY"
  cleanup
  BROKERS=()
fi

# kmidi's own rendering always; FluidSynth on a private JACK server (test-sound.sh
# starts and stops it) in the full run, from a JACK build of the bench. A failed JACK
# run (a JACK server starved of CPU loses MIDI periods) costs its rows, not the whole
# file: the --render rows are measured alone and the section says why.
if [[ -n $QUICK ]]; then
  step "7: what the synthesizer adds (--render only)"
  "$BENCH" audio --notes 30 --dir "$OUTDIR" >>"$BODY"
elif missing "## 7. "; then
  step "7: what the synthesizer adds (--render, and JACK + FluidSynth)"
  cargo build --profile "$PROFILE" --locked -p kmidi-bench --features jack >&2
  if bash scripts/test-sound.sh --run "$BENCH" audio --jack --dir "$OUTDIR" \
    >"$OUTDIR/audio.md" 2>"$OUTDIR/audio-jack.log"; then
    cat "$OUTDIR/audio.md" >>"$BODY"
  else
    why=$(grep -m1 -e '^Error' -e 'FAIL' "$OUTDIR/audio-jack.log" || echo "see $OUTDIR/audio-jack.log")
    step "7: the JACK + FluidSynth run failed ($why): --render rows only"
    {
      "$BENCH" audio --dir "$OUTDIR"
      echo "- The JACK + FluidSynth rows are missing from this run: its JACK run failed ($why)."
      echo
    } >>"$BODY"
  fi
fi

# Last and alone: the longest benchmark, and the one most sensitive to other load.
if missing "## 1. "; then
  step "1: player scheduling error"
  "$BENCH" schedule "${SCHED[@]}" >>"$BODY"
fi

elapsed=$((SECONDS - started))
{
  echo "# kmidi benchmarks"
  echo
  echo "Generated by \`scripts/bench.sh${QUICK:+ --quick}${RESUME:+ --resume${RERUN[*]:+ ${RERUN[*]}}}\` on $(date -u '+%Y-%m-%d %H:%M UTC') in ${elapsed} s,"
  echo "at commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
  if [[ -n $RESUME ]]; then
    echo "It resumed a full run started $(cat "$BODY.started" 2>/dev/null || echo "at an unknown time") that"
    echo "stopped before the end: that run's sections are kept, and the ones it lacked${RERUN[*]:+ (and ${RERUN[*]})}"
    echo "ran in this one."
  fi
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
  echo "\`kmidi\` binary runs, from \`bench/\` (crate \`kmidi-bench\`); benchmarks 6"
  echo "and 10 drive the real \`kmidi instrument\` and \`kmidi player\` binaries."
  echo "Each section names the \`kmidi-bench\` command that regenerates it alone (with a"
  echo "broker at --bootstrap); \`scripts/bench.sh\` regenerates this whole file."
  echo
  # The sections in their numbers' order (1, 2, 3, 4a, 4b, 5, ..., 9, 10: a version
  # sort), whatever order they ran in; sections with the same number keep theirs.
  awk '/^## /{key=$2; sub(/\.$/, "", key)} {printf "%s\t%08d\t%s\n", key, NR, $0}' "$BODY" |
    LC_ALL=C sort -t$'\t' -k1,1V -k2,2n | cut -f3-
} >"$OUT"
step "wrote $OUT in ${elapsed} s"
