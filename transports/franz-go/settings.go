package main

/*
#include <stdlib.h>
#include "plugin.h"
*/
import "C"

import (
	"fmt"
	"strings"
	"time"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The effective settings, read back from the client with Client.OptValue (what kgo
// applies, its defaults included), under librdkafka's names and units.

func ms(v any) string {
	d, _ := v.(time.Duration)
	return fmt.Sprint(d.Milliseconds())
}

func (p *producer) settingsText() string {
	acks := "all"
	switch p.cl.OptValue(kgo.RequiredAcks) {
	case kgo.LeaderAck():
		acks = "1"
	case kgo.NoAck():
		acks = "0"
	}
	disabled, _ := p.cl.OptValue(kgo.DisableIdempotentWrite).(bool)
	return strings.Join([]string{
		"linger.ms=" + ms(p.cl.OptValue(kgo.ProducerLinger)),
		"acks=" + acks,
		fmt.Sprintf("enable.idempotence=%t", !disabled),
	}, "\n")
}

func (c *consumer) settingsText() string {
	lines := []string{
		"fetch.wait.max.ms=" + ms(c.cl.OptValue(kgo.FetchMaxWait)),
		fmt.Sprintf("fetch.min.bytes=%v", c.cl.OptValue(kgo.FetchMinBytes)),
	}
	if !c.grouped {
		// A share group has no group.protocol or client-side assignment, and its
		// session and heartbeat timings are the broker's (group.share.*).
		return strings.Join(lines, "\n")
	}
	lines = append(lines, "group.protocol="+c.protocol)
	bs, _ := c.cl.OptValue(kgo.Balancers).([]kgo.GroupBalancer)
	if c.protocol == "consumer" {
		// KIP-848: the broker assigns with the assignor franz-go names from the first
		// balancer, and sets the session timeout and heartbeat interval itself
		// (group.consumer.*), so neither is the client's.
		assignor := "uniform"
		if len(bs) > 0 && bs[0].ProtocolName() == "range" {
			assignor = "range"
		}
		lines = append(lines, "group.remote.assignor="+assignor)
		return strings.Join(lines, "\n")
	}
	names := make([]string, 0, len(bs))
	for _, b := range bs {
		names = append(names, b.ProtocolName())
	}
	lines = append(lines,
		"partition.assignment.strategy="+strings.Join(names, ","),
		"session.timeout.ms="+ms(c.cl.OptValue(kgo.SessionTimeout)),
		"heartbeat.interval.ms="+ms(c.cl.OptValue(kgo.HeartbeatInterval)),
	)
	return strings.Join(lines, "\n")
}

// assignment writes up to n entries of the current assignment into out and returns
// the full count. The topic strings are the consumer's cached C strings (freed at
// consumer_free), so they outlive the next call as the ABI asks.
func (c *consumer) assignment(out *C.kmidi_topic_partition, n int) (int, C.int32_t) {
	if c.assign == nil {
		if c.share {
			c.setError("consumer_assignment: franz-go does not expose a share group's assignment")
		} else {
			c.setError("consumer_assignment: no group: this consumer reads every partition itself")
		}
		return 0, C.KMIDI_UNSUPPORTED
	}
	tps := c.assign.snapshot()
	if n > 0 && out != nil {
		dst := unsafe.Slice(out, n)
		for i := 0; i < n && i < len(tps); i++ {
			dst[i].topic = c.topicC(tps[i].topic)
			dst[i].partition = C.int32_t(tps[i].partition)
		}
	}
	return len(tps), C.KMIDI_OK
}

// topicC is the consumer's NUL-terminated copy of topic, made once.
func (c *consumer) topicC(topic string) *C.char {
	t, ok := c.topics[topic]
	if !ok {
		t = C.CString(topic)
		c.topics[topic] = t
	}
	return t
}

// ---- exports ------------------------------------------------------------------------

//export kfg_consumer_assignment
func kfg_consumer_assignment(ch *C.kmidi_consumer, out *C.kmidi_topic_partition, capacity C.size_t,
	nOut *C.size_t) (rc C.int32_t) {
	c := lookupConsumer(ch)
	if c == nil {
		return C.KMIDI_INVALID_ARG
	}
	if nOut == nil || (capacity > 0 && out == nil) {
		c.setError("consumer_assignment: n_out is NULL, or out is NULL with cap > 0")
		return C.KMIDI_INVALID_ARG
	}
	defer c.recoverInto("consumer_assignment", &rc)
	if c.poisoned {
		return C.KMIDI_PANICKED
	}
	*nOut = 0
	n, status := c.assignment(out, int(capacity))
	*nOut = C.size_t(n)
	return status
}

//export kfg_producer_settings
func kfg_producer_settings(ph *C.kmidi_producer) (out *C.char) {
	p := lookupProducer(ph)
	if p == nil {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			out = nil
		}
	}()
	if p.poisoned {
		return nil
	}
	p.settings.set(p.settingsText())
	return p.settings.ptr
}

//export kfg_consumer_settings
func kfg_consumer_settings(ch *C.kmidi_consumer) (out *C.char) {
	c := lookupConsumer(ch)
	if c == nil {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			out = nil
		}
	}()
	if c.poisoned {
		return nil
	}
	c.settings.set(c.settingsText())
	return c.settings.ptr
}
