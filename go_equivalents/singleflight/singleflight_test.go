package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/sync/singleflight"

	"concurrency-patterns/go_equivalents/internal/harness"
	"concurrency-patterns/go_equivalents/internal/leakcheck"
	"concurrency-patterns/go_equivalents/internal/twins"
	"concurrency-patterns/go_equivalents/internal/workloads"
)

// flight is what the tests ask of a singleflight group. x/sync's Group and the teaching one
// (inside.go) differ only in DoChan's result type, so each is wrapped.
type flight struct {
	do     func(key string, fn func() (any, error)) (any, error, bool)
	doChan func(key string, fn func() (any, error)) <-chan Result
	forget func(key string)
}

var versions = map[string]func() flight{
	"xsync": func() flight {
		var g singleflight.Group
		return flight{g.Do, func(key string, fn func() (any, error)) <-chan Result {
			out := make(chan Result, 1)
			in := g.DoChan(key, fn)
			go func() { r := <-in; out <- Result{r.Val, r.Err, r.Shared} }()
			return out
		}, g.Forget}
	},
	"inside": func() flight {
		var g Group
		return flight{g.Do, g.DoChan, g.Forget}
	},
}

func each(t *testing.T, test func(t *testing.T, newFlight func() flight)) {
	for name, newFlight := range versions {
		t.Run(name, func(t *testing.T) { test(t, newFlight) })
	}
}

func TestOneCallPerKeyPerFlightUnderAThousandCallers(t *testing.T) {
	each(t, func(t *testing.T, newFlight func() flight) {
		leakcheck.Check(t)
		g := newFlight()
		var calls atomic.Int64
		var start, wg sync.WaitGroup
		start.Add(1)
		for range 1000 {
			wg.Go(func() {
				start.Wait()
				v, err, _ := g.do("key", func() (any, error) {
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
	})
}

func TestErrorsAreSharedAndANewFlightStartsAfter(t *testing.T) {
	each(t, func(t *testing.T, newFlight func() flight) {
		synctest.Test(t, func(t *testing.T) {
			g := newFlight()
			boom := errors.New("boom")
			release := make(chan struct{})
			first := g.doChan("k", func() (any, error) { <-release; return nil, boom })
			synctest.Wait() // the first call is in flight
			second := g.doChan("k", func() (any, error) { return nil, nil })
			synctest.Wait() // the second caller waits on it
			close(release)
			for _, ch := range []<-chan Result{first, second} {
				if r := <-ch; !errors.Is(r.Err, boom) || !r.Shared {
					t.Fatalf("got %+v, want the shared error", r)
				}
			}
			if v, err, _ := g.do("k", func() (any, error) { return "again", nil }); v != "again" || err != nil {
				t.Fatalf("after the flight, Do = %v, %v", v, err)
			}
		})
	})
}

// The twin contracts: the same scenarios, with the same traces, as the Python SingleFlights'
// (tests/test_singleflight.py), from workloads.json.
func TestTwins(t *testing.T) {
	each(t, func(t *testing.T, newFlight func() flight) {
		twins.Run(t, "singleflight", scenarios(newFlight))
	})
}

func scenarios(newFlight func() flight) map[string]twins.Scenario {
	return map[string]twins.Scenario{
		"callers-in-a-flight-share-one-call": func(t *testing.T, _ json.RawMessage) []string {
			var tr twins.Trace
			g := newFlight()
			var calls atomic.Int64
			release := make(chan struct{})
			results := make([]string, 3)
			var wg sync.WaitGroup
			for i := range results {
				wg.Go(func() {
					v, _, _ := g.do("k", func() (any, error) {
						calls.Add(1)
						tr.Log("call runs")
						<-release
						return "v", nil
					})
					results[i] = v.(string)
				})
			}
			synctest.Wait() // every caller waits on the one call
			close(release)
			wg.Wait()
			tr.Log("results: %s", strings.Join(results, " "))
			tr.Log("calls: %d", calls.Load())
			return tr.Lines()
		},
		"a-call-nobody-waits-for-runs-to-its-end": func(t *testing.T, _ json.RawMessage) []string {
			var tr twins.Trace
			g := newFlight()
			release, stored := make(chan struct{}), make(chan string, 1)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer cancel()
			ch := g.doChan("k", func() (any, error) {
				tr.Log("call runs")
				<-release
				tr.Log("call ends")
				stored <- "v" // a cache stores what the call returns
				return "v", nil
			})
			select { // the caller gives up at its deadline
			case <-ch:
				t.Fatal("the call ended before it was released")
			case <-ctx.Done():
				tr.Log("caller left")
			}
			close(release)
			tr.Log("stored: %s", <-stored)
			return tr.Lines()
		},
		"forget-during-a-flight-starts-a-new-call": func(t *testing.T, _ json.RawMessage) []string {
			var tr twins.Trace
			g := newFlight()
			release := make(chan struct{})
			first := g.doChan("k", func() (any, error) { tr.Log("call 1 runs"); <-release; return "first", nil })
			synctest.Wait() // the first call is in flight
			g.forget("k")
			tr.Log("forgotten")
			v, _, _ := g.do("k", func() (any, error) { tr.Log("call 2 runs"); return "second", nil })
			tr.Log("caller 2: %v", v)
			close(release)
			tr.Log("caller 1: %v", (<-first).Val)
			return tr.Lines()
		},
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

func BenchmarkDo(b *testing.B) { harness.Bench(b, "singleflight", setup, "xsync", "inside") }

// TestServe is how the Python benchmarks time this pattern beside theirs: run with -serve
// (go test -c, then ./singleflight.test -test.run '^TestServe$' -serve), it times the workloads
// asked for on stdin. Without -serve it is skipped. See internal/harness.
func TestServe(t *testing.T) { harness.Serve(t, "singleflight", setup) }
