package main

/*
#include <stdlib.h>
#include <string.h>
#include "plugin.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	maxPollRecords = 500              // records taken from kgo per PollRecords, handed out one by one
	commitTimeout  = 10 * time.Second // commit has no timeout argument in the ABI
)

type consumer struct {
	cl       *kgo.Client
	grouped  bool // a consumer group (classic or KIP-848)
	share    bool // a share group (KIP-932)
	protocol string
	conn     *connWatch
	assign   *assignTracker // nil for a share group or no group

	// Share groups: share.auto.offset.reset is set on the group before the topics
	// are added to the client (shareSetup), so the first fetch already starts where
	// the host asked. Closed when that is done; shareErr is then final.
	shareReady  chan struct{}
	shareErr    error
	shareCancel context.CancelFunc

	fatal string // a lasting fatal condition: every later poll repeats it

	settings cstr

	buf     []*kgo.Record // polled from kgo, not yet handed to the host
	pending []pollError   // errors seen alongside records, reported after them

	msgMem unsafe.Pointer     // key+value of the message last handed out (C memory)
	topics map[string]*C.char // NUL-terminated topic names, C memory, freed at close

	poisoned bool
	lastErr  cstr
}

// connWatch records failed broker connections (a kgo hook, called on kgo goroutines)
// so that poll can warn with KMIDI_TRANSIENT instead of timing out silently while no
// broker can be reached. At most one warning per connWarnEvery.
//
// It also watches which group requests the client writes: franz-go runs KIP-848
// (ConsumerGroupHeartbeat) only if the broker offers it and otherwise falls back to
// the classic protocol (JoinGroup) without an error, so a JoinGroup written by a
// client asked for group.protocol=consumer is how the fallback is seen.
type connWatch struct {
	mu       sync.Mutex
	lastErr  string
	fresh    bool
	lastWarn time.Time

	wantConsumerProtocol bool
	classicJoin          atomic.Bool // a JoinGroup was written
	heartbeat848         atomic.Bool // a ConsumerGroupHeartbeat was written
}

func (w *connWatch) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if err != nil {
		return
	}
	switch kmsg.Key(key) {
	case kmsg.JoinGroup:
		w.classicJoin.Store(true)
	case kmsg.ConsumerGroupHeartbeat:
		w.heartbeat848.Store(true)
	}
}

const connWarnEvery = 5 * time.Second

func (w *connWatch) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err == nil {
		return
	}
	w.mu.Lock()
	w.lastErr = fmt.Sprintf("cannot connect to broker %s:%d: %v", meta.Host, meta.Port, err)
	w.fresh = true
	w.mu.Unlock()
}

// take returns a warning if a connection failed since the last one and the last one
// is old enough.
func (w *connWatch) take() (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.fresh || time.Since(w.lastWarn) < connWarnEvery {
		return "", false
	}
	w.fresh = false
	w.lastWarn = time.Now()
	return w.lastErr, true
}

type pollError struct {
	status C.int32_t
	text   string
}

// assignTracker is the group's assignment as franz-go last reported it through the
// OnPartitionsAssigned / Revoked / Lost callbacks (kgo has no accessor for it), read by
// consumer_assignment without any network wait.
type assignTracker struct {
	mu    sync.Mutex
	parts map[string]map[int32]struct{}
}

func (a *assignTracker) add(m map[string][]int32) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for t, ps := range m {
		if a.parts[t] == nil {
			a.parts[t] = map[int32]struct{}{}
		}
		for _, p := range ps {
			a.parts[t][p] = struct{}{}
		}
	}
}

func (a *assignTracker) remove(m map[string][]int32) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for t, ps := range m {
		for _, p := range ps {
			delete(a.parts[t], p)
		}
		if len(a.parts[t]) == 0 {
			delete(a.parts, t)
		}
	}
}

type topicPartition struct {
	topic     string
	partition int32
}

// snapshot is sorted by topic, then partition.
func (a *assignTracker) snapshot() []topicPartition {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []topicPartition
	for t, ps := range a.parts {
		for p := range ps {
			out = append(out, topicPartition{t, p})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].topic != out[j].topic {
			return out[i].topic < out[j].topic
		}
		return out[i].partition < out[j].partition
	})
	return out
}

func newConsumer(kvs []kv, group string, topics []string, reset offsetReset_) (*consumer, error) {
	cfg, err := parseConfig(kvs)
	if err != nil {
		return nil, err
	}
	if group == "" {
		group = cfg.groupID
	}
	if cfg.offsetReset != nil {
		reset = *cfg.offsetReset
	}
	if cfg.share && group == "" {
		return nil, configError(groupTypeKey, "a share group needs a group name (the group argument or group.id)")
	}
	watch := &connWatch{wantConsumerProtocol: group != "" && !cfg.share && cfg.groupProtocol == "consumer"}
	opts := append(append([]kgo.Opt{}, cfg.common...), cfg.consumer...)
	opts = append(opts, kgo.WithHooks(watch))
	c := &consumer{grouped: group != "" && !cfg.share, share: cfg.share, conn: watch, topics: map[string]*C.char{}}
	switch {
	case cfg.share:
		// Topics are added once share.auto.offset.reset is set (shareSetup). Records
		// are acknowledged one by one as poll hands them out (Record.Ack(AckAccept));
		// kgo sends the acks with its next ShareFetch, or at FlushAcks (commit) and
		// close; records never handed out are released at close for redelivery.
		opts = append(opts, kgo.ShareGroup(group))
		opts = append(opts, cfg.groupOpts...)
	case group != "":
		// Commit exactly what poll handed to the host (MarkCommitRecords), periodically
		// if enable.auto.commit (kgo's interval, 5 s by default), on revoke and on
		// close, and on commit().
		c.assign = &assignTracker{parts: map[string]map[int32]struct{}{}}
		c.protocol = cfg.groupProtocol
		opts = append(opts, kgo.ConsumeTopics(topics...), kgo.ConsumerGroup(group), kgo.AutoCommitMarks())
		opts = append(opts, cfg.groupOpts...)
		if !cfg.autoCommit {
			opts = append(opts, kgo.AutoCommitInterval(0))
		}
		if len(cfg.balancers) > 0 {
			opts = append(opts, kgo.Balancers(cfg.balancers...))
		}
		if cfg.groupProtocol == "consumer" {
			// KIP-848: the broker's assignor ("uniform" for the sticky balancer
			// first in Balancers, "range" for the range one).
			opts = append(opts, kgo.ServerSideBalancer())
		}
		a := c.assign
		opts = append(opts,
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { a.add(m) }),
			// Replacing kgo's default revoke callback drops its commit: do it here,
			// as it did (a blocking commit of what poll handed out).
			kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, m map[string][]int32) {
				a.remove(m)
				_ = cl.CommitMarkedOffsets(ctx)
			}),
			kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { a.remove(m) }),
		)
	default:
		opts = append(opts, kgo.ConsumeTopics(topics...))
	}
	if !cfg.share {
		if reset == resetEarliest {
			opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		} else {
			opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
		}
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("franz-go: consumer: %w", err)
	}
	c.cl = cl
	if cfg.share {
		ctx, cancel := context.WithCancel(context.Background())
		c.shareReady, c.shareCancel = make(chan struct{}), cancel
		go c.shareSetup(ctx, group, topics, reset)
	}
	return c, nil
}

// shareSetup sets the share group's share.auto.offset.reset (KIP-932: a share group
// starts at the latest offset unless that group config says otherwise) from the host's
// offset_reset, retrying while no broker can be reached, then subscribes. A broker
// that refuses the group config has no share groups.
func (c *consumer) shareSetup(ctx context.Context, group string, topics []string, reset offsetReset_) {
	defer close(c.shareReady)
	value := "latest"
	if reset == resetEarliest {
		value = "earliest"
	}
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	res := kmsg.NewIncrementalAlterConfigsRequestResource()
	res.ResourceType = kmsg.ConfigResourceTypeGroupConfig
	res.ResourceName = group
	ent := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	ent.Name = "share.auto.offset.reset"
	ent.Op = kmsg.IncrementalAlterConfigOpSet
	ent.Value = &value
	res.Configs = append(res.Configs, ent)
	req.Resources = append(req.Resources, res)
	err, _ := retryUntil(ctx, true, func() error {
		resp, err := req.RequestWith(ctx, c.cl)
		if err != nil {
			return err
		}
		for _, r := range resp.Resources {
			if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
				msg := ""
				if r.ErrorMessage != nil {
					msg = ": " + *r.ErrorMessage
				}
				return fmt.Errorf("%w%s", err, msg)
			}
		}
		return nil
	})
	if ctx.Err() != nil {
		c.shareErr = errors.New("closed before the share group was set up")
		return
	}
	if err != nil {
		c.shareErr = fmt.Errorf("%s=share: setting share.auto.offset.reset=%s on share group %q failed (share groups need Apache Kafka 4.1 or newer with share.version=1): %v", groupTypeKey, value, group, err)
		return
	}
	c.cl.AddConsumeTopics(topics...)
}

func (c *consumer) setError(text string) { c.lastErr.set(text) }

func (c *consumer) recoverInto(where string, rc *C.int32_t) {
	if r := recover(); r != nil {
		c.poisoned = true
		c.setError(panicText(where, r))
		*rc = C.KMIDI_PANICKED
	}
}

func (c *consumer) releaseMessage() {
	if c.msgMem != nil {
		C.free(c.msgMem)
		c.msgMem = nil
	}
}

// classify maps a fetch error onto the ABI: the client keeps consuming after nearly
// every error kgo surfaces from a poll (it retries internally), so those are
// KMIDI_TRANSIENT; a closed client and authentication/authorization failures are fatal.
func classify(err error) C.int32_t {
	var ke *kerr.Error
	switch {
	case errors.Is(err, kgo.ErrClientClosed):
		return C.KMIDI_ERROR
	case errors.As(err, &ke):
		switch ke {
		case kerr.TopicAuthorizationFailed, kerr.GroupAuthorizationFailed,
			kerr.ClusterAuthorizationFailed, kerr.SaslAuthenticationFailed,
			kerr.UnsupportedSaslMechanism, kerr.IllegalSaslState:
			return C.KMIDI_ERROR
		}
	}
	return C.KMIDI_TRANSIENT
}

// checkFatal sees lasting conditions that end listening: group.protocol=consumer
// fallen back to classic, a share group that could not be set up.
func (c *consumer) checkFatal() {
	if c.fatal != "" {
		return
	}
	if c.conn.wantConsumerProtocol && c.conn.classicJoin.Load() {
		c.fatal = consumerProtocolUnsupported
		// Nothing was handed out (a classic member fetches only after JoinGroup and
		// SyncGroup, and poll checks before each record), so nothing is committed;
		// leave now rather than at consumer_free.
		_ = c.cl.LeaveGroupContext(nil) // nil: start leaving, do not wait
		c.buf = nil
		c.pending = nil
		return
	}
	if c.share {
		select {
		case <-c.shareReady:
			if c.shareErr != nil {
				c.fatal = "franz-go: " + c.shareErr.Error()
			}
		default:
		}
	}
}

func (c *consumer) poll(timeoutMs int32, out *C.kmidi_message) C.int32_t {
	c.releaseMessage()
	c.checkFatal()
	if c.fatal != "" {
		c.setError(c.fatal)
		return C.KMIDI_ERROR
	}
	if len(c.buf) == 0 && len(c.pending) == 0 {
		var ctx context.Context // nil: only what kgo has buffered, without waiting
		if timeoutMs > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(context.Background(), time.Duration(timeoutMs)*time.Millisecond)
			defer cancel()
		}
		fetches := c.cl.PollRecords(ctx, maxPollRecords)
		fetches.EachError(func(topic string, partition int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return
			}
			text := err.Error()
			if topic != "" {
				text = fmt.Sprintf("fetch %s [%d]: %v", topic, partition, err)
			}
			c.pending = append(c.pending, pollError{classify(err), text})
		})
		fetches.EachRecord(func(r *kgo.Record) { c.buf = append(c.buf, r) })
		// The fallback may have been seen while waiting: never hand out a record of
		// a group the user did not ask for.
		c.checkFatal()
		if c.fatal != "" {
			c.setError(c.fatal)
			return C.KMIDI_ERROR
		}
	}
	if len(c.buf) > 0 {
		r := c.buf[0]
		c.buf[0] = nil
		c.buf = c.buf[1:]
		c.fill(r, out)
		if c.grouped {
			c.cl.MarkCommitRecords(r)
		} else if c.share {
			r.Ack(kgo.AckAccept) // sent with the next ShareFetch (or at commit/close)
		}
		return C.KMIDI_OK
	}
	if len(c.pending) > 0 {
		e := c.pending[0]
		c.pending = c.pending[1:]
		c.setError(e.text)
		return e.status
	}
	if text, ok := c.conn.take(); ok {
		c.setError(text)
		return C.KMIDI_TRANSIENT
	}
	return C.KMIDI_TIMEOUT
}

// fill copies key and value into one C allocation owned by c until the next poll/free.
func (c *consumer) fill(r *kgo.Record, out *C.kmidi_message) {
	size := len(r.Key) + len(r.Value)
	mem := C.malloc(C.size_t(size + 1))
	if mem == nil {
		panic("out of memory")
	}
	c.msgMem = mem
	block := unsafe.Slice((*byte)(mem), size+1)
	copy(block, r.Key)
	copy(block[len(r.Key):], r.Value)

	out.topic = c.topicC(r.Topic)
	out.partition = C.int32_t(r.Partition)
	out.offset = C.int64_t(r.Offset)
	out.key, out.key_len = nil, 0
	if r.Key != nil {
		out.key = (*C.uint8_t)(mem)
		out.key_len = C.size_t(len(r.Key))
	}
	out.value, out.value_len = nil, 0
	if r.Value != nil {
		out.value = (*C.uint8_t)(unsafe.Add(mem, len(r.Key)))
		out.value_len = C.size_t(len(r.Value))
	}
	out.timestamp_ms = -1
	if r.Attrs.TimestampType() >= 0 && !r.Timestamp.IsZero() {
		out.timestamp_ms = C.int64_t(r.Timestamp.UnixMilli())
	}
}

func (c *consumer) commit() C.int32_t {
	if c.fatal != "" {
		return C.KMIDI_OK // nothing was handed out
	}
	if !c.grouped && !c.share {
		return C.KMIDI_OK // nothing to commit to without a group
	}
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	commit := c.cl.CommitMarkedOffsets
	if c.share {
		commit = c.cl.FlushAcks // the acceptances of what poll handed out
	}
	if err := commit(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			c.setError(fmt.Sprintf("commit: no answer within %v", commitTimeout))
			return C.KMIDI_TIMEOUT
		}
		c.setError("commit: " + err.Error())
		return C.KMIDI_ERROR
	}
	return C.KMIDI_OK
}

// close leaves the group (committing what was handed out, when auto-committing), closes
// the client and its goroutines, and frees every C allocation of this consumer.
func (c *consumer) close() {
	if c.share {
		c.shareCancel()
		<-c.shareReady
	}
	c.cl.Close()
	c.settings.free()
	c.releaseMessage()
	for k, t := range c.topics {
		C.free(unsafe.Pointer(t))
		delete(c.topics, k)
	}
	c.lastErr.free()
}
