#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Prints the directory of a static, PIC librdkafka (lib/librdkafka.a,
# include/librdkafka/rdkafka.h) built from the very source rdkafka-sys bundles, so the
# c-rdkafka plugin and kmidi's built-in rdkafka transport run the same librdkafka and
# an A/B of the two measures the plugin boundary, not two library versions.
#
# The version is read from Cargo.lock's rdkafka-sys entry ("4.10.0+2.12.1" bundles
# 2.12.1), never written down here, so a `cargo update -p rdkafka-sys` moves both.
# The build takes a minute or two on 2 cores, hence the cache:
#   ${KMIDI_CACHE_DIR:-<repo>/.cache}/librdkafka/<version>/
# rebuilt only when missing or when the cmake options below change. Concurrent
# callers (cargo tests build the plugin from parallel threads) wait on a lock.
#
# Why not reuse the librdkafka.a rdkafka-sys leaves in target/*/build/rdkafka-sys-*/out:
# it only exists after a cargo build of the right profile (not for a harness run on
# a fresh checkout), several stale hashed directories can coexist, and it is built
# without Cyrus SASL (GSSAPI) and zstd, which the plugin has always offered.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
log() { printf 'librdkafka.sh: %s\n' "$*" >&2; }

# rdkafka-sys's cmake build (features cmake-build, ssl, libz) plus what Debian's
# librdkafka, which the plugin linked before, also had: Cyrus SASL and zstd. LZ4 is
# librdkafka's bundled copy, as in rdkafka-sys. No curl: OIDC token fetching is the
# one feature lost, and rdkafka-sys does not build it either.
OPTIONS=(
  -DCMAKE_BUILD_TYPE=RelWithDebInfo
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON
  -DCMAKE_POLICY_VERSION_MINIMUM=3.5
  -DRDKAFKA_BUILD_STATIC=1 -DRDKAFKA_BUILD_TESTS=0 -DRDKAFKA_BUILD_EXAMPLES=0
  -DWITH_SSL=1 -DWITH_SASL=1 -DWITH_ZLIB=1 -DWITH_ZSTD=1 -DWITH_CURL=0
  -DENABLE_LZ4_EXT=0
)

crate_version=$(awk '$0 == "name = \"rdkafka-sys\"" { getline; gsub(/^version = "|"$/, ""); print; exit }' \
  "$REPO/Cargo.lock")
if [[ $crate_version != *+* ]]; then
  log "no rdkafka-sys entry of the form X+LIBRDKAFKA_VERSION in $REPO/Cargo.lock"
  exit 1
fi
version=${crate_version#*+}
root=${KMIDI_CACHE_DIR:-$REPO/.cache}/librdkafka
dir=$root/$version
stamp="$crate_version ${OPTIONS[*]}"

ready() { [[ -f $dir/lib/librdkafka.a && -f $dir/options && $(<"$dir/options") == "$stamp" ]]; }

if ready; then
  echo "$dir"
  exit 0
fi

mkdir -p "$root"
exec 9>"$root/$version.lock"
flock 9
# Someone else may have built it while this one waited.
if ready; then
  echo "$dir"
  exit 0
fi

# The crate's unpacked source: the registry's copy if cargo already has it, else
# wherever cargo metadata says it is (fetching it, for a fresh CARGO_HOME).
src=
for candidate in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"rdkafka-sys-$crate_version"; do
  [[ -f $candidate/librdkafka/CMakeLists.txt ]] && src=$candidate/librdkafka
done
if [[ -z $src ]]; then
  log "rdkafka-sys $crate_version is not unpacked yet: asking cargo metadata"
  manifest=$(cd "$REPO" && cargo metadata --format-version 1 --locked | python3 -c '
import json, sys
want = sys.argv[1]
for p in json.load(sys.stdin)["packages"]:
    if p["name"] == "rdkafka-sys" and p["version"] == want:
        print(p["manifest_path"])
' "$crate_version")
  src=$(dirname "$manifest")/librdkafka
fi
if [[ ! -f $src/CMakeLists.txt ]]; then
  log "no librdkafka source at '$src' (try: cargo fetch --locked)"
  exit 1
fi

log "building librdkafka $version from $src into $dir (about a minute on 2 cores, once)"
start=$SECONDS
tmp=$root/.$version.$$
rm -rf "$tmp" "$dir"
trap 'rm -rf "$tmp" "$tmp.log"' EXIT
# Out of tree: the registry source is shared by every cargo project and stays
# untouched. Only the C library target: the C++ wrapper is not needed.
cmake -S "$src" -B "$tmp/build" "${OPTIONS[@]}" >"$tmp.log" 2>&1 ||
  { tail -n 40 "$tmp.log" >&2; exit 1; }
cmake --build "$tmp/build" --target rdkafka -j "$(nproc)" >>"$tmp.log" 2>&1 ||
  { tail -n 40 "$tmp.log" >&2; exit 1; }
mkdir -p "$tmp/lib" "$tmp/include/librdkafka"
cp "$tmp/build/src/librdkafka.a" "$tmp/lib/"
cp "$src/src/rdkafka.h" "$tmp/include/librdkafka/"
grep -E '^(WITH_|ENABLE_)' "$tmp/build/CMakeCache.txt" >"$tmp/cmake-options.txt" || true
rm -rf "$tmp/build" "$tmp.log"
printf '%s\n' "$stamp" >"$tmp/options"
# Renamed into place last, so an interrupted build never looks ready.
mv "$tmp" "$dir"
log "librdkafka $version built in $((SECONDS - start)) s"
echo "$dir"
