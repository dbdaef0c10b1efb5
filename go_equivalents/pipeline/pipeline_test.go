package main

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"concurrency-patterns/go_equivalents/internal/harness"
	"concurrency-patterns/go_equivalents/internal/leakcheck"
	"concurrency-patterns/go_equivalents/internal/workloads"
)

func identity(_ context.Context, n int) (int, error) { return n, nil }

func TestEveryItemPassesEveryStageOnceInInputOrder(t *testing.T) {
	leakcheck.Check(t)
	var calls atomic.Int64
	p := New(context.Background(), 3)
	slow := Stage(p, "slow-evens", 4, 2, Source(p, slices.Values(seq(200)), 2),
		func(_ context.Context, n int) (int, error) {
			calls.Add(1)
			if n%2 == 0 {
				time.Sleep(time.Millisecond)
			}
			return n, nil
		})
	got, err := Collect(p, Stage(p, "b", 2, 1, slow, identity))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, seq(200)) || calls.Load() != 200 {
		t.Fatalf("got %d outputs (in order: %v) from %d calls", len(got), slices.IsSorted(got), calls.Load())
	}
}

func TestAStuckStageHoldsItsBufferPlusItsWorkers(t *testing.T) {
	leakcheck.Check(t)
	var read atomic.Int64
	src := func(yield func(int) bool) {
		for i := 0; ; i++ {
			read.Add(1)
			if !yield(i) {
				return
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := New(ctx, 0)
	// Each channel's buffer is given where it is made: the source's is fast's inbox (2), and
	// fast's output is stuck's inbox (5).
	fast := Stage(p, "fast", 3, 5, Source(p, src, 2), identity)
	stuck := Stage(p, "stuck", 2, 1, fast, func(ctx context.Context, n int) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	})
	done := make(chan error)
	go func() { _, err := Collect(p, stuck); done <- err }()
	time.Sleep(100 * time.Millisecond)
	// 1 read and waiting at the source + fast's inbox and workers + stuck's inbox and workers.
	if want := int64(1 + 2 + 3 + 5 + 2); read.Load() != want {
		t.Errorf("read %d items, want %d", read.Load(), want)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Collect = %v, want the caller's cancellation", err)
	}
}

func TestTheFirstErrorNamesTheStageAndTheItemAndLosesNothing(t *testing.T) {
	leakcheck.Check(t)
	p := New(context.Background(), 0)
	check := Stage(p, "check", 3, 1, Source(p, slices.Values(seq(10_000)), 2),
		func(_ context.Context, n int) (int, error) {
			if n == 37 {
				return 0, errors.New("bad item")
			}
			return n, nil
		})
	got, err := Collect(p, check)
	var se *StageError
	if !errors.As(err, &se) || se.Stage != "check" || se.Index != 37 || se.Item != 37 {
		t.Fatalf("Collect = %v, want a StageError for item 37 in check", err)
	}
	seen := map[int]bool{}
	for _, n := range got {
		seen[n] = true
	}
	for _, item := range se.Unprocessed {
		seen[item.(int)] = true
	}
	if !seen[37] || len(seen) != len(got)+len(se.Unprocessed) || len(seen) >= 10_000 {
		t.Fatalf("%d delivered + %d unprocessed: an item was lost or counted twice", len(got), len(se.Unprocessed))
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// The demo prints the same line as `python -m concurrency_patterns demo pipeline`.
func Example() {
	var d Demo
	workloads.MustDemo("pipeline", &d)
	run(os.Stdout, d)
	// Output:
	// pipeline: 12 lines -> parse x2 -> square x3 -> format x1, in input order: 0 1 4 9 16 25 36 49 64 81 100 121; a bad line stops it: stage parse failed on item 7 ("oops")
}

func BenchmarkPipeline(b *testing.B) { harness.Bench(b, "pipeline", setup) }

// TestServe is how the Python benchmarks time this pattern beside theirs: run with -serve
// (go test -c, then ./pipeline.test -test.run '^TestServe$' -serve), it times the workloads
// asked for on stdin. Without -serve it is skipped. See internal/harness.
func TestServe(t *testing.T) { harness.Serve(t, "pipeline", setup) }
