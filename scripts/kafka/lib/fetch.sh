# shellcheck shell=bash
# fetch, versions and fetch-trogdor: the Kafka (and Trogdor) jars from Maven Central
# and the Kafka versions the tests run. Sourced by scripts/kafka.sh.

# ---------------------------------------------------------------- fetch

# The locked Maven step both fetches share. Under DIR's lock: returns 1 if DIR/.complete
# is there (another fetch finished first); else resolves POM's runtime dependencies
# (`mvn ARGS...`) into MVN_TMP=DIR/libs.tmp.PID, returning 2 with mvn's errors shown
# when it fails. On 0 the caller checks the jars, moves MVN_TMP into place, touches
# DIR/.complete and closes MVN_LOCK.
mvn_fetch_locked() {
  local dir=$1 pom=$2 what=$3
  shift 3
  command -v mvn >/dev/null 2>&1 || die "mvn not found (scripts/install-deps.sh installs maven)"
  mkdir -p "$dir"
  # Concurrent fetches of one version wait for each other.
  exec {MVN_LOCK}>"$dir/.lock"
  flock "$MVN_LOCK"
  if [[ -f $dir/.complete ]]; then
    exec {MVN_LOCK}>&-
    return 1
  fi
  log "fetching $what from Maven Central ..."
  MVN_TMP=$dir/libs.tmp.$$
  rm -rf "$MVN_TMP"
  if ! mvn -B -Dstyle.color=never -f "$pom" "$@" \
      dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$MVN_TMP" >"$dir/mvn.log" 2>&1; then
    grep -E 'ERROR|Could not|Failed' "$dir/mvn.log" | head -n 30 >&2 || tail -n 30 "$dir/mvn.log" >&2
    rm -rf "$MVN_TMP"
    exec {MVN_LOCK}>&-
    return 2
  fi
}

cmd_fetch() {
  (($# == 1)) || die "usage: fetch VERSION"
  local version=$1 vdir libs tmp status=0
  check_version "$version"
  vdir=$KAFKA_CACHE/$version
  libs=$(libs_dir "$version")
  [[ -f $vdir/.complete ]] && return 0
  mvn_fetch_locked "$vdir" "$CONF_DIR/pom.xml" "Apache Kafka $version" \
    -P "$(mvn_profile "$version")" -Dkafka.version="$version" || status=$?
  ((status != 1)) || return 0
  if ((status)); then
    die "mvn could not resolve Kafka $version (coordinates: org.apache.kafka:kafka_2.13:$version, org.apache.kafka:kafka-server:$version, org.apache.kafka:kafka-tools:$version)"
  fi
  tmp=$MVN_TMP
  [[ -f $tmp/kafka_2.13-$version.jar ]] || { rm -rf "$tmp"; die "kafka_2.13-$version.jar missing after mvn"; }
  # Index the Kafka classes so run-tool can map aliases to class names.
  local jar
  for jar in "$tmp"/kafka_2.13-*.jar "$tmp"/kafka-*.jar; do
    if command -v unzip >/dev/null 2>&1; then unzip -Z1 "$jar"; else "${JAVA_BIN%java}jar" tf "$jar"; fi
  done | sed -n 's/\.class$//p' | grep -v '\$' | tr / . | sort -u >"$vdir/classes.txt"
  rm -rf "$libs"
  mv "$tmp" "$libs"
  touch "$vdir/.complete"
  exec {MVN_LOCK}>&-
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
  local version=$1 tdir libs tmp tv status=0
  check_version "$version"
  tv=$(trogdor_artifact_version "$version")
  tdir=$KAFKA_CACHE/$version/trogdor
  libs=$(trogdor_libs_dir "$version")
  [[ -f $tdir/.complete ]] && return 0
  mvn_fetch_locked "$tdir" "$CONF_DIR/trogdor-pom.xml" "Trogdor $tv (for Kafka $version)" \
    -P "$(mvn_profile "$version")" -Dkafka.version="$version" -Dtrogdor.version="$tv" ||
    status=$?
  ((status != 1)) || return 0
  if ((status)); then
    die "mvn could not resolve org.apache.kafka:trogdor:$tv (Maven Central lacks some releases: set KMIDI_TROGDOR_VERSION to another of the same minor line)"
  fi
  tmp=$MVN_TMP
  [[ -f $tmp/trogdor-$tv.jar ]] || { rm -rf "$tmp"; die "trogdor-$tv.jar missing after mvn"; }
  rm -rf "$libs"
  mv "$tmp" "$libs"
  echo "$tv" >"$tdir/artifact-version"
  touch "$tdir/.complete"
  exec {MVN_LOCK}>&-
  log "Trogdor $tv for Kafka $version: $(find "$libs" -name '*.jar' | wc -l) jars in $libs"
}
