// Command libkmidi_franz_go is the kmidi transport plugin on franz-go, built with
// `go build -buildmode=c-shared`. This file holds the //export entry points (one per ABI
// table slot, called by the C wrappers in table.c); every one of them recovers panics
// so that no Go panic ever crosses the C boundary.
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../../kmidi-transport/include -I${SRCDIR}
#include <stdlib.h>
#include "plugin.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

func main() {}

// panicText renders a recovered panic value for *_last_error / errbuf.
func panicText(where string, r any) string {
	return fmt.Sprintf("franz-go plugin: panic in %s: %v", where, r)
}

//export kfg_library_version
func kfg_library_version() (out *C.char) {
	defer func() {
		if r := recover(); r != nil {
			out = nil
		}
	}()
	return libraryVersionC()
}

//export kfg_producer_new
func kfg_producer_new(config *C.kmidi_kv, nConfig C.size_t, out **C.kmidi_producer,
	errbuf *C.char, errlen C.size_t) (rc C.int32_t) {
	defer func() {
		if r := recover(); r != nil {
			writeErrbuf(errbuf, errlen, panicText("producer_new", r))
			rc = C.KMIDI_PANICKED
		}
	}()
	if out == nil || (nConfig > 0 && config == nil) {
		writeErrbuf(errbuf, errlen, "producer_new: out is NULL or config is NULL with n_config > 0")
		return C.KMIDI_INVALID_ARG
	}
	*out = nil
	kvs, err := readKVs(config, nConfig)
	if err != nil {
		writeErrbuf(errbuf, errlen, "producer_new: "+err.Error())
		return C.KMIDI_INVALID_ARG
	}
	p, err := newProducer(kvs)
	if err != nil {
		writeErrbuf(errbuf, errlen, err.Error())
		return C.KMIDI_ERROR
	}
	*out = newProducerHandle(p)
	return C.KMIDI_OK
}

//export kfg_produce
func kfg_produce(ph *C.kmidi_producer, topic *C.char, key *C.uint8_t, keyLen C.size_t,
	value *C.uint8_t, valueLen C.size_t) (rc C.int32_t) {
	p := lookupProducer(ph)
	if p == nil {
		return C.KMIDI_INVALID_ARG
	}
	defer p.recoverInto("produce", &rc)
	if p.poisoned {
		return C.KMIDI_PANICKED
	}
	if topic == nil || (key == nil && keyLen > 0) || (value == nil && valueLen > 0) {
		p.setError("produce: topic is NULL, or a NULL key/value with a non-zero length")
		return C.KMIDI_INVALID_ARG
	}
	return p.produce(C.GoString(topic), copyBytes(key, keyLen), copyBytes(value, valueLen))
}

//export kfg_flush
func kfg_flush(ph *C.kmidi_producer, timeoutMs C.int32_t) (rc C.int32_t) {
	p := lookupProducer(ph)
	if p == nil {
		return C.KMIDI_INVALID_ARG
	}
	defer p.recoverInto("flush", &rc)
	if p.poisoned {
		return C.KMIDI_PANICKED
	}
	return p.flush(int32(timeoutMs))
}

//export kfg_producer_stats
func kfg_producer_stats(ph *C.kmidi_producer, out *C.kmidi_producer_stats) (rc C.int32_t) {
	p := lookupProducer(ph)
	if p == nil || out == nil {
		return C.KMIDI_INVALID_ARG
	}
	defer p.recoverInto("producer_stats", &rc)
	if p.poisoned {
		return C.KMIDI_PANICKED
	}
	sent, delivered, failed := p.stats()
	out.sent = C.uint64_t(sent)
	out.delivered = C.uint64_t(delivered)
	out.failed = C.uint64_t(failed)
	return C.KMIDI_OK
}

//export kfg_producer_take_failure
func kfg_producer_take_failure(ph *C.kmidi_producer, out **C.char) (rc C.int32_t) {
	p := lookupProducer(ph)
	if p == nil || out == nil {
		return C.KMIDI_INVALID_ARG
	}
	defer p.recoverInto("producer_take_failure", &rc)
	if p.poisoned {
		return C.KMIDI_PANICKED
	}
	*out = nil
	text, ok := p.takeFailure()
	if !ok {
		return C.KMIDI_TIMEOUT
	}
	p.failure.set(text)
	*out = p.failure.ptr
	return C.KMIDI_OK
}

//export kfg_producer_last_error
func kfg_producer_last_error(ph *C.kmidi_producer) (out *C.char) {
	p := lookupProducer(ph)
	if p == nil {
		return emptyCString()
	}
	defer func() {
		if r := recover(); r != nil {
			out = emptyCString()
		}
	}()
	return p.lastErr.get()
}

//export kfg_producer_free
func kfg_producer_free(ph *C.kmidi_producer) {
	defer func() { _ = recover() }()
	freeProducerHandle(ph)
}

//export kfg_consumer_new
func kfg_consumer_new(config *C.kmidi_kv, nConfig C.size_t, group *C.char, topics **C.char,
	nTopics C.size_t, offsetReset C.int32_t, out **C.kmidi_consumer, errbuf *C.char,
	errlen C.size_t) (rc C.int32_t) {
	defer func() {
		if r := recover(); r != nil {
			writeErrbuf(errbuf, errlen, panicText("consumer_new", r))
			rc = C.KMIDI_PANICKED
		}
	}()
	if out == nil || (nConfig > 0 && config == nil) || (nTopics > 0 && topics == nil) {
		writeErrbuf(errbuf, errlen, "consumer_new: out is NULL, or a NULL array with a non-zero count")
		return C.KMIDI_INVALID_ARG
	}
	*out = nil
	kvs, err := readKVs(config, nConfig)
	if err != nil {
		writeErrbuf(errbuf, errlen, "consumer_new: "+err.Error())
		return C.KMIDI_INVALID_ARG
	}
	var ts []string
	if nTopics > 0 {
		for i, t := range unsafe.Slice(topics, int(nTopics)) {
			if t == nil {
				writeErrbuf(errbuf, errlen, fmt.Sprintf("consumer_new: topics[%d] is NULL", i))
				return C.KMIDI_INVALID_ARG
			}
			ts = append(ts, C.GoString(t))
		}
	}
	if len(ts) == 0 {
		writeErrbuf(errbuf, errlen, "consumer_new: no topics to subscribe to")
		return C.KMIDI_INVALID_ARG
	}
	var reset offsetReset_
	switch offsetReset {
	case C.KMIDI_OFFSET_LATEST:
		reset = resetLatest
	case C.KMIDI_OFFSET_EARLIEST:
		reset = resetEarliest
	default:
		writeErrbuf(errbuf, errlen, fmt.Sprintf("consumer_new: offset_reset %d is neither KMIDI_OFFSET_LATEST (0) nor KMIDI_OFFSET_EARLIEST (1)", int32(offsetReset)))
		return C.KMIDI_INVALID_ARG
	}
	g := ""
	if group != nil {
		g = C.GoString(group)
	}
	c, err := newConsumer(kvs, g, ts, reset)
	if err != nil {
		writeErrbuf(errbuf, errlen, err.Error())
		return C.KMIDI_ERROR
	}
	*out = newConsumerHandle(c)
	return C.KMIDI_OK
}

//export kfg_poll
func kfg_poll(ch *C.kmidi_consumer, timeoutMs C.int32_t, out *C.kmidi_message) (rc C.int32_t) {
	c := lookupConsumer(ch)
	if c == nil {
		return C.KMIDI_INVALID_ARG
	}
	if out == nil {
		// consumer_last_error must say why, as for every other refusal.
		c.setError("poll: out (the message to fill) is NULL")
		return C.KMIDI_INVALID_ARG
	}
	defer c.recoverInto("poll", &rc)
	if c.poisoned {
		return C.KMIDI_PANICKED
	}
	return c.poll(int32(timeoutMs), out)
}

//export kfg_commit
func kfg_commit(ch *C.kmidi_consumer) (rc C.int32_t) {
	c := lookupConsumer(ch)
	if c == nil {
		return C.KMIDI_INVALID_ARG
	}
	defer c.recoverInto("commit", &rc)
	if c.poisoned {
		return C.KMIDI_PANICKED
	}
	return c.commit()
}

//export kfg_consumer_last_error
func kfg_consumer_last_error(ch *C.kmidi_consumer) (out *C.char) {
	c := lookupConsumer(ch)
	if c == nil {
		return emptyCString()
	}
	defer func() {
		if r := recover(); r != nil {
			out = emptyCString()
		}
	}()
	return c.lastErr.get()
}

//export kfg_consumer_free
func kfg_consumer_free(ch *C.kmidi_consumer) {
	defer func() { _ = recover() }()
	freeConsumerHandle(ch)
}

//export kfg_topic_partitions
func kfg_topic_partitions(config *C.kmidi_kv, nConfig C.size_t, topic *C.char, timeoutMs C.int32_t,
	partitions *C.int32_t, errbuf *C.char, errlen C.size_t) (rc C.int32_t) {
	defer func() {
		if r := recover(); r != nil {
			writeErrbuf(errbuf, errlen, panicText("topic_partitions", r))
			rc = C.KMIDI_PANICKED
		}
	}()
	if topic == nil || partitions == nil || (nConfig > 0 && config == nil) {
		writeErrbuf(errbuf, errlen, "topic_partitions: topic or partitions is NULL, or config is NULL with n_config > 0")
		return C.KMIDI_INVALID_ARG
	}
	kvs, err := readKVs(config, nConfig)
	if err != nil {
		writeErrbuf(errbuf, errlen, "topic_partitions: "+err.Error())
		return C.KMIDI_INVALID_ARG
	}
	n, status, err := topicPartitions(kvs, C.GoString(topic), int32(timeoutMs))
	if err != nil {
		writeErrbuf(errbuf, errlen, err.Error())
	}
	if status == C.KMIDI_OK {
		*partitions = C.int32_t(n)
	}
	return status
}

//export kfg_create_topic
func kfg_create_topic(config *C.kmidi_kv, nConfig C.size_t, topic *C.char, partitions C.int32_t,
	replicationFactor C.int32_t, topicConfig *C.kmidi_kv, nTopicConfig C.size_t, timeoutMs C.int32_t,
	errbuf *C.char, errlen C.size_t) (rc C.int32_t) {
	defer func() {
		if r := recover(); r != nil {
			writeErrbuf(errbuf, errlen, panicText("create_topic", r))
			rc = C.KMIDI_PANICKED
		}
	}()
	if topic == nil || (nConfig > 0 && config == nil) || (nTopicConfig > 0 && topicConfig == nil) {
		writeErrbuf(errbuf, errlen, "create_topic: topic is NULL, or a NULL array with a non-zero count")
		return C.KMIDI_INVALID_ARG
	}
	kvs, err := readKVs(config, nConfig)
	if err != nil {
		writeErrbuf(errbuf, errlen, "create_topic: "+err.Error())
		return C.KMIDI_INVALID_ARG
	}
	tkvs, err := readKVs(topicConfig, nTopicConfig)
	if err != nil {
		writeErrbuf(errbuf, errlen, "create_topic: topic_config: "+err.Error())
		return C.KMIDI_INVALID_ARG
	}
	if replicationFactor < -1 || replicationFactor > 32767 || partitions < -1 || partitions == 0 {
		writeErrbuf(errbuf, errlen, fmt.Sprintf("create_topic: invalid partitions %d / replication_factor %d", int32(partitions), int32(replicationFactor)))
		return C.KMIDI_INVALID_ARG
	}
	status, err := createTopic(kvs, C.GoString(topic), int32(partitions), int16(replicationFactor), tkvs, int32(timeoutMs))
	if err != nil {
		writeErrbuf(errbuf, errlen, err.Error())
	}
	return status
}
