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
#
# This file holds the paths, the settings (environment and defaults) and the command
# dispatch; the commands live in scripts/kafka/lib/, one file per responsibility:
#   common.sh   logging, argument checks, ports, the processes the script started
#   fetch.sh    fetch, versions, fetch-trogdor (Maven Central)
#   nodes.sh    KRaft nodes: properties, formatting, launch, readiness wait
#   broker.sh   start, stop, stop-all, status, halt, kill, resume, restart
#   cluster.sh  start-cluster, stop-cluster
#   tools.sh    run-tool, tools
#   trogdor.sh  trogdor-start, trogdor-stop
#   usage.sh    help
# shellcheck source-path=SCRIPTDIR  # the source= paths below are relative to scripts/
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
CONF_DIR=$SCRIPT_DIR/kafka
LIB_DIR=$CONF_DIR/lib
CACHE_DIR=${KMIDI_CACHE:-$REPO_DIR/.cache}
[[ $CACHE_DIR == /* ]] || CACHE_DIR=$PWD/$CACHE_DIR
KAFKA_CACHE=$CACHE_DIR/kafka
RUN_ROOT=$CACHE_DIR/run
TROGDOR_ROOT=$CACHE_DIR/trogdor

JAVA_BIN=${JAVA_HOME:+$JAVA_HOME/bin/}java
START_TIMEOUT=${KMIDI_KAFKA_START_TIMEOUT:-90}
STOP_TIMEOUT=${KMIDI_KAFKA_STOP_TIMEOUT:-30}
# Small, quick-starting JVM: 2 cores, short-lived test brokers.
HEAP_OPTS=${KMIDI_KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}
JVM_OPTS=${KMIDI_KAFKA_JVM_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true}
TOOL_JVM_OPTS=${KMIDI_KAFKA_TOOL_JVM_OPTS:--Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -Djava.awt.headless=true}
CLUSTER_HEAP_OPTS=${KMIDI_KAFKA_CLUSTER_HEAP_OPTS:--Xmx384m -Xms128m}
TROGDOR_START_TIMEOUT=${KMIDI_TROGDOR_START_TIMEOUT:-60}
TROGDOR_STOP_TIMEOUT=${KMIDI_TROGDOR_STOP_TIMEOUT:-10}
TROGDOR_HEAP_OPTS=${KMIDI_TROGDOR_HEAP_OPTS:--Xmx256m -Xms64m}
TROGDOR_JVM_OPTS=${KMIDI_TROGDOR_JVM_OPTS:-$JVM_OPTS}

# The versions the test suite and the benchmarks run, when KMIDI_KAFKA_VERSIONS does
# not say: the newest 3.x (the last with the v0 protocol kafka-rust speaks) and 4.x.
DEFAULT_KAFKA_VERSIONS="3.9.2 4.3.1"

# The parts are found next to this file (LIB_DIR), whatever the working directory.
# shellcheck source=kafka/lib/common.sh
source "$LIB_DIR/common.sh"
# shellcheck source=kafka/lib/fetch.sh
source "$LIB_DIR/fetch.sh"
# shellcheck source=kafka/lib/nodes.sh
source "$LIB_DIR/nodes.sh"
# shellcheck source=kafka/lib/broker.sh
source "$LIB_DIR/broker.sh"
# shellcheck source=kafka/lib/cluster.sh
source "$LIB_DIR/cluster.sh"
# shellcheck source=kafka/lib/tools.sh
source "$LIB_DIR/tools.sh"
# shellcheck source=kafka/lib/trogdor.sh
source "$LIB_DIR/trogdor.sh"
# shellcheck source=kafka/lib/usage.sh
source "$LIB_DIR/usage.sh"

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
