# shellcheck shell=bash
# Starting KRaft nodes (combined broker+controller): server.properties, storage
# formatting, launch and the readiness wait, shared by start, start-cluster and resume.
# Sourced by scripts/kafka.sh.

# A single broker is a one-node cluster: `start` and `start-cluster` both end in
# start_nodes, so properties, formatting, launch and the readiness wait exist once.

random_cluster_id() {
  # A Kafka Uuid: 16 random bytes, URL-safe base64 without padding. One that starts
  # with '-' would be read by StorageTool as an option (and Kafka's own generator
  # never makes one), so draw again.
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ $id == -* ]] || break
  done
  printf '%s' "$id"
}

# True for versions with the share.version feature (share groups, KIP-932): 4.1 and
# newer. 4.0 had only an early-access config, 3.x nothing.
share_groups_supported() {
  local major minor rest
  IFS=. read -r major minor rest <<<"$1"
  ((major > 4 || (major == 4 && minor >= 1)))
}

# server.properties of node ID of an N-node cluster (combined broker+controller).
write_properties() {
  local file=$1 run=$2 id=$3 port=$4 cport=$5 voters=$6 n=$7 rf min_isr
  rf=$((n < 3 ? n : 3))
  min_isr=$((rf > 1 ? rf - 1 : 1))
  cat >"$file" <<EOP
# Written by scripts/kafka.sh: KRaft node $id of $n, combined broker+controller.
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$run/data
metadata.log.dir=$run/data
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$min_isr
auto.create.topics.enable=false
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$min_isr
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
log.retention.check.interval.ms=300000
EOP
  if ((n > 1)); then
    # Fail over in seconds, not the defaults' ~10-30 s: a killed node is fenced (and
    # its partitions get new leaders) after broker.session.timeout.ms without a
    # heartbeat, and a follower that stops fetching leaves the ISR after
    # replica.lag.time.max.ms. A single node has nobody to fail over to, and short
    # timeouts would only let a loaded machine fence it from itself.
    cat >>"$file" <<'EOP'
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000
replica.lag.time.max.ms=5000
controller.quorum.election.timeout.ms=1000
controller.quorum.fetch.timeout.ms=2000
EOP
  fi
  # Extra listeners (e.g. SASL_SSL://127.0.0.1:PORT) beside PLAINTEXT, which stays the
  # inter-broker listener and the one waited for; their security settings come with
  # KMIDI_KAFKA_PROPS. Appended lines win over the defaults above.
  if [[ -n ${KMIDI_KAFKA_EXTRA_LISTENERS:-} ]]; then
    printf 'listeners=PLAINTEXT://127.0.0.1:%s,CONTROLLER://127.0.0.1:%s,%s\nadvertised.listeners=PLAINTEXT://127.0.0.1:%s,%s\n' \
      "$port" "$cport" "$KMIDI_KAFKA_EXTRA_LISTENERS" "$port" "$KMIDI_KAFKA_EXTRA_LISTENERS" \
      >>"$file"
  fi
  # Share groups (KIP-932) on 4.1+: their state topic with one partition, as the
  # offsets topic, instead of 50 (slow to create on a small test machine).
  if share_groups_supported "$(cat "$run/version")"; then
    printf 'share.coordinator.state.topic.num.partitions=1\n' >>"$file"
  fi
  if [[ -n ${KMIDI_KAFKA_PROPS:-} ]]; then
    printf '# KMIDI_KAFKA_PROPS\n%s\n' "$KMIDI_KAFKA_PROPS" >>"$file"
  fi
}

print_log_tail() {
  local run=$1 f
  for f in "$run/logs/kafka.out" "$run/logs/server.log"; do
    [[ -s $f ]] || continue
    log "---- tail of $f ----"
    tail -n 40 "$f" >&2
  done
}

# Starts the broker of an existing, formatted run dir in the background with the heap
# recorded in run/heap; prints its pid.
launch_run() {
  local run=$1 version libs
  version=$(cat "$run/version")
  libs=$(libs_dir "$version")
  local -a broker_jvm heap
  read -r -a broker_jvm <<<"$JVM_OPTS"
  # shellcheck disable=SC2153  # HEAP_OPTS is kafka.sh's setting, not start_nodes' heap_opts
  read -r -a heap <<<"$(cat "$run/heap" 2>/dev/null || printf '%s' "$HEAP_OPTS")"
  mkdir -p "$run/logs"
  rm -f "$run/state"
  # setsid: the broker outlives this script and ignores the caller's ^C.
  setsid "$JAVA_BIN" "${heap[@]}" "${broker_jvm[@]}" \
    "$(log_opts "$version" broker)" "-Dkafka.logs.dir=$run/logs" \
    -cp "$libs/*" kafka.Kafka "$run/server.properties" \
    </dev/null >>"$run/logs/kafka.out" 2>&1 &
  local pid=$!
  echo "$pid" >"$run/pid"
  echo "$pid"
}

log_size() { stat -c %s "$1/logs/server.log" 2>/dev/null || echo 0; }

# Waits until every run dir given as "RUN:PID:LOGSIZE" logged "Kafka Server started"
# after LOGSIZE bytes of its server.log (earlier lines are from a previous life) and
# accepts connections. Dies if one exits or the bound passes.
wait_started() {
  local deadline=$((SECONDS + START_TIMEOUT)) entry run pid size pending
  while :; do
    pending=0
    for entry in "$@"; do
      IFS=: read -r run pid size <<<"$entry"
      if ! pid_alive "$pid"; then
        print_log_tail "$run"
        rm -f "$run/pid"
        die "broker '$(basename "$run")' exited during startup"
      fi
      if ! { tail -c "+$((size + 1))" "$run/logs/server.log" 2>/dev/null | grep -q 'Kafka Server started'; } ||
        ! port_open "$(cat "$run/port")"; then
        pending=1
      fi
    done
    ((pending == 0)) && return 0
    if ((SECONDS >= deadline)); then
      for entry in "$@"; do
        IFS=: read -r run pid size <<<"$entry"
        print_log_tail "$run"
      done
      die "broker(s) did not start within ${START_TIMEOUT}s"
    fi
    sleep 0.2
  done
}

# start_nodes VERSION CLUSTER HEAP NAME:PORT...: fresh run dirs, one static quorum of
# all the nodes (node.id 1..N in the order given), formatted and started; returns once
# every node is up. CLUSTER (may be empty) is what `stop-cluster` finds them by. On
# failure every node is stopped and its data deleted.
start_nodes() {
  local version=$1 cluster=$2 heap_opts=$3
  shift 3
  local n=$# i spec run libs cid voters=''
  local -a runs=() ports=() cports=()
  libs=$(libs_dir "$version")
  for spec in "$@"; do
    runs+=("$RUN_ROOT/${spec%%:*}")
    ports+=("${spec##*:}")
    USED_PORTS+=("${spec##*:}")
  done
  local cport
  for ((i = 0; i < n; i++)); do
    take_port cport
    cports+=("$cport")
    voters+="${voters:+,}$((i + 1))@127.0.0.1:${cports[i]}"
  done
  for run in "${runs[@]}"; do
    if [[ -f $run/pid ]] && is_our_broker "$(cat "$run/pid")" "$run"; then
      die "broker '$(basename "$run")' is already running (pid $(cat "$run/pid"))"
    fi
  done
  cid=$(random_cluster_id)
  for ((i = 0; i < n; i++)); do
    run=${runs[i]}
    rm -rf "$run"
    mkdir -p "$run/data" "$run/logs"
    echo "$version" >"$run/version"
    echo "${ports[i]}" >"$run/port"
    echo "$heap_opts" >"$run/heap"
    echo starting >"$run/state"
    [[ -z $cluster ]] || echo "$cluster" >"$run/cluster"
    write_properties "$run/server.properties" "$run" "$((i + 1))" "${ports[i]}" \
      "${cports[i]}" "$voters" "$n"
  done
  # Extra `StorageTool format` arguments, e.g. --add-scram 'SCRAM-SHA-256=[name=u,password=p]'
  # (credentials must exist before the first client authenticates). Split on spaces.
  local -a format_args=() tool_jvm fpids=()
  # Share groups on: share.version=1 finalized at format time, asked for explicitly
  # rather than left to each version's default for its metadata version.
  share_groups_supported "$version" && format_args+=(--feature share.version=1)
  if [[ -n ${KMIDI_KAFKA_FORMAT_ARGS:-} ]]; then
    local -a extra_args
    read -r -a extra_args <<<"$KMIDI_KAFKA_FORMAT_ARGS"
    format_args+=("${extra_args[@]}")
  fi
  read -r -a tool_jvm <<<"$TOOL_JVM_OPTS"
  # Formatting is one JVM per node; run them side by side.
  for run in "${runs[@]}"; do
    "$JAVA_BIN" "${tool_jvm[@]}" "$(log_opts "$version" tool)" -cp "$libs/*" \
      kafka.tools.StorageTool format -t "$cid" -c "$run/server.properties" \
      "${format_args[@]}" >"$run/logs/format.log" 2>&1 &
    fpids+=("$!")
  done
  for ((i = 0; i < n; i++)); do
    if ! wait "${fpids[i]}"; then
      cat "${runs[i]}/logs/format.log" >&2
      # Once the other formatters are done, nothing runs: this only deletes the data,
      # so that `status` lists none of them.
      wait
      for run in "${runs[@]}"; do stop_run "$run" >/dev/null 2>&1; done
      die "formatting KRaft storage for '$(basename "${runs[i]}")' failed"
    fi
  done
  local -a entries=()
  for run in "${runs[@]}"; do
    entries+=("$run:$(launch_run "$run"):0")
  done
  if ! (wait_started "${entries[@]}"); then
    for run in "${runs[@]}"; do
      STOP_TIMEOUT=5 stop_run "$run" >/dev/null 2>&1 &
    done
    wait
    die "${cluster:-$(basename "${runs[0]}")} did not start (its logs are in $RUN_ROOT)"
  fi
}
