package main

/*
#include "plugin.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func adminClient(kvs []kv) (*kadm.Client, error) {
	cfg, err := parseConfig(kvs)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(cfg.common...)
	if err != nil {
		return nil, fmt.Errorf("franz-go: admin: %w", err)
	}
	return kadm.NewClient(cl), nil
}

func timeoutCtx(ms int32) (context.Context, context.CancelFunc) {
	if ms < 0 {
		ms = 0
	}
	return context.WithTimeout(context.Background(), time.Duration(ms)*time.Millisecond)
}

func isTimeout(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// isDialError: the request never reached a broker (refused, unreachable, TLS/SASL
// handshake not done), so trying again cannot do anything twice.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// retryUntil calls f until it succeeds, fails for a reason other than a broker that
// cannot be reached (or a retriable broker error, when retriable is true), or ctx
// ends: like librdkafka, an unreachable cluster is waited for up to the timeout and
// then reported as a timeout, not as the first "connection refused".
func retryUntil(ctx context.Context, retriable bool, f func() error) (lastErr error, timedOut bool) {
	backoff := 50 * time.Millisecond
	for {
		err := f()
		if err == nil {
			return nil, false
		}
		if ctx.Err() != nil || isTimeout(err) {
			if lastErr == nil || !isTimeout(err) {
				lastErr = err
			}
			return lastErr, true
		}
		if !isDialError(err) && !(retriable && kerr.IsRetriable(err)) {
			return err, false
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return lastErr, true
		case <-time.After(backoff):
		}
		if backoff < 500*time.Millisecond {
			backoff *= 2
		}
	}
}

// topicPartitions returns the partition count, or -1 if the topic does not exist.
func topicPartitions(kvs []kv, topic string, timeoutMs int32) (int32, C.int32_t, error) {
	adm, err := adminClient(kvs)
	if err != nil {
		return 0, C.KMIDI_ERROR, err
	}
	defer adm.Close()
	ctx, cancel := timeoutCtx(timeoutMs)
	defer cancel()
	var details kadm.TopicDetails
	err, timedOut := retryUntil(ctx, true, func() (err error) {
		details, err = adm.ListTopics(ctx, topic)
		return err
	})
	if err != nil {
		if timedOut {
			return 0, C.KMIDI_TIMEOUT, fmt.Errorf("franz-go: topic_partitions %q: no answer from the cluster within %d ms (%v)", topic, timeoutMs, err)
		}
		return 0, C.KMIDI_ERROR, fmt.Errorf("franz-go: topic_partitions %q: %w", topic, err)
	}
	d, ok := details[topic]
	if !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
		return -1, C.KMIDI_OK, nil
	}
	if d.Err != nil {
		return 0, C.KMIDI_ERROR, fmt.Errorf("franz-go: topic_partitions %q: %w", topic, d.Err)
	}
	return int32(len(d.Partitions)), C.KMIDI_OK, nil
}

func createTopic(kvs []kv, topic string, partitions int32, rf int16, tkvs []kv, timeoutMs int32) (C.int32_t, error) {
	adm, err := adminClient(kvs)
	if err != nil {
		return C.KMIDI_ERROR, err
	}
	defer adm.Close()
	configs := map[string]*string{}
	for _, e := range tkvs {
		configs[e.key] = kadm.StringPtr(e.value)
	}
	ctx, cancel := timeoutCtx(timeoutMs)
	defer cancel()
	var resp kadm.CreateTopicResponse
	err, timedOut := retryUntil(ctx, false, func() (err error) {
		resp, err = adm.CreateTopic(ctx, partitions, rf, configs, topic)
		return err
	})
	if err != nil {
		if timedOut {
			return C.KMIDI_TIMEOUT, fmt.Errorf("franz-go: create_topic %q: no answer from the cluster within %d ms (%v)", topic, timeoutMs, err)
		}
		if errors.Is(err, kerr.TopicAlreadyExists) {
			return C.KMIDI_ERROR, fmt.Errorf("franz-go: create_topic: topic %q already exists", topic)
		}
		msg := err.Error()
		if resp.ErrMessage != "" {
			msg += ": " + resp.ErrMessage
		}
		return C.KMIDI_ERROR, fmt.Errorf("franz-go: create_topic %q: %s", topic, msg)
	}
	awaitTopic(ctx, adm, topic, partitions)
	return C.KMIDI_OK, nil
}

// awaitTopic waits, within ctx, until the metadata shows every partition of a topic
// just created with a leader. CreateTopics answers once the controller has the topic;
// brokers learn it from the metadata log a moment later, and a caller that asks about
// the topic at once (topic_partitions, produce) would find it missing. The other
// transports wait the same way. The topic exists either way, so running out of time
// is no error: later calls retry.
func awaitTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int32) {
	for ctx.Err() == nil {
		details, err := adm.ListTopics(ctx, topic)
		if err == nil {
			if d, ok := details[topic]; ok && d.Err == nil && len(d.Partitions) == int(partitions) {
				led := true
				for _, p := range d.Partitions {
					led = led && p.Leader >= 0
				}
				if led {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}
