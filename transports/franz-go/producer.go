package main

/*
#include "plugin.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	defaultMaxBuffered = 100000          // as librdkafka's queue.buffering.max.messages
	queueFullWait      = 5 * time.Second // produce waits at most this long for queue space
	maxFailureTexts    = 10000           // failure texts kept for producer_take_failure
)

// testPanicTopic: producing to this topic panics, so the tests can see a panic turned
// into KMIDI_PANICKED. Unset (the default) in any real use.
var testPanicTopic = os.Getenv("KMIDI_FRANZ_GO_TEST_PANIC")

type producer struct {
	cl          *kgo.Client
	maxBuffered int64

	sent, delivered, failed atomic.Uint64

	mu       sync.Mutex // guards failures and dropped (written by kgo's promise goroutine)
	failures []string
	dropped  uint64

	// Touched only by the (single) calling thread.
	poisoned bool
	lastErr  cstr
	failure  cstr
	settings cstr
}

func newProducer(kvs []kv) (*producer, error) {
	cfg, err := parseConfig(kvs)
	if err != nil {
		return nil, err
	}
	opts := append(append([]kgo.Opt{}, cfg.common...), cfg.producer...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("franz-go: producer: %w", err)
	}
	return &producer{cl: cl, maxBuffered: cfg.maxBuffered}, nil
}

func (p *producer) setError(text string) { p.lastErr.set(text) }

// recoverInto turns a panic into KMIDI_PANICKED and poisons the handle.
func (p *producer) recoverInto(where string, rc *C.int32_t) {
	if r := recover(); r != nil {
		p.poisoned = true
		p.setError(panicText(where, r))
		*rc = C.KMIDI_PANICKED
	}
}

func (p *producer) produce(topic string, key, value []byte) C.int32_t {
	if testPanicTopic != "" && topic == testPanicTopic {
		panic("test panic requested by KMIDI_FRANZ_GO_TEST_PANIC")
	}
	if topic == "" {
		p.setError("produce: empty topic")
		return C.KMIDI_INVALID_ARG
	}
	// kgo's Produce blocks while MaxBufferedRecords are buffered. Wait here, bounded,
	// instead: passing a deadline context to Produce would also become the record's
	// context and cancel it later.
	if p.cl.BufferedProduceRecords() >= p.maxBuffered {
		deadline := time.Now().Add(queueFullWait)
		for p.cl.BufferedProduceRecords() >= p.maxBuffered {
			if time.Now().After(deadline) {
				p.setError(fmt.Sprintf("produce: local queue full (%d records buffered) for %v", p.maxBuffered, queueFullWait))
				return C.KMIDI_ERROR
			}
			time.Sleep(time.Millisecond)
		}
	}
	p.sent.Add(1)
	p.cl.Produce(context.Background(), &kgo.Record{Topic: topic, Key: key, Value: value}, p.promise)
	return C.KMIDI_OK
}

// promise runs on a kgo goroutine, once per record, before Flush can see it finished.
func (p *producer) promise(r *kgo.Record, err error) {
	if err == nil {
		p.delivered.Add(1)
		return
	}
	text := fmt.Sprintf("delivery to %s failed: %v", r.Topic, err)
	if r.Partition >= 0 && !errors.Is(err, kgo.ErrClientClosed) {
		text = fmt.Sprintf("delivery to %s [%d] failed: %v", r.Topic, r.Partition, err)
	}
	p.mu.Lock()
	if len(p.failures) < maxFailureTexts {
		p.failures = append(p.failures, text)
	} else {
		p.dropped++
	}
	p.mu.Unlock()
	p.failed.Add(1)
}

func (p *producer) takeFailure() (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.failures) > 0 {
		t := p.failures[0]
		p.failures[0] = ""
		p.failures = p.failures[1:]
		return t, true
	}
	if p.dropped > 0 {
		t := fmt.Sprintf("%d more delivery failures (texts not kept)", p.dropped)
		p.dropped = 0
		return t, true
	}
	return "", false
}

func (p *producer) flush(timeoutMs int32) C.int32_t {
	if timeoutMs < 0 {
		timeoutMs = 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeoutMs)*time.Millisecond)
	defer cancel()
	if err := p.cl.Flush(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			p.setError(fmt.Sprintf("flush: %d records still undelivered after %d ms", p.cl.BufferedProduceRecords(), timeoutMs))
			return C.KMIDI_TIMEOUT
		}
		p.setError("flush: " + err.Error())
		return C.KMIDI_ERROR
	}
	return C.KMIDI_OK
}

func (p *producer) stats() (sent, delivered, failed uint64) {
	return p.sent.Load(), p.delivered.Load(), p.failed.Load()
}

// close closes the client, which fails what is still buffered (counted as failed) and
// returns once kgo's goroutines are done, then frees the C strings.
func (p *producer) close() {
	p.cl.Close()
	p.lastErr.free()
	p.failure.free()
	p.settings.free()
}
