package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"concurrency-patterns/go_equivalents/internal/harness"
	"concurrency-patterns/go_equivalents/internal/leakcheck"
	"concurrency-patterns/go_equivalents/internal/twins"
	"concurrency-patterns/go_equivalents/internal/workloads"
)

// group is what the tests ask of an errgroup: x/sync's Group and the teaching one both have it.
type group interface {
	Go(f func() error)
	TryGo(f func() error) bool
	SetLimit(n int)
	Wait() error
}

// versions makes a group and its context with each version: the module the program uses, and
// the teaching version in inside.go. Every contract below holds for both.
var versions = map[string]func(context.Context) (group, context.Context){
	"xsync":  func(ctx context.Context) (group, context.Context) { return errgroup.WithContext(ctx) },
	"inside": func(ctx context.Context) (group, context.Context) { return WithContext(ctx) },
}

func each(t *testing.T, test func(t *testing.T, newGroup func(context.Context) (group, context.Context))) {
	for name, newGroup := range versions {
		t.Run(name, func(t *testing.T) { test(t, newGroup) })
	}
}

func TestTheLimitHoldsAndIsReached(t *testing.T) {
	each(t, func(t *testing.T, newGroup func(context.Context) (group, context.Context)) {
		leakcheck.Check(t)
		g, _ := newGroup(context.Background())
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
	})
}

func TestTheFirstErrorIsTheContextsCause(t *testing.T) {
	each(t, func(t *testing.T, newGroup func(context.Context) (group, context.Context)) {
		leakcheck.Check(t)
		g, ctx := newGroup(context.Background())
		first := errors.New("first")
		g.Go(func() error { return first })
		g.Go(func() error { <-ctx.Done(); return ctx.Err() })
		if err := g.Wait(); !errors.Is(err, first) {
			t.Fatalf("Wait = %v, want the first error", err)
		}
		if cause := context.Cause(ctx); !errors.Is(cause, first) {
			t.Fatalf("the context's cause is %v, want the first error", cause)
		}
	})
}

// The twin contracts: the same scenarios, with the same traces, as the Python ErrGroups'
// (tests/test_errgroup.py), from workloads.json.
func TestTwins(t *testing.T) {
	each(t, func(t *testing.T, newGroup func(context.Context) (group, context.Context)) {
		twins.Run(t, "errgroup", scenarios(newGroup))
	})
}

func scenarios(newGroup func(context.Context) (group, context.Context)) map[string]twins.Scenario {
	var limit struct {
		Limit int `json:"limit"`
	}
	return map[string]twins.Scenario{
		"first-error-wins-and-cancels-the-rest": func(t *testing.T, _ json.RawMessage) []string {
			var tr twins.Trace
			g, ctx := newGroup(context.Background())
			started := make(chan struct{})
			g.Go(func() error {
				tr.Log("a started")
				close(started)
				<-ctx.Done()
				tr.Log("a cancelled")
				return ctx.Err()
			})
			g.Go(func() error {
				<-started
				tr.Log("b fails")
				return errors.New("b failed")
			})
			tr.Log("wait: %s", twins.Outcome(g.Wait()))
			return tr.Lines()
		},
		"go-waits-for-room-under-the-limit": func(t *testing.T, raw json.RawMessage) []string {
			var tr twins.Trace
			if err := json.Unmarshal(raw, &limit); err != nil {
				t.Fatal(err)
			}
			g, _ := newGroup(context.Background())
			g.SetLimit(limit.Limit)
			started, release, bGo := make(chan struct{}), make(chan struct{}), make(chan struct{})
			g.Go(func() error { tr.Log("a started"); close(started); <-release; tr.Log("a ends"); return nil })
			<-started
			go func() { time.Sleep(10 * time.Millisecond); close(release) }() // once Go blocks
			tr.Log("go b called")
			g.Go(func() error { <-bGo; tr.Log("b runs"); return nil })
			tr.Log("go b returned")
			close(bGo)
			tr.Log("wait: %s", twins.Outcome(g.Wait()))
			return tr.Lines()
		},
		"try-go-at-capacity-starts-nothing": func(t *testing.T, raw json.RawMessage) []string {
			var tr twins.Trace
			if err := json.Unmarshal(raw, &limit); err != nil {
				t.Fatal(err)
			}
			g, _ := newGroup(context.Background())
			g.SetLimit(limit.Limit)
			release := make(chan struct{})
			tr.Log("try a: %t", g.TryGo(func() error { <-release; return nil }))
			tr.Log("try b: %t", g.TryGo(func() error { return nil }))
			close(release)
			tr.Log("wait: %s", twins.Outcome(g.Wait()))
			return tr.Lines()
		},
	}
}

// The demo prints the same line as `python -m concurrency_patterns demo errgroup`.
func Example() {
	var d Demo
	workloads.MustDemo("errgroup", &d)
	run(os.Stdout, d)
	// Output:
	// errgroup: 8 tasks, limit 3: at most 3 ran at once; the group raised the first error: task 5 failed
}

func BenchmarkGroup(b *testing.B) { harness.Bench(b, "errgroup", setup, "xsync", "inside", "conc") }

// TestServe is how the Python benchmarks time this pattern beside theirs: run with -serve
// (go test -c, then ./errgroup.test -test.run '^TestServe$' -serve), it times the workloads asked
// for on stdin. Without -serve it is skipped. See internal/harness.
func TestServe(t *testing.T) { harness.Serve(t, "errgroup", setup) }
