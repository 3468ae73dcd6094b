#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Builds the c-rdkafka plugin and its C test harness, then runs the harness against
# real brokers (KMIDI_KAFKA_VERSIONS, by default Kafka 3.9.2 and 4.3.1, one after the
# other) started by scripts/kafka.sh and always stopped on exit.
#
#   transports/c-rdkafka/test.sh                 # all versions
#   KMIDI_KAFKA_VERSIONS=4.3.1 transports/c-rdkafka/test.sh
#   KMIDI_VALGRIND=1 transports/c-rdkafka/test.sh  # harness under valgrind --leak-check=full
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
KAFKA="$REPO/scripts/kafka.sh"
# Not in the here-string: a failure there would go unnoticed and test nothing.
VERSION_LIST=$(bash "$KAFKA" versions)
read -r -a VERSIONS <<<"$VERSION_LIST"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kmidi-c-rdkafka.XXXXXX")
BROKERS=()

# shellcheck disable=SC2317  # reached through the EXIT trap, which shellcheck 0.9 misses
cleanup() {
  local name
  for name in "${BROKERS[@]}"; do
    bash "$KAFKA" stop "$name" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

"$HERE/build.sh" "$WORK" >/dev/null
gcc -std=c11 -Wall -Wextra -pedantic -Werror -O1 -g \
  -I"$REPO/kmidi-transport/include" -o "$WORK/test_harness" "$HERE/test_harness.c" \
  "$HERE/test_group.c" "$HERE/test_producer.c" "$HERE/test_leaders.c" -ldl
# The harness checks the plugin reports the librdkafka it was built with (the cache
# directory is named after the version).
KMIDI_LIBRDKAFKA_VERSION=$(basename "$(bash "$HERE/librdkafka.sh")")
export KMIDI_LIBRDKAFKA_VERSION

RUNNER=()
if [[ ${KMIDI_VALGRIND:-0} == 1 ]]; then
  # Leaks only count as errors when "definitely" or "indirectly" lost; librdkafka's
  # once-per-process globals (OpenSSL, SASL) show up as "still reachable".
  # valgrind.supp: leaks of librdkafka's own, each explained there.
  RUNNER=(valgrind --leak-check=full "--errors-for-leak-kinds=definite,indirect"
          "--suppressions=$HERE/valgrind.supp"
          --error-exitcode=99 --num-callers=30)
fi

status=0
for version in "${VERSIONS[@]}"; do
  port=$(bash "$KAFKA" free-port)
  name=c-rdkafka-test-$version-$port
  BROKERS+=("$name")
  echo "== Kafka $version on port $port"
  bootstrap=$(bash "$KAFKA" start "$version" "$port" "$name" | tail -n1)
  if "${RUNNER[@]}" "$WORK/test_harness" "$WORK/libkmidi_c_rdkafka.so" "$bootstrap" "$version" \
      2>"$WORK/stderr-$version.txt"; then
    echo "== Kafka $version: PASSED"
  else
    status=1
    echo "== Kafka $version: FAILED; harness stderr (librdkafka logs, valgrind):"
    tail -n 60 "$WORK/stderr-$version.txt"
  fi
  if [[ ${KMIDI_VALGRIND:-0} == 1 ]]; then
    grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable|in use at exit' \
      "$WORK/stderr-$version.txt" || true
  fi
  bash "$KAFKA" stop "$name" >/dev/null 2>&1 || true
done
exit "$status"
