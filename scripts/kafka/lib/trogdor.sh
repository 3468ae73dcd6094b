# shellcheck shell=bash
# trogdor-start and trogdor-stop (fetch-trogdor is in fetch.sh), and Trogdor's lines of
# `status`. Sourced by scripts/kafka.sh.

# Trogdor, Kafka's own distributed workload engine: a coordinator and agents on
# 127.0.0.1 from the Maven jars of the broker's version, for tests and the README's
# example (a real fleet runs Kafka's bin/trogdor.sh on its own hosts). Layout:
#   kafka/VERSION/trogdor/libs/   Trogdor with its Jetty/Jersey runtime (fetch-trogdor)
#   trogdor/NAME/                 version, url, trogdor.json (all nodes)
#   trogdor/NAME/PROC/            trogdor.json (a copy: the process's own), pid, port,
#                                 logs/trogdor.out; PROC is coordinator (Trogdor node
#                                 agent-1, beside that agent) or agent-N
# Trogdor keeps its tasks in memory only: stopping the processes is the whole state.
# Its REST servers listen on every interface (Trogdor has no bind-address setting);
# the config names 127.0.0.1, so the coordinator reaches its agents on loopback.
# Its settings (TROGDOR_ROOT, TROGDOR_*_TIMEOUT, ..._OPTS) are in scripts/kafka.sh.

# True if 127.0.0.1:$1 answers GET $2 with HTTP 200, within 5 s. Plain bash: the
# script needs no HTTP client.
http_get_ok() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$2" "$1" >&3
    IFS= read -r -t 5 line <&3 || exit 1
    [[ $line == HTTP/1.?' 200'* ]]
  ) 2>/dev/null
}

# The node dirs of Trogdor NAME's dir $1: coordinator first, then the agents.
trogdor_nodes() {
  local d
  for d in "$1"/coordinator "$1"/agent-*; do
    [[ -f $d/trogdor.json ]] && printf '%s\n' "$d"
  done
  return 0
}

# Starts Trogdor node dir $1 (coordinator or agent) in the background; prints its pid.
launch_trogdor_node() {
  local node_dir=$1 version=$2 node cls libs
  node=$(basename "$node_dir")
  cls=org.apache.kafka.trogdor.agent.Agent
  if [[ $node == coordinator ]]; then
    cls=org.apache.kafka.trogdor.coordinator.Coordinator
    node=agent-1
  fi
  libs=$(trogdor_libs_dir "$version")
  local -a jvm heap
  read -r -a jvm <<<"$TROGDOR_JVM_OPTS"
  read -r -a heap <<<"$TROGDOR_HEAP_OPTS"
  # setsid: it outlives this script and ignores the caller's ^C, like a broker. The
  # config path ends the `-c` argument, so is_our_broker knows the process by it.
  setsid "$JAVA_BIN" "${heap[@]}" "${jvm[@]}" "$(log_opts "$version" tool)" \
    -cp "$libs/*" "$cls" -c "$node_dir/trogdor.json" -n "$node" \
    </dev/null >>"$node_dir/logs/trogdor.out" 2>&1 &
  echo "$!" >"$node_dir/pid"
  echo "$!"
}

# Stops every node of Trogdor dir $1 (end_broker: SIGTERM, SIGKILL after a bounded
# wait) and forgets them: pid, port and url go, logs stay (KMIDI_KAFKA_KEEP_LOGS).
stop_trogdor_dir() {
  local dir=$1 node_dir pid name
  local -a waits=()
  name=$(basename "$dir")
  while IFS= read -r node_dir; do
    (
      if pid=$(STOP_TIMEOUT=$TROGDOR_STOP_TIMEOUT end_broker "$node_dir" TERM); then
        log "stopped trogdor '$name' $(basename "$node_dir") (pid $pid)"
      fi
      rm -f "$node_dir/port"
    ) &
    waits+=("$!")
  done < <(trogdor_nodes "$dir")
  for pid in "${waits[@]}"; do wait "$pid" || true; done
  rm -f "$dir/url"
  if [[ ${KMIDI_KAFKA_KEEP_LOGS:-1} != 1 ]]; then
    rm -rf "$dir"
  fi
}

cmd_trogdor_start() {
  (($# == 2 || $# == 3)) || die "usage: trogdor-start VERSION NAME [AGENTS]"
  local version=$1 name=$2 agents=${3:-1} t0=$SECONDS dir i port node node_dir
  check_version "$version"
  [[ $name =~ ^[A-Za-z0-9._-]+$ ]] || die "bad trogdor name '$name'"
  [[ $agents =~ ^[1-9]$ ]] || die "bad agent count '$agents' (1-9)"
  command -v "$JAVA_BIN" >/dev/null 2>&1 || die "java not found"
  cmd_fetch_trogdor "$version"
  dir=$TROGDOR_ROOT/$name
  while IFS= read -r node_dir; do
    if [[ -f $node_dir/pid ]] && is_our_broker "$(cat "$node_dir/pid")" "$node_dir"; then
      die "trogdor '$name' is already running ($(basename "$node_dir") pid $(cat "$node_dir/pid"))"
    fi
  done < <(trogdor_nodes "$dir")
  rm -rf "$dir"
  mkdir -p "$dir"
  echo "$version" >"$dir/version"
  # One config names every node: the coordinator finds the agents in it, each process
  # finds its own port by its -n name. The coordinator runs as node agent-1 (its
  # second port), as in Kafka's config/trogdor.conf: the coordinator polls every node
  # of the config as an agent, one without an agent port at Trogdor's default 8888.
  local -a nodes=(coordinator) ports=()
  for ((i = 1; i <= agents; i++)); do nodes+=("agent-$i"); done
  for node in "${nodes[@]}"; do
    take_port port
    ports+=("$port")
  done
  local json='' extra
  for ((i = 1; i <= agents; i++)); do
    extra=''
    ((i == 1)) && extra=", \"trogdor.coordinator.port\": ${ports[0]}"
    json+="${json:+,
}    \"agent-$i\": {\"hostname\": \"127.0.0.1\", \"trogdor.agent.port\": ${ports[i]}$extra}"
  done
  printf '{\n  "platform": "org.apache.kafka.trogdor.basic.BasicPlatform",\n  "nodes": {\n%s\n  }\n}\n' \
    "$json" >"$dir/trogdor.json"
  local -a pids=()
  for ((i = 0; i < ${#nodes[@]}; i++)); do
    node_dir=$dir/${nodes[i]}
    mkdir -p "$node_dir/logs"
    cp "$dir/trogdor.json" "$node_dir/trogdor.json"
    echo "${ports[i]}" >"$node_dir/port"
    pids+=("$(launch_trogdor_node "$node_dir" "$version")")
  done
  # Up when the coordinator's REST API answers and every agent's does too (the
  # coordinator would retry an agent that is late, but a task created meanwhile waits).
  local deadline=$((SECONDS + TROGDOR_START_TIMEOUT)) pending path
  while :; do
    pending=0
    for ((i = 0; i < ${#nodes[@]}; i++)); do
      if ! pid_alive "${pids[i]}"; then
        tail -n 40 "$dir/${nodes[i]}/logs/trogdor.out" >&2 || true
        stop_trogdor_dir "$dir"
        die "trogdor '$name' ${nodes[i]} exited during startup"
      fi
      path=/agent/status
      [[ ${nodes[i]} == coordinator ]] && path=/coordinator/status
      http_get_ok "${ports[i]}" "$path" || pending=1
    done
    ((pending == 0)) && break
    if ((SECONDS >= deadline)); then
      for node in "${nodes[@]}"; do tail -n 20 "$dir/$node/logs/trogdor.out" >&2 || true; done
      stop_trogdor_dir "$dir"
      die "trogdor '$name' did not start within ${TROGDOR_START_TIMEOUT}s"
    fi
    sleep 0.2
  done
  echo "http://127.0.0.1:${ports[0]}" >"$dir/url"
  log "started trogdor '$name': Trogdor $(cat "$KAFKA_CACHE/$version/trogdor/artifact-version") for Kafka $version, a coordinator and $agents agent(s) (${nodes[*]:1}) in $((SECONDS - t0))s; logs in $dir/*/logs"
  echo "http://127.0.0.1:${ports[0]}"
}

cmd_trogdor_stop() {
  (($# == 1)) || die "usage: trogdor-stop NAME"
  local name=$1
  [[ $name =~ ^[A-Za-z0-9._-]+$ ]] || die "bad trogdor name '$name'"
  if [[ ! -d $TROGDOR_ROOT/$name ]]; then
    log "no trogdor named '$name' (nothing to stop)"
    return 0
  fi
  stop_trogdor_dir "$TROGDOR_ROOT/$name"
}

# `status` lines for Trogdor nodes: trogdor:NAME/PROC VERSION PORT PID STATE, STATE
# running or exited (died on its own; trogdor-stop forgets it).
trogdor_status() {
  local dir node_dir pid state
  for dir in "$TROGDOR_ROOT"/*/; do
    dir=${dir%/}
    [[ -d $dir ]] || continue
    while IFS= read -r node_dir; do
      [[ -f $node_dir/pid && -f $node_dir/port ]] || continue
      pid=$(cat "$node_dir/pid")
      state=running
      if ! is_our_broker "$pid" "$node_dir"; then
        state=exited
        pid=-
      fi
      printf 'trogdor:%s/%s %s %s %s %s\n' "$(basename "$dir")" "$(basename "$node_dir")" \
        "$(cat "$dir/version" 2>/dev/null || echo '?')" "$(cat "$node_dir/port")" "$pid" "$state"
    done < <(trogdor_nodes "$dir")
  done
}
