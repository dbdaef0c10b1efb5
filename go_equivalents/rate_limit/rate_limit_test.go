package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"

	"concurrency-patterns/go_equivalents/internal/harness"
	"concurrency-patterns/go_equivalents/internal/twins"
	"concurrency-patterns/go_equivalents/internal/workloads"
)

// waiter is what the tests ask of a limiter: x/time's and the teaching GCRA one both Wait.
type waiter interface {
	Wait(ctx context.Context) error
}

// versions makes a limiter of r a second, burst b at once, with each version.
var versions = map[string]func(r float64, b int) waiter{
	"xtime": func(r float64, b int) waiter { return rate.NewLimiter(rate.Limit(r), b) },
	"gcra": func(r float64, b int) waiter {
		l, err := NewLimiter(r, b)
		if err != nil {
			panic(err)
		}
		return l
	},
}

func each(t *testing.T, test func(t *testing.T, newLimiter func(float64, int) waiter)) {
	for name, newLimiter := range versions {
		t.Run(name, func(t *testing.T) { test(t, newLimiter) })
	}
}

// acquireAll lets n goroutines through l at once and returns when each got in, from start.
func acquireAll(t *testing.T, l waiter, n int) []time.Duration {
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

// The tests run on synctest's virtual clock: every time below is exact, on any machine.

func TestNoWindowHoldsMoreThanRateTimesWindowPlusBurst(t *testing.T) {
	each(t, func(t *testing.T, newLimiter func(float64, int) waiter) {
		synctest.Test(t, func(t *testing.T) {
			rate, burst, window := 200.0, 5, 100*time.Millisecond
			got := acquireAll(t, newLimiter(rate, burst), 60)
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
			// And enough work keeps it at the rate: the last goes at (60 - burst) / rate.
			if took, want := got[len(got)-1], time.Duration(float64(len(got)-burst)/rate*1e9); took != want {
				t.Errorf("60 operations took %v, want %v", took, want)
			}
		})
	})
}

func TestWaitersAreServedInTheOrderTheyAsked(t *testing.T) {
	each(t, func(t *testing.T, newLimiter func(float64, int) waiter) {
		synctest.Test(t, func(t *testing.T) {
			l := newLimiter(100, 1)
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
				synctest.Wait() // it has asked: the next one asks after it
			}
			wg.Wait()
			if !slices.Equal(order, []int{0, 1, 2, 3, 4}) {
				t.Fatalf("served in order %v", order)
			}
		})
	})
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

// The twin contracts: the same scenarios, with the same traces, as the Python RateLimiters'
// (tests/test_rate_limit.py), from workloads.json. The teaching GCRA limiter waits out a
// deadline instead of refusing at once, as the Python async limiters do; it runs the others.
func TestTwins(t *testing.T) {
	twins.Run(t, "rate_limit", scenarios(versions["xtime"]))
	t.Run("gcra", func(t *testing.T) {
		all := scenarios(versions["gcra"])
		delete(all, "a-wait-past-its-deadline-takes-nothing")
		twins.RunSome(t, "rate_limit", all)
	})
}

type limits struct {
	Rate    float64 `json:"rate"`
	Burst   int     `json:"burst"`
	Callers int     `json:"callers"`
}

func scenarios(newLimiter func(float64, int) waiter) map[string]twins.Scenario {
	ms := func(d time.Duration) int64 { return d.Milliseconds() }
	params := func(t *testing.T, raw json.RawMessage) limits {
		var p limits
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return map[string]twins.Scenario{
		"a-burst-then-one-per-interval": func(t *testing.T, raw json.RawMessage) []string {
			p := params(t, raw)
			var trace []string
			for _, at := range acquireAll(t, newLimiter(p.Rate, p.Burst), p.Callers) {
				trace = append(trace, fmt.Sprintf("%d ms", ms(at)))
			}
			return trace
		},
		"a-cancelled-wait-gives-its-slot-back": func(t *testing.T, raw json.RawMessage) []string {
			p := params(t, raw)
			var tr twins.Trace
			l, start := newLimiter(p.Rate, p.Burst), time.Now()
			_ = l.Wait(context.Background())
			tr.Log("1 at %d ms", ms(time.Since(start)))
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(10*time.Millisecond, cancel) // the caller gives up 10 ms in
			if err := l.Wait(ctx); errors.Is(err, context.Canceled) {
				tr.Log("2 gave up at %d ms", ms(time.Since(start)))
			}
			_ = l.Wait(context.Background())
			tr.Log("3 at %d ms", ms(time.Since(start)))
			return tr.Lines()
		},
		"a-wait-past-its-deadline-takes-nothing": func(t *testing.T, raw json.RawMessage) []string {
			p := params(t, raw)
			var tr twins.Trace
			l, start := newLimiter(p.Rate, p.Burst), time.Now()
			_ = l.Wait(context.Background())
			tr.Log("1 at %d ms", ms(time.Since(start)))
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if err := l.Wait(ctx); err != nil { // its slot is 100 ms away, past the deadline
				tr.Log("2 refused at %d ms", ms(time.Since(start)))
			}
			_ = l.Wait(context.Background())
			tr.Log("3 at %d ms", ms(time.Since(start)))
			return tr.Lines()
		},
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

func BenchmarkWait(b *testing.B) { harness.Bench(b, "rate_limit", setup, "xtime", "gcra") }

// TestServe is how the Python benchmarks time this pattern beside theirs: run with -serve
// (go test -c, then ./rate_limit.test -test.run '^TestServe$' -serve), it times the workloads asked
// for on stdin. Without -serve it is skipped. See internal/harness.
func TestServe(t *testing.T) { harness.Serve(t, "rate_limit", setup) }
