#!/usr/bin/env bash
# A real single-node Kafka with a SASL_SSL listener (SCRAM-SHA-256 over TLS) beside
# the usual PLAINTEXT one, for kmidi's TLS/SASL tests and for trying --config by hand.
#
#   scripts/kafka/secure.sh start VERSION DIR [NAME]
#       Generates a throw-away CA and a broker certificate for 127.0.0.1 in DIR
#       (openssl), creates the SCRAM user at format time, starts the broker through
#       scripts/kafka.sh and writes DIR/client.properties (mode 600) for kmidi
#       --config. Last line of stdout: PLAINTEXT_BOOTSTRAP SASL_SSL_BOOTSTRAP NAME.
#   scripts/kafka/secure.sh stop NAME
#
# Environment: KMIDI_SASL_USER (alice), KMIDI_SASL_PASSWORD (random); everything
# scripts/kafka.sh reads. The PLAINTEXT listener stays the inter-broker one, so only
# clients go through TLS and SASL.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KAFKA_SH=$HERE/../kafka.sh

die() { printf 'secure.sh: error: %s\n' "$*" >&2; exit 1; }

make_certs() {
  local dir=$1
  command -v openssl >/dev/null 2>&1 || die "openssl not found"
  # -nodes: unencrypted PKCS#8 keys, which Kafka's PEM keystore accepts without
  # ssl.key.password. Two days is plenty for a test broker.
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=kmidi test CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$dir/broker.key" -out "$dir/broker.csr" >/dev/null 2>&1
  # The SAN is what clients check the host against (librdkafka and rustls verify it).
  printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' 'basicConstraints=CA:FALSE' \
    'extendedKeyUsage=serverAuth' >"$dir/broker.ext"
  openssl x509 -req -days 2 -in "$dir/broker.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -extfile "$dir/broker.ext" -out "$dir/broker.pem" >/dev/null 2>&1
  cat "$dir/broker.key" "$dir/broker.pem" >"$dir/broker-keystore.pem"
  chmod 600 "$dir/ca.key" "$dir/broker.key" "$dir/broker-keystore.pem"
}

cmd_start() {
  (($# == 2 || $# == 3)) || die "usage: start VERSION DIR [NAME]"
  local version=$1 dir=$2 port sport name
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local user=${KMIDI_SASL_USER:-alice}
  local password=${KMIDI_SASL_PASSWORD:-$(head -c 12 /dev/urandom | base64 | tr -d '+/=')}
  # StorageTool splits its --add-scram value on ',' and ']': keep credentials simple.
  [[ $user =~ ^[A-Za-z0-9._-]+$ && $password =~ ^[A-Za-z0-9._-]+$ ]] ||
    die "KMIDI_SASL_USER/KMIDI_SASL_PASSWORD: letters, digits, '.', '_' and '-' only"
  make_certs "$dir"
  port=$(bash "$KAFKA_SH" free-port)
  sport=$(bash "$KAFKA_SH" free-port)
  while [[ $sport == "$port" ]]; do sport=$(bash "$KAFKA_SH" free-port); done
  name=${3:-secure-$version-$port}
  (
    umask 077
    printf '%s\n' "# kmidi --config for the SASL_SSL listener of $name" \
      'security.protocol=SASL_SSL' 'sasl.mechanism=SCRAM-SHA-256' \
      "sasl.username=$user" "sasl.password=$password" "ssl.ca.location=$dir/ca.pem" \
      >"$dir/client.properties"
  )
  KMIDI_KAFKA_EXTRA_LISTENERS="SASL_SSL://127.0.0.1:$sport" \
  KMIDI_KAFKA_FORMAT_ARGS="--add-scram SCRAM-SHA-256=[name=$user,password=$password]" \
  KMIDI_KAFKA_PROPS="${KMIDI_KAFKA_PROPS:+$KMIDI_KAFKA_PROPS
}listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-256
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$dir/broker-keystore.pem" \
    bash "$KAFKA_SH" start "$version" "$port" "$name" >/dev/null
  echo "127.0.0.1:$port 127.0.0.1:$sport $name"
}

case ${1:-} in
  start) shift; cmd_start "$@" ;;
  stop) shift; (($# == 1)) || die "usage: stop NAME"; exec bash "$KAFKA_SH" stop "$1" ;;
  *) sed -n '2,15p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
esac
