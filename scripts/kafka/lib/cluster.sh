# shellcheck shell=bash
# start-cluster and stop-cluster: N combined nodes named BASE-1..BASE-N, one static
# quorum. Sourced by scripts/kafka.sh.

cmd_start_cluster() {
  (($# == 2 || $# == 3)) || die "usage: start-cluster VERSION N [BASE_NAME]"
  local version=$1 n=$2 base=${3:-cluster-$1} t0=$SECONDS i port bootstrap=''
  check_version "$version"
  [[ $n =~ ^[1-9]$ ]] || die "bad node count '$n' (1-9)"
  [[ $base =~ ^[A-Za-z0-9._-]+$ ]] || die "bad cluster name '$base'"
  # Its ports are fixed, and N nodes cannot all listen on them.
  [[ -z ${KMIDI_KAFKA_EXTRA_LISTENERS:-} ]] || ((n == 1)) ||
    die "KMIDI_KAFKA_EXTRA_LISTENERS is for one node, not $n"
  command -v "$JAVA_BIN" >/dev/null 2>&1 || die "java not found"
  cmd_fetch "$version"
  local -a nodes=()
  for ((i = 1; i <= n; i++)); do
    take_port port
    nodes+=("$base-$i:$port")
    bootstrap+="${bootstrap:+,}127.0.0.1:$port"
  done
  start_nodes "$version" "$base" "$CLUSTER_HEAP_OPTS" "${nodes[@]}"
  log "started cluster '$base': Kafka $version, $n combined nodes ($base-1..$base-$n, node.id 1..$n) in $((SECONDS - t0))s"
  echo "$bootstrap"
}

cmd_stop_cluster() {
  (($# == 1)) || die "usage: stop-cluster BASE_NAME"
  local base=$1 d
  local -a pids=()
  [[ $base =~ ^[A-Za-z0-9._-]+$ ]] || die "bad cluster name '$base'"
  # All nodes at once, with a short SIGTERM grace: a node's controlled shutdown waits
  # for a controller quorum that its peers are leaving too (30 s each, one after the
  # other), and the data is deleted anyway.
  for d in "$RUN_ROOT/$base"-*/; do
    [[ -f ${d}cluster && $(cat "${d}cluster") == "$base" ]] || continue
    STOP_TIMEOUT=${KMIDI_KAFKA_CLUSTER_STOP_TIMEOUT:-5} stop_run "${d%/}" &
    pids+=("$!")
  done
  ((${#pids[@]})) || log "no cluster named '$base' (nothing to stop)"
  for d in "${pids[@]}"; do wait "$d" || true; done
}
