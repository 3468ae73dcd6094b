#!/usr/bin/env bash
# Build the franz-go plugin and run test_harness.c against real Kafka brokers
# (KMIDI_KAFKA_VERSIONS, by default "3.9.2 4.3.1"; KMIDI_KAFKA_VERSIONS=4.3.1 to pick
# one), plus go vet.
# Usage: transports/franz-go/test.sh [--bootstrap HOST:PORT [KAFKA_VERSION]]   (use a running broker;
#        KAFKA_VERSION, e.g. 4.3.1, turns on its version-specific checks)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kmidi-franz-go-test.XXXXXX")
BROKERS=()
# shellcheck disable=SC2317  # reached through the EXIT trap, which shellcheck 0.9 misses
cleanup() {
  local b
  for b in "${BROKERS[@]}"; do bash "$REPO/scripts/kafka.sh" stop "$b" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

cd "$HERE"
echo "== go vet"
go vet ./...
echo "== build"
start=$(date +%s)
"$HERE/build.sh" "$WORK" >/dev/null
echo "built $WORK/libkmidi_franz_go.so in $(( $(date +%s) - start ))s"
echo "== compile test_harness.c"
cc -std=c11 -Wall -Wextra -pedantic -Werror -O1 -I"$REPO/kmidi-transport/include" \
  -o "$WORK/test_harness" "$HERE/test_harness.c" -ldl -lpthread

export KMIDI_FRANZ_GO_TEST_PANIC=__kmidi_franz_go_test_panic__
status=0
run() { # label bootstrap [kafka-version]
  echo "== test_harness against $1 ($2)"
  timeout 300 "$WORK/test_harness" "$WORK/libkmidi_franz_go.so" "$2" ${3:+"$3"} || status=1
}
if [[ ${1:-} == --bootstrap ]]; then
  run "given broker" "$2" "${3:-}"
else
  # Not in the here-string: a failure there would go unnoticed and test nothing.
  list=$(bash "$REPO/scripts/kafka.sh" versions)
  read -r -a versions <<<"$list"
  for v in "${versions[@]}"; do
    port=$(bash "$REPO/scripts/kafka.sh" free-port)
    name="franz-go-test-$v-$port"
    BROKERS+=("$name")
    bootstrap=$(bash "$REPO/scripts/kafka.sh" start "$v" "$port" "$name" | tail -n 1)
    run "Kafka $v" "$bootstrap" "$v"
    bash "$REPO/scripts/kafka.sh" stop "$name" >/dev/null 2>&1 || true
  done
fi
exit $status
