package main

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"concurrency-patterns/go_equivalents/internal/harness"
	"concurrency-patterns/go_equivalents/internal/leakcheck"
	"concurrency-patterns/go_equivalents/internal/workloads"
)

func TestOneCallPerKeyPerFlightUnderAThousandCallers(t *testing.T) {
	leakcheck.Check(t)
	var g Group
	var calls atomic.Int64
	var start, wg sync.WaitGroup
	start.Add(1)
	for range 1000 {
		wg.Go(func() {
			start.Wait()
			v, err, _ := g.Do("key", func() (any, error) {
				calls.Add(1)
				time.Sleep(50 * time.Millisecond)
				return 42, nil
			})
			if v != 42 || err != nil {
				t.Errorf("Do = %v, %v", v, err)
			}
		})
	}
	start.Done()
	wg.Wait()
	if calls.Load() != 1 {
		t.Fatalf("fn ran %d times, want 1", calls.Load())
	}
}

func TestErrorsAreSharedAndANewFlightStartsAfter(t *testing.T) {
	leakcheck.Check(t)
	var g Group
	boom := errors.New("boom")
	release := make(chan struct{})
	first := g.DoChan("k", func() (any, error) { <-release; return nil, boom })
	time.Sleep(10 * time.Millisecond)
	second := g.DoChan("k", func() (any, error) { return nil, nil })
	time.Sleep(10 * time.Millisecond)
	close(release)
	for _, ch := range []<-chan Result{first, second} {
		if r := <-ch; !errors.Is(r.Err, boom) || !r.Shared {
			t.Fatalf("got %+v, want the shared error", r)
		}
	}
	if v, err, _ := g.Do("k", func() (any, error) { return "again", nil }); v != "again" || err != nil {
		t.Fatalf("after the flight, Do = %v, %v", v, err)
	}
}

func TestForgetStartsANewCallWhileOneIsInFlight(t *testing.T) {
	leakcheck.Check(t)
	var g Group
	release := make(chan struct{})
	old := g.DoChan("k", func() (any, error) { <-release; return "old", nil })
	time.Sleep(10 * time.Millisecond)
	g.Forget("k")
	if v, _, _ := g.Do("k", func() (any, error) { return "new", nil }); v != "new" {
		t.Fatalf("after Forget, Do = %v, want a new call", v)
	}
	close(release)
	if r := <-old; r.Val != "old" {
		t.Fatalf("the forgotten call returned %v", r.Val)
	}
}

// The demo prints the same line as `python -m concurrency_patterns demo singleflight`.
func Example() {
	var d Demo
	workloads.MustDemo("singleflight", &d)
	run(os.Stdout, d)
	// Output:
	// singleflight: 100 callers on 5 keys: 5 calls made, at most 1 per key; every caller got its key's value: yes
}

func BenchmarkDo(b *testing.B) { harness.Bench(b, "singleflight", setup) }

// TestServe is how the Python benchmarks time this pattern beside theirs: run with -serve
// (go test -c, then ./singleflight.test -test.run '^TestServe$' -serve), it times the workloads
// asked for on stdin. Without -serve it is skipped. See internal/harness.
func TestServe(t *testing.T) { harness.Serve(t, "singleflight", setup) }
