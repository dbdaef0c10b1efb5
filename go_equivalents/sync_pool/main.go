// Sync pool: reuse objects instead of allocating them — sync.Pool, and a bounded pool.
//
// Python: concurrency_patterns.sync_pool — ThreadSyncPool, AsyncioSyncPool, AnyioSyncPool.
// A sync.Pool keeps objects for reuse, typically byte buffers in a hot handler: Get, Reset,
// use, Put. It spares the garbage collector the allocations (see b.ReportAllocs in
// `go test -bench . -benchmem ./sync_pool`). It has no bound and may drop idle objects at any
// GC: a cache for allocations, not a pool of resources. When the objects are resources and
// their number must be bounded, a buffered channel is the pool, as below; that is the
// Python side's model.
//
//	go run ./sync_pool
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"concurrency-patterns/go_equivalents/internal/workloads"
)

// --8<-- [start:go]

// bufPool is the articles' idiom: a sync.Pool of buffers for a hot handler.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// handle formats a reply in a pooled buffer: no allocation per call once the pool is warm.
func handle(w io.Writer, name string) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset() // a pooled buffer holds what its last user wrote
	defer bufPool.Put(buf)
	fmt.Fprintf(buf, "hello, %s\n", name)
	w.Write(buf.Bytes())
}

// A BoundedPool holds at most max objects: Get builds one while fewer exist, then waits for
// one to be Put back. Put runs reset first. The channel is the pool; a second channel of
// places bounds how many exist.
type BoundedPool[T any] struct {
	idle   chan T
	places chan struct{}
	new    func() T
	reset  func(T)
	built  atomic.Int64
}

// --8<-- [end:go]

// NewBoundedPool returns a pool of at most max objects made by newFn and reset on return.
func NewBoundedPool[T any](max int, newFn func() T, reset func(T)) *BoundedPool[T] {
	return &BoundedPool[T]{idle: make(chan T, max), places: make(chan struct{}, max),
		new: newFn, reset: reset}
}

// --8<-- [start:getput]

// Get returns an idle object, a new one if there is room, or the next one returned.
func (p *BoundedPool[T]) Get() T {
	select {
	case obj := <-p.idle:
		return obj
	case p.places <- struct{}{}: // room for one more
		p.built.Add(1)
		return p.new()
	}
}

// Put resets obj and makes it available to the next Get. obj must have come from Get and
// must not be used after Put.
func (p *BoundedPool[T]) Put(obj T) {
	p.reset(obj)
	p.idle <- obj
}

// --8<-- [end:getput]

// Demo is the demo workload of workloads.json.
type Demo struct {
	Workers int `json:"workers"`
	Borrows int `json:"borrows"`
	MaxSize int `json:"max_size"`
	Size    int `json:"size"`
}

type buffer struct {
	data   []byte
	holder atomic.Int64 // 0: idle; otherwise 1 + the worker that holds it
}

func run(w io.Writer, d Demo) {
	var resets, clashes atomic.Int64
	pool := NewBoundedPool(d.MaxSize,
		func() *buffer { return &buffer{data: make([]byte, d.Size)} },
		func(b *buffer) { b.holder.Store(0); resets.Add(1) })
	var wg sync.WaitGroup
	for worker := range d.Workers {
		wg.Go(func() {
			for range d.Borrows {
				b := pool.Get()
				if !b.holder.CompareAndSwap(0, int64(worker)+1) {
					clashes.Add(1)
				}
				copy(b.data, "payload")
				pool.Put(b)
			}
		})
	}
	wg.Wait()
	holders := "never two holders at once"
	if clashes.Load() > 0 {
		holders = fmt.Sprintf("%d clashes", clashes.Load())
	}
	// How many are built depends on timing; the bound does not.
	within := fmt.Sprintf("no more than %d built", d.MaxSize)
	if built := pool.built.Load(); built > int64(d.MaxSize) {
		within = fmt.Sprintf("%d built, over the bound", built)
	}
	fmt.Fprintf(w, "sync_pool: %d workers borrowed a %d-byte buffer %d times from a pool of at "+
		"most %d: %s, %d resets, %s\n", d.Workers, d.Size, d.Workers*d.Borrows,
		d.MaxSize, within, resets.Load(), holders)
}

func main() {
	var d Demo
	workloads.MustDemo("sync_pool", &d)
	run(os.Stdout, d)
	handle(io.Discard, "pool")
}
