#!/usr/bin/env bash
# The real sound path, headless: starts a private JACK server (dummy driver, no sound
# card needed) and FluidSynth on it, then runs the JACK integration test
# (kmidi-cli/tests/sound_jack.rs), which starts its own Kafka broker, plays a song
# through Kafka to FluidSynth and checks what FluidSynth was sent and what it played.
#
# Usage: bash scripts/test-sound.sh [extra cargo test arguments, e.g. a test name]
#        bash scripts/test-sound.sh --run COMMAND [ARGS...]   run COMMAND instead of the
#            test, with the same JACK server and FluidSynth (the audio benchmark does)
#        KMIDI_JACK_PERIOD=64 bash scripts/test-sound.sh ...   JACK period in frames
#            (default 256: 5.8 ms at 44.1 kHz)
#
# Needs: jackd (jackd2), jack_lsp, jack_connect, jack_capture, fluidsynth, a General
# MIDI SoundFont (KMIDI_SOUNDFONT, default /usr/share/sounds/sf2/TimGM6mb.sf2), libjack
# headers (to build with --features jack) and Java (for the Kafka broker).
# Everything it starts is stopped when it exits, however it exits.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

soundfont=${KMIDI_SOUNDFONT:-/usr/share/sounds/sf2/TimGM6mb.sf2}
# A server of our own: never talks to (or disturbs) another JACK server on the machine.
export JACK_DEFAULT_SERVER="kmidi-test-$$"
# No D-Bus device reservation for the dummy driver.
export JACK_NO_AUDIO_RESERVATION=1

work=$(mktemp -d "${TMPDIR:-/tmp}/kmidi-sound.XXXXXX")
jackd_log=$work/jackd.log
fluid_log=$work/fluidsynth.log
jackd_pid=""
fluid_pid=""
started=$(date +%s)
period=${KMIDI_JACK_PERIOD:-256}
run=()
if [[ ${1:-} == --run ]]; then
  shift
  run=("$@")
  set --
fi

say() { printf 'test-sound: %s\n' "$*" >&2; }

stop_pid() { # pid name: TERM, wait up to 5 s, then KILL
  local pid=$1 name=$2 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  say "$name (pid $pid) ignored SIGTERM; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# Processes started (directly or not) by the test run under this script: found by the
# server name in their environment, so nothing of anyone else's is touched. The Kafka
# broker is left to the test harness's watchdog, which stops it once the test is gone.
ours() { # comm names...
  local proc pid comm want
  for proc in /proc/[0-9]*; do
    pid=${proc#/proc/}
    [[ $pid == "$$" ]] && continue
    comm=$(cat "$proc/comm" 2>/dev/null) || continue
    for want in "$@"; do
      # shellcheck disable=SC2053 # a glob on purpose (sound_jack-<hash>)
      if [[ $comm == $want ]] &&
        tr '\0' '\n' <"$proc/environ" 2>/dev/null | grep -qx "JACK_DEFAULT_SERVER=$JACK_DEFAULT_SERVER"; then
        echo "$pid"
      fi
    done
  done
}

cleanup() {
  local status=$?
  set +e
  # Normally all gone by now; after a failure, Ctrl-C or SIGTERM some may be left.
  local pid
  # kmidi first, while the test's broker is still up for its consumer to leave the group.
  for pid in $(ours kmidi jack_capture); do stop_pid "$pid" "$(cat "/proc/$pid/comm" 2>/dev/null)"; done
  for pid in $(ours cargo 'sound_jack-*'); do stop_pid "$pid" "test process"; done
  stop_pid "$fluid_pid" fluidsynth
  stop_pid "$jackd_pid" jackd
  rm -rf "$work"
  # JACK leaves its shared-memory/socket directory behind when killed.
  rm -rf "/dev/shm/jack_${JACK_DEFAULT_SERVER}"_* "/dev/shm/jack-$(id -u)/${JACK_DEFAULT_SERVER}" 2>/dev/null
  local took=$(($(date +%s) - started))
  if ((status == 0)); then
    printf 'test-sound: PASS (%d s)\n' "$took" >&2
  else
    printf 'test-sound: FAIL (exit %d, %d s)\n' "$status" "$took" >&2
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  say "$1"
  if [[ -n ${2:-} && -s $2 ]]; then
    say "--- ${2##*/}"
    sed 's/^/  | /' "$2" >&2
  fi
  exit 1
}

for tool in jackd jack_lsp jack_connect jack_capture fluidsynth cargo; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (apt-get install jackd2 jack-capture fluidsynth)"
done
[[ -r $soundfont ]] || fail "no SoundFont at $soundfont (apt-get install timgm6mb-soundfont, or set KMIDI_SOUNDFONT)"

# Build first, so the servers do not idle through a compile.
if ((${#run[@]} == 0)); then
  say "building the JACK build of kmidi and its sound test"
  cargo test -p kmidi --features jack --test sound_jack --no-run
fi

say "starting jackd (server $JACK_DEFAULT_SERVER, dummy driver, period $period, synchronous)"
# --sync: each cycle waits for every client. In JACK2's default asynchronous mode a
# client that misses its cycle on a CPU-starved machine loses or reorders MIDI events
# between clients (the test's monitor heard a note-off before its note-on), which is
# the server, not kmidi; synchronous mode turns such a miss into a late period.
jackd --no-realtime --sync -n "$JACK_DEFAULT_SERVER" -d dummy -r 44100 -p "$period" \
  </dev/null >"$jackd_log" 2>&1 &
jackd_pid=$!
for ((i = 0; ; i++)); do
  kill -0 "$jackd_pid" 2>/dev/null || fail "jackd exited at start" "$jackd_log"
  jack_lsp >/dev/null 2>&1 && break
  ((i < 100)) || fail "jackd did not answer within 10 s" "$jackd_log"
  sleep 0.1
done
say "jackd is up (pid $jackd_pid)"

# -s (server mode) keeps FluidSynth running without a shell; its TCP shell is not
# needed, so it gets no fixed port that another FluidSynth could hold.
say "starting FluidSynth with $soundfont"
fluidsynth -a jack -m jack -o midi.jack.id=fluidsynth -o audio.jack.id=fluidsynth \
  -o audio.jack.server="$JACK_DEFAULT_SERVER" -o midi.jack.server="$JACK_DEFAULT_SERVER" \
  -o shell.port="$(bash scripts/kafka.sh free-port)" \
  -g 1.0 -s -i "$soundfont" </dev/null >"$fluid_log" 2>&1 &
fluid_pid=$!
for ((i = 0; ; i++)); do
  kill -0 "$fluid_pid" 2>/dev/null || fail "fluidsynth exited at start" "$fluid_log"
  ports=$(jack_lsp 2>/dev/null || true)
  if grep -qx 'fluidsynth:midi_00' <<<"$ports" && grep -qx 'fluidsynth:left' <<<"$ports" &&
    grep -qx 'fluidsynth:right' <<<"$ports"; then
    break
  fi
  ((i < 150)) || fail "FluidSynth's JACK ports did not appear within 15 s" "$fluid_log"
  sleep 0.1
done
say "FluidSynth is up (pid $fluid_pid): fluidsynth:midi_00, fluidsynth:left, fluidsynth:right"

if ((${#run[@]})); then
  say "running: ${run[*]}"
  "${run[@]}"
  exit
fi

sound_test() {
  # In the background, so that SIGTERM or Ctrl-C reaches the trap at once.
  # Its output also goes to a file, to look for x-runs that jack_capture reported.
  cargo test -p kmidi --features jack --test sound_jack -- --nocapture --test-threads=1 "$@" \
    > >(tee "$work/test.log") 2>&1 &
  test_pid=$!
  wait "$test_pid"
}

say "running the sound test"
if ! sound_test "$@"; then
  say "--- jackd log"
  sed 's/^/  | /' "$jackd_log" >&2
  say "--- fluidsynth log"
  sed 's/^/  | /' "$fluid_log" >&2
  # A JACK server starved of CPU (x-runs, "Process error") loses whole periods of MIDI
  # events between clients, which the test then reads as notes out of order: that is
  # the machine, not kmidi, so such a run gets one more try. Any other failure stands.
  if ! grep -qi -e 'process error' -e 'xrun' -e 'x-run' "$jackd_log" "$work/test.log"; then
    exit 1
  fi
  say "JACK reported x-runs during the failed run: running the sound test once more"
  sound_test "$@" || exit 1
fi
