package main

/*
#include <stdlib.h>
#include <string.h>
#include "plugin.h"
*/
import "C"

import (
	"errors"
	"runtime/cgo"
	"runtime/debug"
	"sync"
	"unsafe"
)

// kv is one client property copied out of the caller's borrowed kmidi_kv array.
type kv struct{ key, value string }

func readKVs(arr *C.kmidi_kv, n C.size_t) ([]kv, error) {
	if n == 0 {
		return nil, nil
	}
	out := make([]kv, 0, int(n))
	for _, e := range unsafe.Slice(arr, int(n)) {
		if e.key == nil || e.value == nil {
			return nil, errors.New("a config entry has a NULL key or value")
		}
		out = append(out, kv{C.GoString(e.key), C.GoString(e.value)})
	}
	return out, nil
}

// writeErrbuf copies msg into the caller's buffer, NUL-terminated and truncated.
func writeErrbuf(buf *C.char, n C.size_t, msg string) {
	if buf == nil || n == 0 {
		return
	}
	dst := unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n))
	k := copy(dst[:len(dst)-1], msg)
	dst[k] = 0
}

// copyBytes copies a borrowed C buffer into Go memory: NULL stays nil (a null key or
// value), a non-NULL empty buffer becomes a non-nil empty slice.
func copyBytes(p *C.uint8_t, n C.size_t) []byte {
	if p == nil {
		return nil
	}
	if n == 0 {
		return []byte{}
	}
	return C.GoBytes(unsafe.Pointer(p), C.int(n))
}

// cstr is a C-allocated string slot owned by a handle: set frees the previous text,
// so a pointer handed out lives until the slot is set again or freed.
type cstr struct{ ptr *C.char }

func (s *cstr) set(text string) {
	s.free()
	s.ptr = C.CString(text)
}

func (s *cstr) free() {
	if s.ptr != nil {
		C.free(unsafe.Pointer(s.ptr))
		s.ptr = nil
	}
}

func (s *cstr) get() *C.char {
	if s.ptr == nil {
		return emptyCString()
	}
	return s.ptr
}

var (
	emptyOnce sync.Once
	emptyC    *C.char
)

// emptyCString is a process-lifetime "" for *_last_error before any error.
func emptyCString() *C.char {
	emptyOnce.Do(func() { emptyC = C.CString("") })
	return emptyC
}

const kgoModule = "github.com/twmb/franz-go"

// libraryVersion is the franz-go (kgo) module version this plugin was built with.
func libraryVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == kgoModule {
				if d.Replace != nil && d.Replace.Version != "" {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return "unknown"
}

var (
	versionOnce sync.Once
	versionC    *C.char
)

// libraryVersionC is allocated once and never freed: the static table points at it.
func libraryVersionC() *C.char {
	versionOnce.Do(func() { versionC = C.CString(libraryVersion()) })
	return versionC
}

// ---- handles ----------------------------------------------------------------------

func newProducerHandle(p *producer) *C.kmidi_producer {
	ph := (*C.kmidi_producer)(C.calloc(1, C.size_t(unsafe.Sizeof(C.kmidi_producer{}))))
	if ph == nil {
		panic("out of memory")
	}
	ph.tag = C.KMIDI_FG_PRODUCER_TAG
	ph.handle = C.uintptr_t(cgo.NewHandle(p))
	return ph
}

// lookupProducer returns nil for NULL, a pointer that is not one of ours, or a stale one.
func lookupProducer(ph *C.kmidi_producer) (p *producer) {
	if ph == nil || ph.tag != C.KMIDI_FG_PRODUCER_TAG {
		return nil
	}
	defer func() {
		if recover() != nil {
			p = nil
		}
	}()
	p, _ = cgo.Handle(ph.handle).Value().(*producer)
	return p
}

func freeProducerHandle(ph *C.kmidi_producer) {
	p := lookupProducer(ph)
	if p == nil {
		return
	}
	defer func() {
		cgo.Handle(ph.handle).Delete()
		ph.tag = 0
		C.free(unsafe.Pointer(ph))
	}()
	p.close()
}

func newConsumerHandle(c *consumer) *C.kmidi_consumer {
	ch := (*C.kmidi_consumer)(C.calloc(1, C.size_t(unsafe.Sizeof(C.kmidi_consumer{}))))
	if ch == nil {
		panic("out of memory")
	}
	ch.tag = C.KMIDI_FG_CONSUMER_TAG
	ch.handle = C.uintptr_t(cgo.NewHandle(c))
	return ch
}

func lookupConsumer(ch *C.kmidi_consumer) (c *consumer) {
	if ch == nil || ch.tag != C.KMIDI_FG_CONSUMER_TAG {
		return nil
	}
	defer func() {
		if recover() != nil {
			c = nil
		}
	}()
	c, _ = cgo.Handle(ch.handle).Value().(*consumer)
	return c
}

func freeConsumerHandle(ch *C.kmidi_consumer) {
	c := lookupConsumer(ch)
	if c == nil {
		return
	}
	defer func() {
		cgo.Handle(ch.handle).Delete()
		ch.tag = 0
		C.free(unsafe.Pointer(ch))
	}()
	c.close()
}
