package main

import (
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"concurrency-patterns/go_equivalents/internal/harness"
	"concurrency-patterns/go_equivalents/internal/leakcheck"
	"concurrency-patterns/go_equivalents/internal/workloads"
)

const settle = 30 * time.Millisecond // long enough for a goroutine to block in a lock call

func TestNoReadIsTorn(t *testing.T) {
	leakcheck.Check(t)
	if final, torn := Exercise(20, 4, 50); final != 200 || torn != 0 {
		t.Errorf("final %d, torn %d; want 200, 0", final, torn)
	}
}

func TestReadersShareTheLock(t *testing.T) {
	leakcheck.Check(t)
	var mu sync.RWMutex
	mu.RLock()
	done := make(chan struct{})
	go func() { mu.RLock(); mu.RUnlock(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("a second reader waited for the first")
	}
	mu.RUnlock()
}

// The policy the Python locks copy: a waiting writer holds back new readers.
func TestAWaitingWriterHoldsBackNewReaders(t *testing.T) {
	leakcheck.Check(t)
	var mu sync.RWMutex
	var logMu sync.Mutex
	var log []string
	note := func(s string) { logMu.Lock(); log = append(log, s); logMu.Unlock() }
	var wg sync.WaitGroup
	mu.RLock() // reader A
	note("A in")
	wg.Go(func() { mu.Lock(); note("W in"); mu.Unlock() })
	time.Sleep(settle)
	wg.Go(func() { mu.RLock(); note("B in"); mu.RUnlock() })
	time.Sleep(settle)
	note("A out")
	mu.RUnlock()
	wg.Wait()
	if want := []string{"A in", "A out", "W in", "B in"}; !slices.Equal(log, want) {
		t.Errorf("order %v, want %v", log, want)
	}
}

// The demo prints the same line as `python -m concurrency_patterns demo rwmutex`.
func Example() {
	var d Demo
	workloads.MustDemo("rwmutex", &d)
	run(os.Stdout, d)
	// Output:
	// rwmutex: 8 readers, 2 writers, 5 rounds: final value 10, torn reads 0
}

func BenchmarkExercise(b *testing.B) { harness.Bench(b, "rwmutex", setup) }

// TestServe is how the Python benchmarks time this pattern beside theirs: run with -serve
// (go test -c, then ./rwmutex.test -test.run '^TestServe$' -serve), it times the workloads asked
// for on stdin. Without -serve it is skipped. See internal/harness.
func TestServe(t *testing.T) { harness.Serve(t, "rwmutex", setup) }
