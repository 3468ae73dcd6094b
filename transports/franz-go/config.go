package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// supportedKeys are the librdkafka property names this plugin maps onto franz-go.
// Anything else is refused by the constructor, so a typo never silently does nothing.
var supportedKeys = map[string]string{
	"bootstrap.servers":                     "kgo.SeedBrokers",
	"metadata.broker.list":                  "kgo.SeedBrokers (alias of bootstrap.servers)",
	"client.id":                             "kgo.ClientID",
	"group.id":                              "consumer group when the host passes none",
	"linger.ms":                             "kgo.ProducerLinger (default 0)",
	"queue.buffering.max.ms":                "alias of linger.ms",
	"queue.buffering.max.messages":          "kgo.MaxBufferedRecords",
	"enable.idempotence":                    "default true; false = kgo.DisableIdempotentWrite",
	"acks":                                  "all/-1, 1, 0 (kgo.RequiredAcks)",
	"request.required.acks":                 "alias of acks",
	"compression.type":                      "none, gzip, snappy, lz4, zstd",
	"compression.codec":                     "alias of compression.type",
	"message.timeout.ms":                    "kgo.RecordDeliveryTimeout (0 = none)",
	"delivery.timeout.ms":                   "alias of message.timeout.ms",
	"request.timeout.ms":                    "kgo.ProduceRequestTimeout",
	"fetch.wait.max.ms":                     "kgo.FetchMaxWait",
	"fetch.min.bytes":                       "kgo.FetchMinBytes",
	"fetch.max.bytes":                       "kgo.FetchMaxBytes",
	"max.partition.fetch.bytes":             "kgo.FetchMaxPartitionBytes",
	"auto.offset.reset":                     "earliest/smallest/beginning or latest/largest/end; overrides the host's choice",
	"enable.auto.commit":                    "default true (commits what poll handed out)",
	"auto.commit.interval.ms":               "kgo.AutoCommitInterval",
	"session.timeout.ms":                    "kgo.SessionTimeout",
	"heartbeat.interval.ms":                 "kgo.HeartbeatInterval",
	"max.poll.interval.ms":                  "kgo.RebalanceTimeout",
	"group.protocol":                        "classic (default) or consumer (KIP-848: kgo.ServerSideBalancer)",
	"partition.assignment.strategy":         "kgo.Balancers: range, roundrobin, sticky, cooperative-sticky (comma list; classic only)",
	"group.remote.assignor":                 "group.protocol=consumer: uniform (default) or range, the broker's assignor",
	groupTypeKey:                            "consumer (default) or share (KIP-932: kgo.ShareGroup)",
	"security.protocol":                     "PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL",
	"ssl.ca.location":                       "PEM CA bundle (default: system roots)",
	"ssl.certificate.location":              "PEM client certificate",
	"ssl.key.location":                      "PEM client key",
	"ssl.endpoint.identification.algorithm": "https (default) or none",
	"sasl.mechanism":                        "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512",
	"sasl.mechanisms":                       "alias of sasl.mechanism",
	"sasl.username":                         "SASL user",
	"sasl.password":                         "SASL password",
}

func supportedList() string {
	keys := make([]string, 0, len(supportedKeys))
	for k := range supportedKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// clientConfig is the parsed property list: kgo options common to every client,
// plus producer- and consumer-specific ones applied by their constructors.
type clientConfig struct {
	common   []kgo.Opt
	producer []kgo.Opt
	consumer []kgo.Opt

	groupID      string
	offsetReset  *offsetReset_
	autoCommit   bool
	maxBuffered  int64
	hasBootstrap bool

	// Group kind and protocol. balancers and serverSide become kgo options in
	// newConsumer, only for a consumer group (a share group refuses them).
	groupProtocol string // "classic" or "consumer"
	share         bool   // kmidi.group.type=share
	balancers     []kgo.GroupBalancer
	groupOpts     []kgo.Opt // session/heartbeat/rebalance/auto-commit interval: consumer groups only
}

// groupTypeKey is the host's key for the kind of group (GROUP_TYPE_KEY in
// kmidi-transport/src/transport.rs).
const groupTypeKey = "kmidi.group.type"

// consumerProtocolUnsupported is poll's fatal error when group.protocol=consumer meets
// a broker without KIP-848, on which franz-go would silently use the classic protocol.
const consumerProtocolUnsupported = "group.protocol=consumer needs a broker with KIP-848 (Apache Kafka 4.0 or newer); use group.protocol=classic"

// minFetchWait is kgo's smallest FetchMaxWait (its config validation refuses less).
const minFetchWait = 10 * time.Millisecond

type offsetReset_ int

const (
	resetLatest offsetReset_ = iota
	resetEarliest
)

// configError names the key, never the value (it may be a secret).
func configError(key, format string, args ...any) error {
	return fmt.Errorf("franz-go: config %q: %s", key, fmt.Sprintf(format, args...))
}

func parseMs(key, v string, min int64) (time.Duration, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < min {
		return 0, configError(key, "expected an integer number of milliseconds >= %d", min)
	}
	return time.Duration(n) * time.Millisecond, nil
}

func parseInt(key, v string, min, max int64) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < min || n > max {
		return 0, configError(key, "expected an integer in [%d, %d]", min, max)
	}
	return n, nil
}

func parseBool(key, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, configError(key, "expected true or false")
}

func parseConfig(kvs []kv) (*clientConfig, error) {
	cfg := &clientConfig{autoCommit: true, maxBuffered: defaultMaxBuffered}
	m := map[string]string{}
	for _, e := range kvs {
		k := strings.TrimSpace(e.key)
		if _, ok := supportedKeys[k]; !ok {
			return nil, fmt.Errorf("franz-go: unsupported config key %q; supported: %s", k, supportedList())
		}
		m[k] = e.value // the last one wins, as with librdkafka
	}
	alias := func(primary, secondary string) (string, string, bool) {
		if v, ok := m[primary]; ok {
			return primary, v, true
		}
		if v, ok := m[secondary]; ok {
			return secondary, v, true
		}
		return primary, "", false
	}

	cfg.common = append(cfg.common, kgo.ClientID("kmidi"))
	if k, v, ok := alias("bootstrap.servers", "metadata.broker.list"); ok {
		var seeds []string
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			// librdkafka accepts PLAINTEXT://host:port style entries too.
			if i := strings.Index(s, "://"); i >= 0 {
				s = s[i+3:]
			}
			if s != "" {
				seeds = append(seeds, s)
			}
		}
		if len(seeds) == 0 {
			return nil, configError(k, "no broker address")
		}
		cfg.common = append(cfg.common, kgo.SeedBrokers(seeds...))
		cfg.hasBootstrap = true
	}
	if v, ok := m["client.id"]; ok {
		cfg.common = append(cfg.common, kgo.ClientID(v))
	}
	cfg.groupID = m["group.id"]

	// Producer.
	linger := time.Duration(0)
	if k, v, ok := alias("linger.ms", "queue.buffering.max.ms"); ok {
		d, err := parseMs(k, v, 0)
		if err != nil {
			return nil, err
		}
		linger = d
	}
	cfg.producer = append(cfg.producer, kgo.ProducerLinger(linger))
	if v, ok := m["queue.buffering.max.messages"]; ok {
		n, err := parseInt("queue.buffering.max.messages", v, 1, 1<<31-1)
		if err != nil {
			return nil, err
		}
		cfg.maxBuffered = n
	}
	cfg.producer = append(cfg.producer, kgo.MaxBufferedRecords(int(cfg.maxBuffered)))

	idempotent, idemExplicit := true, false
	if v, ok := m["enable.idempotence"]; ok {
		b, err := parseBool("enable.idempotence", v)
		if err != nil {
			return nil, err
		}
		idempotent, idemExplicit = b, true
	}
	acks := kgo.AllISRAcks()
	if k, v, ok := alias("acks", "request.required.acks"); ok {
		nv := strings.ToLower(strings.TrimSpace(v))
		switch nv {
		case "all", "-1":
		case "1":
			acks = kgo.LeaderAck()
		case "0":
			acks = kgo.NoAck()
		default:
			return nil, configError(k, "expected all, -1, 1 or 0")
		}
		if nv != "all" && nv != "-1" {
			if idemExplicit && idempotent {
				return nil, configError(k, "enable.idempotence=true requires acks=all")
			}
			idempotent = false // as librdkafka: idempotence only with acks=all
		}
	}
	cfg.producer = append(cfg.producer, kgo.RequiredAcks(acks))
	if !idempotent {
		cfg.producer = append(cfg.producer, kgo.DisableIdempotentWrite())
	}
	if k, v, ok := alias("compression.type", "compression.codec"); ok {
		var c kgo.CompressionCodec
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "none":
			c = kgo.NoCompression()
		case "gzip":
			c = kgo.GzipCompression()
		case "snappy":
			c = kgo.SnappyCompression()
		case "lz4":
			c = kgo.Lz4Compression()
		case "zstd":
			c = kgo.ZstdCompression()
		default:
			return nil, configError(k, "expected none, gzip, snappy, lz4 or zstd")
		}
		cfg.producer = append(cfg.producer, kgo.ProducerBatchCompression(c))
	}
	if k, v, ok := alias("message.timeout.ms", "delivery.timeout.ms"); ok {
		d, err := parseMs(k, v, 0)
		if err != nil {
			return nil, err
		}
		if d > 0 {
			if d < time.Second {
				d = time.Second // kgo refuses a record timeout under one second
			}
			cfg.producer = append(cfg.producer, kgo.RecordDeliveryTimeout(d))
		}
	}
	if v, ok := m["request.timeout.ms"]; ok {
		d, err := parseMs("request.timeout.ms", v, 1)
		if err != nil {
			return nil, err
		}
		cfg.producer = append(cfg.producer, kgo.ProduceRequestTimeout(d))
	}

	// Consumer.
	if v, ok := m["fetch.wait.max.ms"]; ok {
		d, err := parseMs("fetch.wait.max.ms", v, 0)
		if err != nil {
			return nil, err
		}
		if d < minFetchWait {
			d = minFetchWait // kgo refuses a max wait under 10 ms (the host passes 5 in demo)
		}
		cfg.consumer = append(cfg.consumer, kgo.FetchMaxWait(d))
	}
	if v, ok := m["fetch.min.bytes"]; ok {
		n, err := parseInt("fetch.min.bytes", v, 1, 1<<31-1)
		if err != nil {
			return nil, err
		}
		cfg.consumer = append(cfg.consumer, kgo.FetchMinBytes(int32(n)))
	}
	if v, ok := m["fetch.max.bytes"]; ok {
		n, err := parseInt("fetch.max.bytes", v, 1, 1<<31-1)
		if err != nil {
			return nil, err
		}
		cfg.consumer = append(cfg.consumer, kgo.FetchMaxBytes(int32(n)))
	}
	if v, ok := m["max.partition.fetch.bytes"]; ok {
		n, err := parseInt("max.partition.fetch.bytes", v, 1, 1<<31-1)
		if err != nil {
			return nil, err
		}
		cfg.consumer = append(cfg.consumer, kgo.FetchMaxPartitionBytes(int32(n)))
	}
	if v, ok := m["auto.offset.reset"]; ok {
		var r offsetReset_
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "earliest", "smallest", "beginning":
			r = resetEarliest
		case "latest", "largest", "end":
			r = resetLatest
		default:
			return nil, configError("auto.offset.reset", "expected earliest or latest")
		}
		cfg.offsetReset = &r
	}
	if v, ok := m["enable.auto.commit"]; ok {
		b, err := parseBool("enable.auto.commit", v)
		if err != nil {
			return nil, err
		}
		cfg.autoCommit = b
	}
	if err := parseGroupKind(cfg, m); err != nil {
		return nil, err
	}
	for _, o := range []struct {
		key string
		opt func(time.Duration) kgo.GroupOpt
	}{
		{"auto.commit.interval.ms", kgo.AutoCommitInterval},
		{"session.timeout.ms", kgo.SessionTimeout},
		{"heartbeat.interval.ms", kgo.HeartbeatInterval},
		{"max.poll.interval.ms", kgo.RebalanceTimeout},
	} {
		if v, ok := m[o.key]; ok {
			d, err := parseMs(o.key, v, 1)
			if err != nil {
				return nil, err
			}
			if o.key == "auto.commit.interval.ms" && cfg.share {
				return nil, configError(o.key, "not applicable to a share group (%s=share): records are acknowledged, not committed", groupTypeKey)
			}
			cfg.groupOpts = append(cfg.groupOpts, o.opt(d))
		}
	}

	// Security.
	proto := strings.ToUpper(strings.TrimSpace(m["security.protocol"]))
	if proto == "" {
		proto = "PLAINTEXT"
	}
	var useTLS, useSASL bool
	switch proto {
	case "PLAINTEXT":
	case "SSL":
		useTLS = true
	case "SASL_PLAINTEXT":
		useSASL = true
	case "SASL_SSL":
		useTLS, useSASL = true, true
	default:
		return nil, configError("security.protocol", "expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
	}
	if useTLS {
		tc, err := tlsConfig(m)
		if err != nil {
			return nil, err
		}
		cfg.common = append(cfg.common, kgo.DialTLSConfig(tc))
	}
	if useSASL {
		k, mech, ok := alias("sasl.mechanism", "sasl.mechanisms")
		if !ok {
			return nil, configError("sasl.mechanism", "required with security.protocol=%s (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", proto)
		}
		user, pass := m["sasl.username"], m["sasl.password"]
		if user == "" {
			return nil, configError("sasl.username", "required with security.protocol=%s", proto)
		}
		switch strings.ToUpper(strings.TrimSpace(mech)) {
		case "PLAIN":
			cfg.common = append(cfg.common, kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism()))
		case "SCRAM-SHA-256":
			cfg.common = append(cfg.common, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()))
		case "SCRAM-SHA-512":
			cfg.common = append(cfg.common, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()))
		default:
			return nil, configError(k, "unsupported mechanism; expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
		}
	}
	return cfg, nil
}

func tlsConfig(m map[string]string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if path, ok := m["ssl.ca.location"]; ok && path != "" {
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, configError("ssl.ca.location", "%v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, configError("ssl.ca.location", "no PEM certificate found in %s", path)
		}
		tc.RootCAs = pool
	}
	certPath, hasCert := m["ssl.certificate.location"]
	keyPath, hasKey := m["ssl.key.location"]
	if hasCert != hasKey {
		return nil, configError("ssl.certificate.location", "ssl.certificate.location and ssl.key.location go together")
	}
	if hasCert {
		cert, err := tls.LoadX509KeyPair(certPath, keyPath)
		if err != nil {
			return nil, configError("ssl.certificate.location", "%v", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	switch strings.ToLower(strings.TrimSpace(m["ssl.endpoint.identification.algorithm"])) {
	case "", "https":
	case "none":
		// As librdkafka: still verify the chain, only skip the host name check.
		roots := tc.RootCAs
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("broker sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			return err
		}
	default:
		return nil, configError("ssl.endpoint.identification.algorithm", "expected https or none")
	}
	return tc, nil
}

// parseGroupKind reads kmidi.group.type, group.protocol, partition.assignment.strategy
// and group.remote.assignor. franz-go runs KIP-848 only with a range or sticky balancer
// first (it maps them to the broker's "range" and "uniform" assignors) and silently
// uses the classic protocol otherwise, so a combination that would fall back is
// refused here.
func parseGroupKind(cfg *clientConfig, m map[string]string) error {
	switch v := strings.ToLower(strings.TrimSpace(m[groupTypeKey])); v {
	case "", "consumer":
	case "share":
		cfg.share = true
	default:
		return configError(groupTypeKey, "expected consumer or share")
	}
	cfg.groupProtocol = "classic"
	if v, ok := m["group.protocol"]; ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "classic":
		case "consumer":
			cfg.groupProtocol = "consumer"
		default:
			return configError("group.protocol", "expected classic or consumer")
		}
	}
	strategy, hasStrategy := m["partition.assignment.strategy"]
	assignor, hasAssignor := m["group.remote.assignor"]
	if cfg.share {
		for _, k := range []string{"group.protocol", "partition.assignment.strategy", "group.remote.assignor"} {
			if _, ok := m[k]; ok {
				return configError(k, "not applicable to a share group (%s=share): the broker assigns its partitions", groupTypeKey)
			}
		}
		return nil
	}
	if cfg.groupProtocol == "consumer" {
		if hasStrategy {
			return configError("partition.assignment.strategy", "not used with group.protocol=consumer (the broker assigns); use group.remote.assignor=uniform or range")
		}
		cfg.balancers = []kgo.GroupBalancer{kgo.CooperativeStickyBalancer()} // -> "uniform"
		if hasAssignor {
			switch strings.ToLower(strings.TrimSpace(assignor)) {
			case "uniform":
			case "range":
				cfg.balancers = []kgo.GroupBalancer{kgo.RangeBalancer()}
			default:
				return configError("group.remote.assignor", "expected uniform or range (the assignors franz-go can ask for)")
			}
		}
		return nil
	}
	if hasAssignor {
		return configError("group.remote.assignor", "only with group.protocol=consumer")
	}
	if hasStrategy {
		for _, name := range strings.Split(strategy, ",") {
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "range":
				cfg.balancers = append(cfg.balancers, kgo.RangeBalancer())
			case "roundrobin":
				cfg.balancers = append(cfg.balancers, kgo.RoundRobinBalancer())
			case "sticky":
				cfg.balancers = append(cfg.balancers, kgo.StickyBalancer())
			case "cooperative-sticky":
				cfg.balancers = append(cfg.balancers, kgo.CooperativeStickyBalancer())
			case "":
			default:
				return configError("partition.assignment.strategy", "expected a comma list of range, roundrobin, sticky, cooperative-sticky")
			}
		}
		if len(cfg.balancers) == 0 {
			return configError("partition.assignment.strategy", "no strategy named")
		}
	}
	return nil
}
