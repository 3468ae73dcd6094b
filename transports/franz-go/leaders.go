package main

/*
#include "plugin.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// leadership is one topic's metadata as the ABI lays it out (kmidi_leadership): every
// partition's replicas and ISR are runs of one id list.
type leadership struct {
	partitions []C.kmidi_partition_leader
	brokers    []int32
	ids        []int32
}

// partitionLeaders reads topic's leaders, replicas and ISR and the cluster's brokers
// from a fresh metadata request (a new client each call, so nothing cached: a failover
// shows at the next call). A missing topic has no partitions.
func partitionLeaders(kvs []kv, topic string, timeoutMs int32) (leadership, C.int32_t, error) {
	adm, err := adminClient(kvs)
	if err != nil {
		return leadership{}, C.KMIDI_ERROR, err
	}
	defer adm.Close()
	ctx, cancel := timeoutCtx(timeoutMs)
	defer cancel()
	var md kadm.Metadata
	err, timedOut := retryUntil(ctx, true, func() (err error) {
		md, err = adm.Metadata(ctx, topic)
		return err
	})
	if err != nil {
		if timedOut {
			return leadership{}, C.KMIDI_TIMEOUT, fmt.Errorf("franz-go: partition_leaders %q: no answer from the cluster within %d ms (%v)", topic, timeoutMs, err)
		}
		return leadership{}, C.KMIDI_ERROR, fmt.Errorf("franz-go: partition_leaders %q: %w", topic, err)
	}
	var l leadership
	for _, b := range md.Brokers {
		l.brokers = append(l.brokers, b.NodeID)
	}
	d, ok := md.Topics[topic]
	if !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
		return l, C.KMIDI_OK, nil
	}
	// A topic being created may briefly report LEADER_NOT_AVAILABLE with its
	// partitions already listed: it exists, without leaders yet.
	if d.Err != nil && len(d.Partitions) == 0 {
		return leadership{}, C.KMIDI_ERROR, fmt.Errorf("franz-go: partition_leaders %q: %w", topic, d.Err)
	}
	for _, p := range d.Partitions.Sorted() {
		leader := p.Leader
		if leader < 0 {
			leader = -1
		}
		entry := C.kmidi_partition_leader{
			partition:  C.int32_t(p.Partition),
			leader:     C.int32_t(leader),
			replicas:   C.size_t(len(l.ids)),
			n_replicas: C.size_t(len(p.Replicas)),
		}
		l.ids = append(l.ids, p.Replicas...)
		entry.isr = C.size_t(len(l.ids))
		entry.n_isr = C.size_t(len(p.ISR))
		l.ids = append(l.ids, p.ISR...)
		l.partitions = append(l.partitions, entry)
	}
	return l, C.KMIDI_OK, nil
}

// lend copies at most capacity items of items into the C buffer dst and returns the
// full count (the host calls again with a bigger buffer when it exceeds capacity).
func lend[T any](items []T, dst *T, capacity C.size_t) C.size_t {
	n := min(len(items), int(capacity))
	if n > 0 {
		copy(unsafe.Slice(dst, n), items[:n])
	}
	return C.size_t(len(items))
}

//export kfg_partition_leaders
func kfg_partition_leaders(config *C.kmidi_kv, nConfig C.size_t, topic *C.char, timeoutMs C.int32_t,
	out *C.kmidi_leadership, errbuf *C.char, errlen C.size_t) (rc C.int32_t) {
	defer func() {
		if r := recover(); r != nil {
			writeErrbuf(errbuf, errlen, panicText("partition_leaders", r))
			rc = C.KMIDI_PANICKED
		}
	}()
	if topic == nil || out == nil || (nConfig > 0 && config == nil) ||
		(out.partitions == nil && out.partitions_cap > 0) ||
		(out.brokers == nil && out.brokers_cap > 0) || (out.ids == nil && out.ids_cap > 0) {
		writeErrbuf(errbuf, errlen, "partition_leaders: topic, out or a buffer in it is NULL, or config is NULL with n_config > 0")
		return C.KMIDI_INVALID_ARG
	}
	kvs, err := readKVs(config, nConfig)
	if err != nil {
		writeErrbuf(errbuf, errlen, "partition_leaders: "+err.Error())
		return C.KMIDI_INVALID_ARG
	}
	l, status, err := partitionLeaders(kvs, C.GoString(topic), int32(timeoutMs))
	if err != nil {
		writeErrbuf(errbuf, errlen, err.Error())
	}
	if status != C.KMIDI_OK {
		return status
	}
	// int32 and C.int32_t have the same layout; the slices are Go memory copied into
	// the host's buffers, which no C code keeps past this call.
	brokers := unsafe.Slice((*C.int32_t)(unsafe.Pointer(unsafe.SliceData(l.brokers))), len(l.brokers))
	ids := unsafe.Slice((*C.int32_t)(unsafe.Pointer(unsafe.SliceData(l.ids))), len(l.ids))
	out.n_partitions = lend(l.partitions, out.partitions, out.partitions_cap)
	out.n_brokers = lend(brokers, out.brokers, out.brokers_cap)
	out.n_ids = lend(ids, out.ids, out.ids_cap)
	return C.KMIDI_OK
}
