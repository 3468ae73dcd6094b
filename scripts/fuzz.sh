#!/usr/bin/env bash
# Fuzzes kmidi's parsers of untrusted input (see fuzz/Cargo.toml) with cargo-fuzz:
# each target for a bounded time, with memory and per-input time limits, so that a hang
# or an absurd allocation is reported like a crash. Exits non-zero on the first target
# that fails, printing the input that made it fail; keep such an input as a regression
# test (midi/tests/regressions/, engine/tests/wire_regressions/) once it is fixed.
#
# usage: scripts/fuzz.sh [SECONDS_PER_TARGET]      (default 60)
#   FUZZ_TARGETS="midi_load hex"  only these targets (default: all)
#   FUZZ_TOOLCHAIN=nightly        the toolchain cargo-fuzz builds with (needs nightly)
set -euo pipefail

seconds=${1:-60}
case $seconds in '' | *[!0-9]*)
    echo "usage: $0 [SECONDS_PER_TARGET]" >&2
    exit 2
    ;;
esac
toolchain=${FUZZ_TOOLCHAIN:-nightly}
read -r -a targets <<<"${FUZZ_TARGETS:-wire_decode midi_load hex}"
cd "$(dirname "$0")/.."
root=$PWD

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

# Build every target first, so a compile error is not mistaken for a crash.
cargo "+$toolchain" fuzz build
failed=0
for target in "${targets[@]}"; do
    corpus=fuzz/corpus/$target
    artifacts=fuzz/artifacts/$target
    mkdir -p "$corpus" "$artifacts" fuzz/logs
    # Seeds: hand-made examples, plus the bundled songs for the MIDI loader. `cp -n`
    # keeps what earlier runs found.
    cp -n fuzz/seeds/"$target"/* "$corpus"/ 2>/dev/null || true
    extra=()
    case $target in
    midi_load)
        cp -n songs/*.mid "$corpus"/
        # Room for files with many events and tracks, and the MIDI chunk/event vocabulary.
        extra=(-max_len=16384 "-dict=$root/fuzz/midi.dict")
        ;;
    esac
    marker=$(mktemp)
    log=fuzz/logs/$target.log
    echo "== fuzzing $target for ${seconds}s (log: $log)" >&2
    set +e
    cargo "+$toolchain" fuzz run "$target" "$corpus" -- \
        -max_total_time="$seconds" \
        -rss_limit_mb=2048 \
        -malloc_limit_mb=1024 \
        -timeout=10 \
        -print_final_stats=1 \
        "${extra[@]}" >"$log" 2>&1
    status=$?
    set -e
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$log" >&2 || true
    if [ "$status" -ne 0 ]; then
        failed=1
        echo "!! $target failed (exit $status); last lines of $log:" >&2
        tail -n 40 "$log" >&2
        find "$artifacts" -type f -newer "$marker" | while read -r crash; do
            echo "!! failing input: $crash" >&2
            od -A d -t x1z -v "$crash" | head -n 20 >&2
        done
        rm -f "$marker"
        break
    fi
    rm -f "$marker"
done
exit "$failed"
