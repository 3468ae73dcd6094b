#!/usr/bin/env bash
# Install the Debian packages kmidi needs to build and test (idempotent).
#
#   scripts/install-deps.sh           install what is missing (root, or sudo)
#   scripts/install-deps.sh --check   only report; exit 1 if anything is missing
#
# When every package is already installed it neither runs `apt-get update` nor
# `apt-get install`, so repeated runs take well under a second. Rust is not a
# Debian package here: if `cargo` is missing it says how to get rustup and
# exits 1.
set -euo pipefail

PACKAGES=(
  # Rust crates' native deps (rdkafka-sys, openssl-sys, alsa-sys, jack-sys), and
  # the c-rdkafka plugin's static librdkafka (cmake, ssl, sasl2, zstd, zlib)
  build-essential cmake pkg-config
  libssl-dev libsasl2-dev zlib1g-dev libzstd-dev libcurl4-openssl-dev
  libasound2-dev libjack-jackd2-dev
  # Audio: JACK server, synthesizer + General MIDI soundfont, recorder
  jackd2 fluidsynth timgm6mb-soundfont jack-capture
  # Kafka: CLI client; the broker itself runs from Maven jars (scripts/kafka.sh)
  kcat
  # Metrics: the scrape test runs a real Prometheus on loopback
  prometheus
  python3
  # The --web page's real-browser tests (headless, driven over WebDriver)
  chromium chromium-driver
  # Lints the shell scripts (scripts/test.sh)
  shellcheck
)
# Java and Maven only when the commands are missing (any JDK 17+ / Maven 3.6+
# already on PATH will do for scripts/kafka.sh).
command -v java >/dev/null 2>&1 || PACKAGES+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || PACKAGES+=(maven)
# Go for the franz-go plugin; an older Debian Go fetches the toolchain go.mod asks for
# from the Go module proxy by itself (GOTOOLCHAIN=auto).
command -v go >/dev/null 2>&1 || PACKAGES+=(golang-go)

log() { printf 'install-deps: %s\n' "$*" >&2; }

check_only=0
case ${1:-} in
  '') ;;
  --check) check_only=1 ;;
  -h | --help)
    sed -n '2,10s/^# \{0,1\}//p' "$0"
    exit 0
    ;;
  *)
    log "unknown argument '$1' (try --help)"
    exit 2
    ;;
esac

installed() {
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true) == installed ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done

status=0
if ((${#missing[@]} == 0)); then
  log "all ${#PACKAGES[@]} Debian packages are installed"
elif ((check_only)); then
  log "missing Debian packages: ${missing[*]}"
  status=1
else
  log "installing: ${missing[*]}"
  SUDO=()
  if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1; then
      SUDO=(sudo)
    else
      log "error: not root and sudo is not available; run as root:"
      log "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
      exit 1
    fi
  fi
  # jackd2's postinst asks whether to enable realtime priority: answer "no".
  echo "jackd2 jackd/tweak_rt_limits boolean false" | "${SUDO[@]}" debconf-set-selections
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends "${missing[@]}"
  still=()
  for pkg in "${missing[@]}"; do
    installed "$pkg" || still+=("$pkg")
  done
  if ((${#still[@]})); then
    log "error: still not installed: ${still[*]}"
    exit 1
  fi
  log "installed ${#missing[@]} package(s)"
fi

# Rust toolchain: rustup is not a Debian package on bookworm and its installer
# is downloaded from outside the package registries, so only check for it.
if ! command -v cargo >/dev/null 2>&1; then
  if [[ -x ${CARGO_HOME:-$HOME/.cargo}/bin/cargo ]]; then
    log "error: cargo is installed in ${CARGO_HOME:-$HOME/.cargo}/bin but not on PATH;"
    log "  run: . \"${CARGO_HOME:-$HOME/.cargo}/env\"   (or add that bin dir to PATH)"
  else
    log "error: cargo (Rust) is missing. Install the stable toolchain with rustup:"
    log "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal"
    log "  . \"\$HOME/.cargo/env\""
    log "(this script does not fetch rustup itself)"
  fi
  exit 1
fi
log "rust: $(cargo --version)"
exit "$status"
