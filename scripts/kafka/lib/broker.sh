# shellcheck shell=bash
# The broker commands: start, stop, stop-all, status and the faults (halt, kill,
# resume, restart). Sourced by scripts/kafka.sh.

# ---------------------------------------------------------------- start

cmd_start() {
  (($# == 2 || $# == 3)) || die "usage: start VERSION PORT [NAME]"
  local version=$1 port=$2 name=${3:-kafka-$1-$2} t0=$SECONDS
  check_version "$version"
  check_port "$port"
  [[ $name =~ ^[A-Za-z0-9._-]+$ ]] || die "bad broker name '$name'"
  command -v "$JAVA_BIN" >/dev/null 2>&1 || die "java not found"
  cmd_fetch "$version"
  local run=$RUN_ROOT/$name
  if [[ -f $run/pid ]] && is_our_broker "$(cat "$run/pid")" "$run"; then
    die "broker '$name' is already running (pid $(cat "$run/pid"))"
  fi
  port_open "$port" && die "port $port on 127.0.0.1 is already in use"
  start_nodes "$version" '' "$HEAP_OPTS" "$name:$port"
  log "started '$name': Kafka $version pid $(cat "$run/pid") on 127.0.0.1:$port in $((SECONDS - t0))s; logs in $run/logs"
  echo "127.0.0.1:$port"
}

# ---------------------------------------------------------------- stop

# Stop the broker of run dir $1 and delete its data. Without data and pid it is no
# broker any more: `status` no longer lists it, `stop PORT` no longer finds it, and
# the port file goes too (logs/ and server.properties stay, for a post-mortem).
stop_run() {
  local run=$1 name pid
  name=$(basename "$run")
  if pid=$(end_broker "$run" TERM); then
    log "stopped '$name' (pid $pid)"
  elif [[ -d $run/data ]]; then
    log "broker '$name' was not running; deleted its data"
  else
    log "broker '$name' was not running"
  fi
  rm -f "$run/port" "$run/state"
  rm -rf "$run/data"
  if [[ ${KMIDI_KAFKA_KEEP_LOGS:-1} != 1 ]]; then
    rm -rf "$run"
  fi
}

cmd_stop() {
  (($# == 1)) || die "usage: stop NAME|PORT"
  local arg=$1 run=''
  if [[ $arg =~ ^[A-Za-z0-9._-]+$ && -d $RUN_ROOT/$arg ]]; then
    run=$RUN_ROOT/$arg
  elif [[ $arg =~ ^[0-9]+$ ]]; then
    local d
    for d in "$RUN_ROOT"/*/; do
      [[ -f ${d}port && $(cat "${d}port") == "$arg" ]] || continue
      # Prefer a running broker on that port over stale run dirs.
      run=${d%/}
      [[ -f ${d}pid ]] && break
    done
  fi
  if [[ -z $run ]]; then
    log "no broker named or listening on '$arg' (nothing to stop)"
    return 0
  fi
  stop_run "$run"
}

# Prints the state of the broker of run dir $1: running, or, with its data kept,
# halted/killed (by halt/kill), starting (formatted, not launched yet) or exited (died
# on its own). Fails for what `stop` left (or a run dir of an older kafka.sh, whose
# stop kept the port file): no live process and no data is no broker.
run_state() {
  local run=$1 pid
  [[ -f $run/port ]] || return 1
  pid=$(cat "$run/pid" 2>/dev/null || true)
  if [[ -n $pid ]] && is_our_broker "$pid" "$run"; then
    echo running
  elif [[ -d $run/data ]]; then
    cat "$run/state" 2>/dev/null || echo exited
  else
    return 1
  fi
}

cmd_stop_all() {
  (($# == 0)) || die "usage: stop-all"
  local d
  for d in "$RUN_ROOT"/*/; do
    run_state "${d%/}" >/dev/null || continue
    stop_run "${d%/}"
  done
  # The Trogdor coordinators and agents `status` lists too.
  for d in "$TROGDOR_ROOT"/*/; do
    [[ -f ${d}url ]] || compgen -G "${d}*/pid" >/dev/null || continue
    stop_trogdor_dir "${d%/}"
  done
}

cmd_status() {
  (($# == 0)) || die "usage: status"
  local d run pid state
  for d in "$RUN_ROOT"/*/; do
    run=${d%/}
    state=$(run_state "$run") || continue
    pid=-
    [[ $state == running ]] && pid=$(cat "$run/pid")
    printf '%s %s %s %s %s\n' "$(basename "$run")" "$(cat "$run/version" 2>/dev/null || echo '?')" \
      "$(cat "$run/port")" "$pid" "$state"
  done
  trogdor_status
}

# ---------------------------------------------------------------- faults

# Fault injection keeps a broker's run dir (config, data, port) so it can come back as
# the same node with the same log: what a crash or a rolling restart looks like to
# clients. `stop` deletes the data instead, which is a different cluster.

# The run dir for NAME, or die.
run_of() {
  local name=$1
  [[ $name =~ ^[A-Za-z0-9._-]+$ && -f $RUN_ROOT/$name/server.properties ]] ||
    die "no broker named '$name' (see: scripts/kafka.sh status)"
  printf '%s\n' "$RUN_ROOT/$name"
}

# Sends SIG to the broker of run dir $1 and waits (bounded) for it to exit; keeps data
# and records how it ended for `status`.
signal_run() {
  local run=$1 sig=$2 name pid how=halted
  name=$(basename "$run")
  [[ $sig == KILL ]] && how=killed
  if ! pid=$(end_broker "$run" "$sig"); then
    log "broker '$name' was not running"
    return 0
  fi
  echo "$how" >"$run/state"
  log "$how '$name' (pid $pid); its data is kept"
}

cmd_halt() {
  (($# == 1)) || die "usage: halt NAME"
  local run
  run=$(run_of "$1")
  signal_run "$run" TERM
}

cmd_kill() {
  (($# == 1)) || die "usage: kill NAME"
  local run
  run=$(run_of "$1")
  signal_run "$run" KILL
}

cmd_resume() {
  (($# == 1)) || die "usage: resume NAME"
  local run pid size t0=$SECONDS
  run=$(run_of "$1")
  [[ -d $run/data ]] || die "broker '$1' has no data dir (it was stopped, not halted)"
  if [[ -f $run/pid ]] && is_our_broker "$(cat "$run/pid")" "$run"; then
    die "broker '$1' is already running (pid $(cat "$run/pid"))"
  fi
  port_open "$(cat "$run/port")" && die "port $(cat "$run/port") on 127.0.0.1 is already in use"
  size=$(log_size "$run")
  pid=$(launch_run "$run")
  wait_started "$run:$pid:$size"
  log "resumed '$1': pid $pid on 127.0.0.1:$(cat "$run/port") in $((SECONDS - t0))s"
  echo "127.0.0.1:$(cat "$run/port")"
}

cmd_restart() {
  (($# == 1)) || die "usage: restart NAME"
  cmd_halt "$1"
  cmd_resume "$1"
}
