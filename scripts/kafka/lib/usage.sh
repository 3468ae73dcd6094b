# shellcheck shell=bash
# `scripts/kafka.sh help`: the usage text. Sourced by scripts/kafka.sh.

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
