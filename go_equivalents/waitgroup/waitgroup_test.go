package main

import (
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"concurrency-patterns/go_equivalents/internal/harness"
	"concurrency-patterns/go_equivalents/internal/leakcheck"
	"concurrency-patterns/go_equivalents/internal/workloads"
)

func TestWaitReturnsOnceEveryAddIsDone(t *testing.T) {
	leakcheck.Check(t)
	var wg sync.WaitGroup
	var finished atomic.Int64
	wg.Add(10)
	for i := range 10 {
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * time.Millisecond)
			finished.Add(1)
		}()
	}
	wg.Wait()
	if finished.Load() != 10 {
		t.Errorf("Wait returned after %d of 10", finished.Load())
	}
}

func TestGoCountsRunsAndWaits(t *testing.T) {
	leakcheck.Check(t)
	var wg sync.WaitGroup
	var finished atomic.Int64
	for range 8 {
		wg.Go(func() { finished.Add(1) })
	}
	wg.Wait()
	if finished.Load() != 8 {
		t.Errorf("Wait returned after %d of 8", finished.Load())
	}
}

// Where the Python WaitGroups raise ValueError, Go panics.
func TestANegativeCounterPanics(t *testing.T) {
	defer func() {
		if r := recover(); r != "sync: negative WaitGroup counter" {
			t.Errorf("recovered %v, want the negative counter panic", r)
		}
	}()
	var wg sync.WaitGroup
	wg.Done()
}

func TestAWaitGroupCanBeReused(t *testing.T) {
	leakcheck.Check(t)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { time.Sleep(time.Millisecond) })
		wg.Wait()
	}
}

// The demo prints the same line as `python -m concurrency_patterns demo waitgroup`.
func Example() {
	var d Demo
	workloads.MustDemo("waitgroup", &d)
	run(os.Stdout, d)
	// Output:
	// waitgroup: 5 tasks started with go(); wait() returned after 5 finished
}

func BenchmarkWaitGroup(b *testing.B) { harness.Bench(b, "waitgroup", setup) }

// TestServe is how the Python benchmarks time this pattern beside theirs: run with -serve
// (go test -c, then ./waitgroup.test -test.run '^TestServe$' -serve), it times the workloads asked
// for on stdin. Without -serve it is skipped. See internal/harness.
func TestServe(t *testing.T) { harness.Serve(t, "waitgroup", setup) }
