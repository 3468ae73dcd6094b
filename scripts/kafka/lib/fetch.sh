# shellcheck shell=bash
# fetch, versions and fetch-trogdor: the Kafka (and Trogdor) jars from Maven Central
# and the Kafka versions the tests run. Sourced by scripts/kafka.sh.

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

# The versions come from KMIDI_KAFKA_VERSIONS, else DEFAULT_KAFKA_VERSIONS (set, with
# why those, in scripts/kafka.sh).

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

# ---------------------------------------------------------------- trogdor jars

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
