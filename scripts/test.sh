#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing (Debian
# packages, Kafka jars from Maven Central, crates), then runs lints (the shell
# scripts' too), unit tests, the CLI tests on librdkafka's mock cluster, end-to-end
# tests against real Apache Kafka 3.9 and 4.x brokers, the C and Go plugins' C
# harnesses, and the headless sound path (JACK + FluidSynth).
#
#   scripts/test.sh              everything
#   KMIDI_SKIP_HARNESSES=1 ...   everything but the plugins' C harnesses
#   KMIDI_SKIP_SOUND=1 ...       everything but the JACK/FluidSynth test
#   KMIDI_SKIP_BENCH=1 ...       everything but the short benchmark run
#   KMIDI_KAFKA_VERSIONS=4.3.1 ... these Kafka versions only (space-separated; default
#                                "3.9.2 4.3.1"), for the Rust tests, harnesses, benchmarks
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
KMIDI_KAFKA_VERSIONS=$(bash scripts/kafka.sh versions)
export KMIDI_KAFKA_VERSIONS
read -r -a KAFKA_VERSIONS <<<"$KMIDI_KAFKA_VERSIONS"

step() { printf '\n==> %s\n' "$*"; }
cleanup() { bash scripts/kafka.sh stop-all >/dev/null 2>&1 || true; }
trap cleanup EXIT

step "Debian packages"
bash scripts/install-deps.sh

step "Apache Kafka ${KAFKA_VERSIONS[*]} from Maven Central"
for v in "${KAFKA_VERSIONS[@]}"; do
  bash scripts/kafka.sh fetch "$v"
done

step "format and lints"
shellcheck scripts/*.sh scripts/kafka/*.sh scripts/kafka/lib/*.sh transports/*/*.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p kmidi --features jack --all-targets --locked -- -D warnings
# Confluent's native client is off by default (Rust 1.95, minutes of build): the binary
# with it is linted here and its transport tested by `cargo test --workspace` below.
cargo clippy -p kmidi --features confluent --all-targets --locked -- -D warnings
# The binary builds with either built-in client library alone (its features forward
# the transport registry's).
cargo check -p kmidi --no-default-features --features kafka-rust --locked
cargo check -p kmidi --no-default-features --features rdkafka --locked

step "unit, CLI and real-broker tests (Kafka ${KAFKA_VERSIONS[*]})"
# One broker per test binary; the binaries run one after another, which keeps
# two cores from being shared by two JVMs.
cargo test --workspace --locked
cargo test -p kmidi-registry --features confluent --locked
# The native client through the CLI (play, compare, the rebalance lab, its refusals).
cargo test -p kmidi --features confluent --test confluent --locked

step "the README's first command leaves the checkout clean"
# The kmidi the tests just built: `cargo build -p kmidi` alone would unify features
# differently and rebuild half the dependency tree for nothing.
bash scripts/test-demo.sh target/debug/kmidi

if [[ -z ${KMIDI_SKIP_HARNESSES:-} ]]; then
  # The plugins' own C harnesses drive the C ABI directly, as a non-Rust host would
  # (the cargo tests above load the same plugins from Rust). Each starts and stops
  # its brokers; the bound only matters if one hangs (together they take about 1.5
  # minutes on 2 cores, a minute more for the first Go build).
  step "the C and Go plugins' C harnesses (Kafka ${KAFKA_VERSIONS[*]})"
  timeout 600 bash transports/c-rdkafka/test.sh
  timeout 600 bash transports/franz-go/test.sh
fi

if [[ -z ${KMIDI_SKIP_SOUND:-} ]]; then
  step "the real sound path: kmidi instrument -> JACK -> FluidSynth"
  bash scripts/test-sound.sh
fi

if [[ -z ${KMIDI_SKIP_BENCH:-} ]]; then
  # Benchmarks are not timed tests (a shared machine would make them flake): this
  # only checks that each one builds and completes a short run.
  step "benchmarks build and complete a short run"
  bash scripts/bench.sh --quick
fi

step "all tests passed"
