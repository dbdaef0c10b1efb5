package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"concurrency-patterns/go_equivalents/internal/harness"
	"concurrency-patterns/go_equivalents/internal/leakcheck"
	"concurrency-patterns/go_equivalents/internal/workloads"
)

func TestTheBoundHoldsAndNoObjectHasTwoHolders(t *testing.T) {
	leakcheck.Check(t)
	var out, most atomic.Int64
	pool := NewBoundedPool(3, func() *atomic.Bool { return new(atomic.Bool) },
		func(b *atomic.Bool) { b.Store(false) })
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range 200 {
				b := pool.Get()
				if !b.CompareAndSwap(false, true) {
					t.Error("an object handed to two holders")
				}
				n := out.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				out.Add(-1)
				pool.Put(b)
			}
		})
	}
	wg.Wait()
	if most.Load() > 3 || pool.built.Load() > 3 {
		t.Fatalf("%d out at once, %d built; the bound is 3", most.Load(), pool.built.Load())
	}
}

func TestAWarmSyncPoolHandlerAllocatesLessThanAFreshBuffer(t *testing.T) {
	var sink bytes.Buffer
	name := strings.Repeat("x", 500) // a reply that makes a fresh buffer grow
	handle(&sink, name)
	pooled := testing.AllocsPerRun(200, func() { sink.Reset(); handle(&sink, name) })
	fresh := testing.AllocsPerRun(200, func() {
		sink.Reset()
		buf := new(bytes.Buffer)
		fmt.Fprintf(buf, "hello, %s\n", name)
		sink.Write(buf.Bytes())
	})
	// What the pool saves is the buffer and its growth. (The race detector makes sync.Pool
	// drop some objects on purpose, so the saving is smaller under -race, never gone.)
	t.Logf("allocations per call: %v pooled, %v fresh", pooled, fresh)
	if pooled >= fresh {
		t.Fatalf("%v allocations per call with the pool, %v without", pooled, fresh)
	}
}

// The demo prints the same line as `python -m concurrency_patterns demo sync_pool`.
func Example() {
	var d Demo
	workloads.MustDemo("sync_pool", &d)
	run(os.Stdout, d)
	// Output:
	// sync_pool: 4 workers borrowed a 1024-byte buffer 400 times from a pool of at most 2: no more than 2 built, 400 resets, never two holders at once
}

func BenchmarkSyncPool(b *testing.B) { harness.Bench(b, "sync_pool", setup) }

// TestServe is how the Python benchmarks time this pattern beside theirs: run with -serve
// (go test -c, then ./sync_pool.test -test.run '^TestServe$' -serve), it times the workloads
// asked for on stdin. Without -serve it is skipped. See internal/harness.
func TestServe(t *testing.T) { harness.Serve(t, "sync_pool", setup) }
