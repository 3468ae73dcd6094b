# shellcheck shell=bash
# Helpers every part of scripts/kafka.sh uses: logging, argument checks, the cache
# layout, the JVM log configs, ports and the processes the script started. Sourced by
# scripts/kafka.sh, which sets the paths and defaults (CONF_DIR, KAFKA_CACHE,
# STOP_TIMEOUT, ...) first.

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

check_version() {
  [[ ${1:-} =~ ^[0-9]+\.[0-9]+\.[0-9]+([.-][A-Za-z0-9.-]+)?$ ]] ||
    die "bad Kafka version '${1:-}' (want e.g. 3.9.2 or 4.3.1)"
}

check_port() {
  if ! [[ ${1:-} =~ ^[0-9]+$ ]] || ((${1} < 1 || ${1} > 65535)); then
    die "bad port '${1:-}'"
  fi
}

major_of() { printf '%s\n' "${1%%.*}"; }

libs_dir() { printf '%s\n' "$KAFKA_CACHE/$1/libs"; }

# The logging backend and its config differ between Kafka 3.x and 4.x.
mvn_profile() {
  if (($(major_of "$1") >= 4)); then echo kafka4; else echo kafka3; fi
}

# JVM flags selecting the log config ($2 = broker|tool).
log_opts() {
  local version=$1 kind=$2 file
  if (($(major_of "$version") >= 4)); then
    file=$CONF_DIR/log4j2.xml
    [[ $kind == tool ]] && file=$CONF_DIR/tools-log4j2.xml
    printf '%s\n' "-Dlog4j2.configurationFile=$file"
  else
    file=$CONF_DIR/log4j.properties
    [[ $kind == tool ]] && file=$CONF_DIR/tools-log4j.properties
    printf '%s\n' "-Dlog4j.configuration=file:$file"
  fi
}

# True if something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

cmd_free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    return
  fi
  local port i
  for ((i = 0; i < 200; i++)); do
    port=$((20000 + RANDOM % 40000))
    if ! port_open "$port"; then
      echo "$port"
      return
    fi
  done
  die "could not find a free port"
}

# ---------------------------------------------------------------- processes

pid_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

# True if $1 is a live broker process started from run dir $2, or a Trogdor
# coordinator or agent started from node dir $2 (trogdor-start gives each node its own
# copy of the config, so the pattern names one process): end_broker stops both alike.
is_our_broker() {
  local pid=$1 run=$2 cmdline
  pid_alive "$pid" || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *kafka.Kafka*"$run/server.properties"* ||
    $cmdline == *org.apache.kafka.trogdor.*" -c $run/trogdor.json "* ]]
}

# Ports handed out by this run of the script, so no two listeners get the same one
# (free-port only knows what is bound already).
USED_PORTS=()

# Sets variable $1 to a free port on 127.0.0.1 that this script has not handed out
# yet. Not a `$(...)`: the subshell would forget the port it handed out.
take_port() {
  local p
  p=$(cmd_free_port)
  while [[ " ${USED_PORTS[*]} " == *" $p "* ]]; do p=$(cmd_free_port); done
  USED_PORTS+=("$p")
  printf -v "$1" '%s' "$p"
}

# Sends SIG to the broker of run dir $1 if it runs and waits until it has exited: up
# to STOP_TIMEOUT seconds, then SIGKILL. Removes its pid file; prints the pid it ended,
# or fails if none was running. Shared by stop (which then deletes the data) and
# halt/kill (which keep it).
end_broker() {
  local run=$1 sig=$2 pid=''
  [[ -f $run/pid ]] && pid=$(cat "$run/pid")
  if [[ -z $pid ]] || ! is_our_broker "$pid" "$run"; then
    rm -f "$run/pid"
    return 1
  fi
  kill "-$sig" "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
  if pid_alive "$pid"; then
    log "broker '$(basename "$run")' (pid $pid) ignored SIG$sig for ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while pid_alive "$pid"; do sleep 0.1; done
  fi
  rm -f "$run/pid"
  printf '%s\n' "$pid"
}
