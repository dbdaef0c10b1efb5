package main

import (
	"os"
	"sync"
	"testing"

	"concurrency-patterns/go_equivalents/internal/harness"
	"concurrency-patterns/go_equivalents/internal/leakcheck"
	"concurrency-patterns/go_equivalents/internal/workloads"
)

func TestTheCounterLosesNoUpdate(t *testing.T) {
	leakcheck.Check(t)
	if got := Count(20, 25); got != 500 {
		t.Errorf("Count(20, 25) = %d, want 500", got)
	}
}

func TestTryLockFailsWhileLocked(t *testing.T) {
	var mu sync.Mutex
	mu.Lock()
	if mu.TryLock() {
		t.Fatal("TryLock took a locked mutex")
	}
	mu.Unlock()
	if !mu.TryLock() {
		t.Fatal("TryLock failed on an unlocked mutex")
	}
	mu.Unlock()
}

// The demo prints the same line as `python -m concurrency_patterns demo mutex`.
func Example() {
	var d Demo
	workloads.MustDemo("mutex", &d)
	run(os.Stdout, d)
	// Output:
	// mutex: 100 tasks x 10 increments: counter = 1000
}

func BenchmarkCount(b *testing.B) { harness.Bench(b, "mutex", setup) }

// TestServe is how the Python benchmarks time this pattern beside theirs: run with -serve
// (go test -c, then ./mutex.test -test.run '^TestServe$' -serve), it times the workloads asked
// for on stdin. Without -serve it is skipped. See internal/harness.
func TestServe(t *testing.T) { harness.Serve(t, "mutex", setup) }
