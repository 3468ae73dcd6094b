# shellcheck shell=bash
# run-tool and tools: Kafka's command-line tools from the fetched jars, by class or by
# the names of Kafka's bin/ scripts. Sourced by scripts/kafka.sh.

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
