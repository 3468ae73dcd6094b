#!/usr/bin/env bash
# Run real Apache Kafka on 127.0.0.1 (KRaft, combined broker+controller nodes):
# a single broker, which is a one-node cluster, or a cluster of up to nine, from
# jars that Maven fetches from Maven Central. No Docker, no tarball download:
# only `mvn` and `java` (17+) are needed.
#
# Run `scripts/kafka.sh help` for usage. Everything lives under
# ${KMIDI_CACHE:-<repo>/.cache} (git-ignored):
#   kafka/VERSION/libs/      the broker's and tools' jars (fetch)
#   run/NAME/                one broker: server.properties, pid, port,
#                            version, heap, state (halted/killed), cluster,
#                            data/ (log.dirs), logs/server.log; `stop` keeps
#                            only the config files and logs/
#   kafka/VERSION/trogdor/   Trogdor's jars (fetch-trogdor)
#   trogdor/NAME/            one Trogdor coordinator and its agents (trogdor-start)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
CONF_DIR=$SCRIPT_DIR/kafka
CACHE_DIR=${KMIDI_CACHE:-$REPO_DIR/.cache}
[[ $CACHE_DIR == /* ]] || CACHE_DIR=$PWD/$CACHE_DIR
KAFKA_CACHE=$CACHE_DIR/kafka
RUN_ROOT=$CACHE_DIR/run

JAVA_BIN=${JAVA_HOME:+$JAVA_HOME/bin/}java
START_TIMEOUT=${KMIDI_KAFKA_START_TIMEOUT:-90}
STOP_TIMEOUT=${KMIDI_KAFKA_STOP_TIMEOUT:-30}
# Small, quick-starting JVM: 2 cores, short-lived test brokers.
HEAP_OPTS=${KMIDI_KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}
JVM_OPTS=${KMIDI_KAFKA_JVM_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true}
TOOL_JVM_OPTS=${KMIDI_KAFKA_TOOL_JVM_OPTS:--Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -Djava.awt.headless=true}

usage() {
  cat <<'EOF'
Usage: scripts/kafka.sh COMMAND [ARGS...]

Commands:
  fetch VERSION                 Resolve org.apache.kafka:kafka_2.13, kafka-server
                                and kafka-tools VERSION with all runtime
                                dependencies (plus a logging backend) into
                                $KMIDI_CACHE/kafka/VERSION/libs. Idempotent.
  start VERSION PORT [NAME]     Format fresh KRaft storage and start a combined
                                broker+controller on 127.0.0.1:PORT (fetching
                                VERSION first if needed). Waits until it is up,
                                then prints the bootstrap address 127.0.0.1:PORT
                                as the last line of stdout. NAME defaults to
                                kafka-VERSION-PORT. A one-node cluster: the
                                same properties and launch as start-cluster,
                                without its quick failover settings.
  stop NAME|PORT                SIGTERM (then SIGKILL after a bounded wait) and
                                delete the broker's data dir; it leaves `status`.
                                Unknown or already stopped brokers are not an
                                error.
  stop-all                      Stop every broker `status` lists (under this
                                KMIDI_CACHE), halted and killed ones too.
  halt NAME                     SIGTERM the broker (SIGKILL after a bounded wait)
                                and KEEP its data dir, port and config.
  kill NAME                     SIGKILL the broker at once (a crash); keeps its
                                data like halt.
  resume NAME                   Start a halted or killed broker again: same node,
                                port, config and data. Waits until it is up and
                                prints 127.0.0.1:PORT last.
  restart NAME                  halt NAME, then resume NAME.
  start-cluster VERSION N BASE  N (1-9) combined broker+controller nodes on
                                127.0.0.1 named BASE-1..BASE-N (node.id 1..N),
                                a static N-voter quorum, replication factor
                                min(N,3), quick failover settings; heap from
                                KMIDI_KAFKA_CLUSTER_HEAP_OPTS (-Xmx384m -Xms128m).
                                Prints the bootstrap list last. halt/kill/resume
                                take the node names.
  stop-cluster BASE             Stop every node of cluster BASE at once (SIGKILL
                                after KMIDI_KAFKA_CLUSTER_STOP_TIMEOUT, 5 s) and
                                delete their data.
  status                        List the brokers this script started that run or
                                can be resumed: NAME VERSION PORT PID STATE, STATE
                                one of running, halted, killed (by halt/kill),
                                exited (died on its own; data kept), starting.
                                Stopped brokers (data deleted) are not listed.
                                Then the Trogdor nodes trogdor-start started:
                                trogdor:NAME/PROC VERSION PORT PID STATE, PROC
                                coordinator or agent-N, STATE running or exited
                                (died on its own). stop-all stops them too.
  run-tool VERSION CLASS ARGS   Run a Kafka command-line tool from VERSION's jars.
                                CLASS is a fully qualified class name or a tool
                                name (`tools VERSION`): NAME, kafka-NAME or
                                kafka-NAME.sh, as Kafka's bin/ scripts are named.
  tools VERSION                 Show the tool names, Kafka's script for each and
                                the class it maps to in VERSION.
  versions [MAJOR]              The Kafka versions the tests and benchmarks run:
                                $KMIDI_KAFKA_VERSIONS, space-separated (default
                                "3.9.2 4.3.1"). With MAJOR (e.g. 3 or 4): the
                                first of them of that major version, else the
                                default's.
  free-port                     Print a free TCP port on 127.0.0.1.
  fetch-trogdor VERSION         Resolve org.apache.kafka:trogdor for Kafka VERSION
                                (for 3.9.2 trogdor 3.9.1: Maven Central has no
                                3.9.2) with its runtime dependencies (Jetty,
                                Jersey, ...) into
                                $KMIDI_CACHE/kafka/VERSION/trogdor/libs. Idempotent.
  trogdor-start VERSION NAME [AGENTS]
                                Start a Trogdor coordinator and AGENTS agents (1-9,
                                default 1) on 127.0.0.1 free ports; tasks name the
                                agents agent-1..agent-N (the coordinator is Trogdor
                                node agent-1 too, as in Kafka's trogdor.conf).
                                Fetches Trogdor first if needed. Waits until their
                                REST APIs answer, then prints the coordinator's URL
                                http://127.0.0.1:PORT as the last line of stdout.
  trogdor-stop NAME             Stop NAME's coordinator and agents (SIGTERM, then
                                SIGKILL after a bounded wait); their tasks, kept
                                in memory only, go with them. Unknown or stopped
                                names are not an error.
  help                          This text.

Tested versions: 3.9.2 (slf4j -> reload4j, log4j 1.x properties config) and
4.3.1 (slf4j -> log4j2, XML config); scripts/kafka/ holds the pom and configs.
The quorum is static (controller.quorum.voters=1@127.0.0.1:<free port>), which
both 3.9 and 4.x format with a plain `StorageTool format -t ID -c FILE`.
Share groups (KIP-932) are on for 4.1 and newer: the storage is formatted with
`--feature share.version=1` and the share-group state topic gets one partition
(share.coordinator.state.topic.num.partitions=1). Check with
  scripts/kafka.sh run-tool 4.3.1 org.apache.kafka.tools.FeatureCommand \
      --bootstrap-server 127.0.0.1:PORT describe     # share.version ... Level: 1

Tool names for run-tool (class in 3.9.2 | class in 4.3.1); each also as
kafka-NAME and kafka-NAME.sh:
  topics               org.apache.kafka.tools.TopicCommand (both)
  console-producer     kafka.tools.ConsoleProducer | org.apache.kafka.tools.ConsoleProducer
  console-consumer     org.apache.kafka.tools.consumer.ConsoleConsumer (both)
  consumer-groups      org.apache.kafka.tools.consumer.group.ConsumerGroupCommand (both)
  broker-api-versions  kafka.admin.BrokerApiVersionsCommand | org.apache.kafka.tools.BrokerApiVersionsCommand
  get-offsets          org.apache.kafka.tools.GetOffsetShell (both)
  configs              kafka.admin.ConfigCommand (both)
  delete-records       org.apache.kafka.tools.DeleteRecordsCommand (both)
  metadata-quorum      org.apache.kafka.tools.MetadataQuorumCommand (both)
  storage              kafka.tools.StorageTool (both)
  producer-perf-test   org.apache.kafka.tools.ProducerPerformance (both)
  consumer-perf-test   org.apache.kafka.tools.ConsumerPerformance (both)
  share-consumer-perf-test
                       org.apache.kafka.tools.ShareConsumerPerformance (4.x only)
  e2e-latency          org.apache.kafka.tools.EndToEndLatency (both)

Environment:
  KMIDI_CACHE                 cache root (default: <repo>/.cache)
  KMIDI_KAFKA_VERSIONS        the versions `versions` prints ("3.9.2 4.3.1")
  KMIDI_KAFKA_START_TIMEOUT   seconds to wait for a broker to come up (90)
  KMIDI_KAFKA_STOP_TIMEOUT    seconds between SIGTERM and SIGKILL (30)
  KMIDI_KAFKA_HEAP_OPTS       broker heap (-Xmx512m -Xms256m)
  KMIDI_KAFKA_JVM_OPTS        broker JVM flags (-XX:+UseSerialGC
                              -XX:TieredStopAtLevel=1 -Xshare:auto ...)
  KMIDI_KAFKA_TOOL_JVM_OPTS   JVM flags for run-tool and storage formatting
  KMIDI_KAFKA_PROPS           extra server.properties lines (newline separated);
                              they override the defaults
  KMIDI_KAFKA_EXTRA_LISTENERS more listeners for `start` beside PLAINTEXT, e.g.
                              SASL_SSL://127.0.0.1:PORT (scripts/kafka/secure.sh)
  KMIDI_KAFKA_FORMAT_ARGS     extra `StorageTool format` arguments (split on
                              spaces), e.g. --add-scram ...
  KMIDI_KAFKA_KEEP_LOGS       0: `stop` deletes all of run/NAME; default 1 keeps
                              its logs/ and server.properties (data/ is always
                              deleted)
  KMIDI_TROGDOR_VERSION       the trogdor artifact to fetch, if not the broker's
                              version (or its known substitute)
  KMIDI_TROGDOR_START_TIMEOUT seconds to wait for Trogdor's REST APIs (60)
  KMIDI_TROGDOR_STOP_TIMEOUT  seconds between SIGTERM and SIGKILL (10)
  KMIDI_TROGDOR_HEAP_OPTS     heap of each Trogdor node (-Xmx256m -Xms64m)
  KMIDI_TROGDOR_JVM_OPTS      JVM flags of each Trogdor node (the broker's)
  JAVA_HOME                   java to use (default: java on PATH)

Examples:
  port=$(scripts/kafka.sh free-port)
  bootstrap=$(scripts/kafka.sh start 4.3.1 "$port" | tail -n1)
  scripts/kafka.sh run-tool 4.3.1 topics --bootstrap-server "$bootstrap" \
      --create --topic t --partitions 1 --replication-factor 1
  echo hi | scripts/kafka.sh run-tool 4.3.1 console-producer \
      --bootstrap-server "$bootstrap" --topic t
  scripts/kafka.sh run-tool 4.3.1 console-consumer --bootstrap-server \
      "$bootstrap" --topic t --from-beginning --max-messages 1
  scripts/kafka.sh stop "$port"
  url=$(scripts/kafka.sh trogdor-start 4.3.1 load 2 | tail -n1)
  curl "$url/coordinator/status"
  scripts/kafka.sh trogdor-stop load
EOF
}

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

# ---------------------------------------------------------------- fetch

cmd_fetch() {
  (($# == 1)) || die "usage: fetch VERSION"
  local version=$1 vdir libs tmp lock_fd
  check_version "$version"
  vdir=$KAFKA_CACHE/$version
  libs=$(libs_dir "$version")
  [[ -f $vdir/.complete ]] && return 0
  command -v mvn >/dev/null 2>&1 || die "mvn not found (scripts/install-deps.sh installs maven)"
  mkdir -p "$vdir"
  # Concurrent fetches of one version wait for each other.
  exec {lock_fd}>"$vdir/.lock"
  flock "$lock_fd"
  if [[ -f $vdir/.complete ]]; then
    exec {lock_fd}>&-
    return 0
  fi
  log "fetching Apache Kafka $version from Maven Central ..."
  tmp=$vdir/libs.tmp.$$
  rm -rf "$tmp" "$libs"
  if ! mvn -B -Dstyle.color=never -f "$CONF_DIR/pom.xml" -P "$(mvn_profile "$version")" \
      -Dkafka.version="$version" \
      dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$tmp" >"$vdir/mvn.log" 2>&1; then
    grep -E 'ERROR|Could not|Failed' "$vdir/mvn.log" | head -n 30 >&2 || tail -n 30 "$vdir/mvn.log" >&2
    rm -rf "$tmp"
    die "mvn could not resolve Kafka $version (coordinates: org.apache.kafka:kafka_2.13:$version, org.apache.kafka:kafka-server:$version, org.apache.kafka:kafka-tools:$version)"
  fi
  [[ -f $tmp/kafka_2.13-$version.jar ]] || { rm -rf "$tmp"; die "kafka_2.13-$version.jar missing after mvn"; }
  # Index the Kafka classes so run-tool can map aliases to class names.
  local jar
  for jar in "$tmp"/kafka_2.13-*.jar "$tmp"/kafka-*.jar; do
    if command -v unzip >/dev/null 2>&1; then unzip -Z1 "$jar"; else "${JAVA_BIN%java}jar" tf "$jar"; fi
  done | sed -n 's/\.class$//p' | grep -v '\$' | tr / . | sort -u >"$vdir/classes.txt"
  mv "$tmp" "$libs"
  touch "$vdir/.complete"
  exec {lock_fd}>&-
  log "Kafka $version: $(find "$libs" -name '*.jar' | wc -l) jars in $libs"
}

# ---------------------------------------------------------------- versions

# The versions the test suite and the benchmarks run, when KMIDI_KAFKA_VERSIONS does
# not say: the newest 3.x (the last with the v0 protocol kafka-rust speaks) and 4.x.
DEFAULT_KAFKA_VERSIONS="3.9.2 4.3.1"

cmd_versions() {
  (($# <= 1)) || die "usage: versions [MAJOR]"
  local v
  local -a list defaults
  read -r -a list <<<"${KMIDI_KAFKA_VERSIONS:-$DEFAULT_KAFKA_VERSIONS}"
  read -r -a defaults <<<"$DEFAULT_KAFKA_VERSIONS"
  ((${#list[@]})) || die "KMIDI_KAFKA_VERSIONS names no version"
  for v in "${list[@]}"; do check_version "$v"; done
  if (($# == 0)); then
    printf '%s\n' "${list[*]}"
    return 0
  fi
  [[ $1 =~ ^[0-9]+$ ]] || die "bad major version '$1' (want e.g. 3 or 4)"
  for v in "${list[@]}" "${defaults[@]}"; do
    if [[ $(major_of "$v") == "$1" ]]; then
      printf '%s\n' "$v"
      return 0
    fi
  done
  die "no Kafka $1.x in '${list[*]}' nor in the default '$DEFAULT_KAFKA_VERSIONS'"
}

# ---------------------------------------------------------------- tools

# Tool name (Kafka's bin/kafka-NAME.sh) -> candidate classes, newest location first.
TOOL_ALIASES=(
  "topics org.apache.kafka.tools.TopicCommand kafka.admin.TopicCommand"
  "console-producer org.apache.kafka.tools.ConsoleProducer kafka.tools.ConsoleProducer"
  "console-consumer org.apache.kafka.tools.consumer.ConsoleConsumer kafka.tools.ConsoleConsumer"
  "consumer-groups org.apache.kafka.tools.consumer.group.ConsumerGroupCommand kafka.admin.ConsumerGroupCommand"
  "broker-api-versions org.apache.kafka.tools.BrokerApiVersionsCommand kafka.admin.BrokerApiVersionsCommand"
  "get-offsets org.apache.kafka.tools.GetOffsetShell kafka.tools.GetOffsetShell"
  "configs org.apache.kafka.tools.ConfigCommand kafka.admin.ConfigCommand"
  "delete-records org.apache.kafka.tools.DeleteRecordsCommand kafka.admin.DeleteRecordsCommand"
  "metadata-quorum org.apache.kafka.tools.MetadataQuorumCommand"
  "storage kafka.tools.StorageTool"
  "producer-perf-test org.apache.kafka.tools.ProducerPerformance"
  "consumer-perf-test org.apache.kafka.tools.ConsumerPerformance"
  "share-consumer-perf-test org.apache.kafka.tools.ShareConsumerPerformance"
  "e2e-latency org.apache.kafka.tools.EndToEndLatency kafka.tools.EndToEndLatency"
)

# Print the class for a tool name (or the argument itself if it is a class name).
# kafka-topics.sh, kafka-topics and topics are one tool, as operators know it from
# Kafka's bin/.
resolve_tool() {
  local version=$1 name=$2 index entry cand
  local -a parts
  index=$KAFKA_CACHE/$version/classes.txt
  name=${name%.sh}
  name=${name#kafka-}
  for entry in "${TOOL_ALIASES[@]}"; do
    read -r -a parts <<<"$entry"
    [[ ${parts[0]} == "$name" ]] || continue
    for cand in "${parts[@]:1}"; do
      if grep -qxF "$cand" "$index"; then
        echo "$cand"
        return 0
      fi
    done
    return 1
  done
  [[ $name == *.* ]] || return 1
  echo "$name"
}

cmd_tools() {
  (($# == 1)) || die "usage: tools VERSION"
  local version=$1 entry cls
  local -a parts
  check_version "$version"
  cmd_fetch "$version"
  for entry in "${TOOL_ALIASES[@]}"; do
    read -r -a parts <<<"$entry"
    cls=$(resolve_tool "$version" "${parts[0]}") || cls='(not in this version)'
    printf '%-25s %-34s %s\n' "${parts[0]}" "kafka-${parts[0]}.sh" "$cls"
  done
}

cmd_run_tool() {
  (($# >= 2)) || die "usage: run-tool VERSION CLASS [ARGS...]"
  local version=$1 cls
  check_version "$version"
  cmd_fetch "$version"
  cls=$(resolve_tool "$version" "$2") || die "unknown tool '$2' for Kafka $version (see: scripts/kafka.sh tools $version)"
  shift 2
  local -a jvm
  read -r -a jvm <<<"$TOOL_JVM_OPTS"
  exec "$JAVA_BIN" "${jvm[@]}" "$(log_opts "$version" tool)" \
    -cp "$(libs_dir "$version")/*" "$cls" "$@"
}

# ---------------------------------------------------------------- start

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

CLUSTER_HEAP_OPTS=${KMIDI_KAFKA_CLUSTER_HEAP_OPTS:--Xmx384m -Xms128m}

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

# ---------------------------------------------------------------- stop

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

# ---------------------------------------------------------------- trogdor

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
TROGDOR_ROOT=$CACHE_DIR/trogdor
TROGDOR_START_TIMEOUT=${KMIDI_TROGDOR_START_TIMEOUT:-60}
TROGDOR_STOP_TIMEOUT=${KMIDI_TROGDOR_STOP_TIMEOUT:-10}
TROGDOR_HEAP_OPTS=${KMIDI_TROGDOR_HEAP_OPTS:--Xmx256m -Xms64m}
TROGDOR_JVM_OPTS=${KMIDI_TROGDOR_JVM_OPTS:-$JVM_OPTS}

# Kafka releases whose trogdor artifact Maven Central lacks, and the release of the
# same minor line used instead: "KAFKA TROGDOR". Its task specs and REST API are the
# same; kafka-clients stays the broker's version (trogdor-pom.xml pins it).
TROGDOR_SUBSTITUTES=("3.9.2 3.9.1")

# The trogdor artifact version for Kafka $1 ($KMIDI_TROGDOR_VERSION wins).
trogdor_artifact_version() {
  local entry kafka trogdor
  if [[ -n ${KMIDI_TROGDOR_VERSION:-} ]]; then
    check_version "$KMIDI_TROGDOR_VERSION"
    printf '%s\n' "$KMIDI_TROGDOR_VERSION"
    return 0
  fi
  for entry in "${TROGDOR_SUBSTITUTES[@]}"; do
    read -r kafka trogdor <<<"$entry"
    if [[ $kafka == "$1" ]]; then
      printf '%s\n' "$trogdor"
      return 0
    fi
  done
  printf '%s\n' "$1"
}

trogdor_libs_dir() { printf '%s\n' "$KAFKA_CACHE/$1/trogdor/libs"; }

cmd_fetch_trogdor() {
  (($# == 1)) || die "usage: fetch-trogdor VERSION"
  local version=$1 tdir libs tmp lock_fd tv
  check_version "$version"
  tv=$(trogdor_artifact_version "$version")
  tdir=$KAFKA_CACHE/$version/trogdor
  libs=$(trogdor_libs_dir "$version")
  [[ -f $tdir/.complete ]] && return 0
  command -v mvn >/dev/null 2>&1 || die "mvn not found (scripts/install-deps.sh installs maven)"
  mkdir -p "$tdir"
  # Concurrent fetches of one version wait for each other.
  exec {lock_fd}>"$tdir/.lock"
  flock "$lock_fd"
  if [[ -f $tdir/.complete ]]; then
    exec {lock_fd}>&-
    return 0
  fi
  log "fetching Trogdor $tv (for Kafka $version) from Maven Central ..."
  tmp=$tdir/libs.tmp.$$
  rm -rf "$tmp" "$libs"
  if ! mvn -B -Dstyle.color=never -f "$CONF_DIR/trogdor-pom.xml" -P "$(mvn_profile "$version")" \
      -Dkafka.version="$version" -Dtrogdor.version="$tv" \
      dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$tmp" >"$tdir/mvn.log" 2>&1; then
    grep -E 'ERROR|Could not|Failed' "$tdir/mvn.log" | head -n 30 >&2 || tail -n 30 "$tdir/mvn.log" >&2
    rm -rf "$tmp"
    die "mvn could not resolve org.apache.kafka:trogdor:$tv (Maven Central lacks some releases: set KMIDI_TROGDOR_VERSION to another of the same minor line)"
  fi
  [[ -f $tmp/trogdor-$tv.jar ]] || { rm -rf "$tmp"; die "trogdor-$tv.jar missing after mvn"; }
  mv "$tmp" "$libs"
  echo "$tv" >"$tdir/artifact-version"
  touch "$tdir/.complete"
  exec {lock_fd}>&-
  log "Trogdor $tv for Kafka $version: $(find "$libs" -name '*.jar' | wc -l) jars in $libs"
}

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

# ---------------------------------------------------------------- main

main() {
  local cmd=${1:-help}
  (($# > 0)) && shift
  case $cmd in
    fetch) cmd_fetch "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    stop-all) cmd_stop_all "$@" ;;
    halt) cmd_halt "$@" ;;
    kill) cmd_kill "$@" ;;
    resume) cmd_resume "$@" ;;
    restart) cmd_restart "$@" ;;
    start-cluster) cmd_start_cluster "$@" ;;
    stop-cluster) cmd_stop_cluster "$@" ;;
    status | list) cmd_status "$@" ;;
    run-tool) cmd_run_tool "$@" ;;
    tools) cmd_tools "$@" ;;
    versions) cmd_versions "$@" ;;
    free-port) cmd_free_port "$@" ;;
    fetch-trogdor) cmd_fetch_trogdor "$@" ;;
    trogdor-start) cmd_trogdor_start "$@" ;;
    trogdor-stop) cmd_trogdor_stop "$@" ;;
    help | -h | --help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
