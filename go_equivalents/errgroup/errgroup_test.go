package main

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"concurrency-patterns/go_equivalents/internal/harness"
	"concurrency-patterns/go_equivalents/internal/leakcheck"
	"concurrency-patterns/go_equivalents/internal/workloads"
)

func TestTheLimitHoldsAndIsReached(t *testing.T) {
	leakcheck.Check(t)
	var g Group
	g.SetLimit(4)
	var now, most atomic.Int64
	for range 40 {
		g.Go(func() error {
			n := now.Add(1)
			defer now.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(2 * time.Millisecond)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if most.Load() != 4 {
		t.Fatalf("at most %d at once, want 4", most.Load())
	}
}

func TestTheFirstErrorByTimeIsReturnedAndCancelsTheRest(t *testing.T) {
	leakcheck.Check(t)
	g, ctx := WithContext(context.Background())
	first, second := errors.New("first"), errors.New("second")
	g.Go(func() error { time.Sleep(30 * time.Millisecond); return second })
	g.Go(func() error { time.Sleep(5 * time.Millisecond); return first })
	g.Go(func() error { <-ctx.Done(); return ctx.Err() })
	if err := g.Wait(); !errors.Is(err, first) {
		t.Fatalf("Wait = %v, want the first error", err)
	}
	if cause := context.Cause(ctx); !errors.Is(cause, first) {
		t.Fatalf("the context's cause is %v, want the first error", cause)
	}
}

func TestTryGoAtCapacityStartsNothing(t *testing.T) {
	leakcheck.Check(t)
	var g Group
	g.SetLimit(1)
	release := make(chan struct{})
	if !g.TryGo(func() error { <-release; return nil }) {
		t.Fatal("TryGo refused with room")
	}
	if g.TryGo(func() error { return nil }) {
		t.Fatal("TryGo started a function at capacity")
	}
	close(release)
	_ = g.Wait()
	if !g.TryGo(func() error { return nil }) {
		t.Fatal("TryGo refused after the group drained")
	}
	_ = g.Wait()
}

// The demo prints the same line as `python -m concurrency_patterns demo errgroup`.
func Example() {
	var d Demo
	workloads.MustDemo("errgroup", &d)
	run(os.Stdout, d)
	// Output:
	// errgroup: 8 tasks, limit 3: at most 3 ran at once; the group raised the first error: task 5 failed
}

func BenchmarkGroup(b *testing.B) { harness.Bench(b, "errgroup", setup) }

// TestServe is how the Python benchmarks time this pattern beside theirs: run with -serve
// (go test -c, then ./errgroup.test -test.run '^TestServe$' -serve), it times the workloads asked
// for on stdin. Without -serve it is skipped. See internal/harness.
func TestServe(t *testing.T) { harness.Serve(t, "errgroup", setup) }
