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
	"sync"
	"time"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	maxPollRecords = 500              // records taken from kgo per PollRecords, handed out one by one
	commitTimeout  = 10 * time.Second // commit has no timeout argument in the ABI
)

type consumer struct {
	cl      *kgo.Client
	grouped bool
	conn    *connWatch

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
type connWatch struct {
	mu       sync.Mutex
	lastErr  string
	fresh    bool
	lastWarn time.Time
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
	watch := &connWatch{}
	opts := append(append([]kgo.Opt{}, cfg.common...), cfg.consumer...)
	opts = append(opts, kgo.ConsumeTopics(topics...), kgo.WithHooks(watch))
	if reset == resetEarliest {
		opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	} else {
		opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
	}
	if group != "" {
		// Commit exactly what poll handed to the host (MarkCommitRecords), periodically
		// if enable.auto.commit (kgo's interval, 5 s by default), on revoke and on
		// close, and on commit().
		opts = append(opts, kgo.ConsumerGroup(group), kgo.AutoCommitMarks())
		if !cfg.autoCommit {
			opts = append(opts, kgo.AutoCommitInterval(0))
		}
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("franz-go: consumer: %w", err)
	}
	return &consumer{cl: cl, grouped: group != "", conn: watch, topics: map[string]*C.char{}}, nil
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

func (c *consumer) poll(timeoutMs int32, out *C.kmidi_message) C.int32_t {
	c.releaseMessage()
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
	}
	if len(c.buf) > 0 {
		r := c.buf[0]
		c.buf[0] = nil
		c.buf = c.buf[1:]
		c.fill(r, out)
		if c.grouped {
			c.cl.MarkCommitRecords(r)
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

	t, ok := c.topics[r.Topic]
	if !ok {
		t = C.CString(r.Topic)
		c.topics[r.Topic] = t
	}
	out.topic = t
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
	if !c.grouped {
		return C.KMIDI_OK // nothing to commit to without a group
	}
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	if err := c.cl.CommitMarkedOffsets(ctx); err != nil {
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
	c.cl.Close()
	c.releaseMessage()
	for k, t := range c.topics {
		C.free(unsafe.Pointer(t))
		delete(c.topics, k)
	}
	c.lastErr.free()
}
