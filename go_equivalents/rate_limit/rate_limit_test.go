package main

import (
	"context"
	"errors"
	"math"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"concurrency-patterns/go_equivalents/internal/harness"
	"concurrency-patterns/go_equivalents/internal/leakcheck"
	"concurrency-patterns/go_equivalents/internal/workloads"
)

// acquireAll lets n goroutines through l at once and returns when each got in, from start.
func acquireAll(t *testing.T, l *Limiter, n int) []time.Duration {
	t.Helper()
	start := time.Now()
	got := make([]time.Duration, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := l.Wait(context.Background()); err != nil {
				t.Error(err)
			}
			got[i] = time.Since(start)
		})
	}
	wg.Wait()
	slices.Sort(got)
	return got
}

func TestNoWindowHoldsMoreThanRateTimesWindowPlusBurst(t *testing.T) {
	leakcheck.Check(t)
	rate, burst, window := 200.0, 5, 100*time.Millisecond
	l, _ := NewLimiter(rate, burst)
	got := acquireAll(t, l, 60)
	limit := int(rate*window.Seconds()) + burst
	for i := range got {
		j := i
		for j < len(got) && got[j]-got[i] < window {
			j++
		}
		if j-i > limit {
			t.Fatalf("%d operations in %v from %v; at most %d", j-i, window, got[i], limit)
		}
	}
	// And enough work keeps it busy: at least 95 % of the rate after the burst.
	if took, want := got[len(got)-1].Seconds(), float64(len(got)-burst)/rate; took > want/0.95 {
		t.Errorf("60 operations took %.3fs; at 95%% of the rate they take %.3fs", took, want/0.95)
	}
}

func TestWaitersAreServedInTheOrderTheyAsked(t *testing.T) {
	leakcheck.Check(t)
	l, _ := NewLimiter(100, 1)
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			_ = l.Wait(context.Background())
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		})
		time.Sleep(2 * time.Millisecond) // arrive in order
	}
	wg.Wait()
	if !slices.Equal(order, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("served in order %v", order)
	}
}

func TestACancelledWaiterGivesItsSlotBackAndLeavesNothingRunning(t *testing.T) {
	leakcheck.Check(t)
	l, _ := NewLimiter(10, 1) // one every 100 ms
	_ = l.Wait(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v, want the deadline", err)
	}
	start := time.Now()
	_ = l.Wait(context.Background()) // the slot the cancelled waiter gave back
	if waited := time.Since(start); waited > 150*time.Millisecond {
		t.Fatalf("waited %v: the cancelled waiter's slot was not given back", waited)
	}
}

func TestBadRateOrBurstIsRefused(t *testing.T) {
	for _, c := range []struct {
		rate  float64
		burst int
	}{{0, 1}, {-1, 1}, {math.NaN(), 1}, {math.Inf(1), 1}, {10, 0}} {
		if _, err := NewLimiter(c.rate, c.burst); err == nil {
			t.Errorf("NewLimiter(%v, %d) accepted", c.rate, c.burst)
		}
	}
}

// The demo prints the same line as `python -m concurrency_patterns demo rate_limit`.
func Example() {
	var d Demo
	workloads.MustDemo("rate_limit", &d)
	_ = run(os.Stdout, d)
	// Output:
	// rate_limit: 8 calls at 20/s, burst 3: admitted at 0 0 0 50 100 150 200 250 ms
}

func BenchmarkWait(b *testing.B) { harness.Bench(b, "rate_limit", setup) }

// TestServe is how the Python benchmarks time this pattern beside theirs: run with -serve
// (go test -c, then ./rate_limit.test -test.run '^TestServe$' -serve), it times the workloads asked
// for on stdin. Without -serve it is skipped. See internal/harness.
func TestServe(t *testing.T) { harness.Serve(t, "rate_limit", setup) }
