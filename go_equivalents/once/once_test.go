package main

import (
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"concurrency-patterns/go_equivalents/internal/harness"
	"concurrency-patterns/go_equivalents/internal/leakcheck"
	"concurrency-patterns/go_equivalents/internal/workloads"
)

func TestFRunsOnceAndEveryCallerGetsItsValue(t *testing.T) {
	leakcheck.Check(t)
	var calls atomic.Int64
	value := sync.OnceValue(func() int { calls.Add(1); return 7 })
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if v := value(); v != 7 {
				t.Errorf("got %d", v)
			}
		})
	}
	wg.Wait()
	if calls.Load() != 1 {
		t.Errorf("f ran %d times", calls.Load())
	}
}

// Go's rule, which the Python Onces do not follow: a panicking f still counts as done.
func TestAPanickingFCountsAsDone(t *testing.T) {
	var once sync.Once
	calls := 0
	boom := func() { calls++; panic("boom") }
	func() {
		defer func() { _ = recover() }()
		once.Do(boom)
	}()
	once.Do(boom) // does not call f again
	if calls != 1 {
		t.Errorf("f ran %d times; Go runs it once even when it panics", calls)
	}
}

// OnceValue goes further: every later call panics with the same value.
func TestOnceValueRepanicsEveryCall(t *testing.T) {
	calls := 0
	value := sync.OnceValue(func() int { calls++; panic("boom") })
	for range 2 {
		func() {
			defer func() {
				if r := recover(); r != "boom" {
					t.Errorf("recovered %v, want boom", r)
				}
			}()
			value()
		}()
	}
	if calls != 1 {
		t.Errorf("f ran %d times, want 1", calls)
	}
}

// The demo prints the same line as `python -m concurrency_patterns demo once`.
func Example() {
	var d Demo
	workloads.MustDemo("once", &d)
	run(os.Stdout, d)
	// Output:
	// once: 10 concurrent callers: init ran 1 time(s), every caller got "config v1"
}

func BenchmarkOnceValue(b *testing.B) { harness.Bench(b, "once", setup) }

// TestServe is how the Python benchmarks time this pattern beside theirs: run with -serve
// (go test -c, then ./once.test -test.run '^TestServe$' -serve), it times the workloads asked
// for on stdin. Without -serve it is skipped. See internal/harness.
func TestServe(t *testing.T) { harness.Serve(t, "once", setup) }
