package main

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"concurrency-patterns/go_equivalents/internal/harness"
	"concurrency-patterns/go_equivalents/internal/leakcheck"
	"concurrency-patterns/go_equivalents/internal/workloads"
)

const slack = 250 * time.Millisecond // a busy 2-core machine

func TestTheDeadlineStopsEverythingBelowItPromptly(t *testing.T) {
	leakcheck.Check(t)
	var cleaned bool
	start := time.Now()
	calls, err := handle(context.Background(), Request{
		Deadline: 100 * time.Millisecond, Auth: time.Millisecond, Recommend: 5 * time.Second,
		Shards: 3, Shard: 5 * time.Second, ShardDeadline: 10 * time.Second, Cleanup: 20 * time.Millisecond,
	}, &cleaned)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("handle = %v, want the deadline", err)
	}
	if calls[0] != nil || !errors.Is(calls[1], context.DeadlineExceeded) || !errors.Is(calls[2], context.DeadlineExceeded) {
		t.Fatalf("calls = %v", calls)
	}
	if !cleaned {
		t.Fatal("the cleanup did not finish")
	}
	if elapsed := time.Since(start); elapsed > 100*time.Millisecond+20*time.Millisecond+slack {
		t.Fatalf("took %v", elapsed)
	}
}

func TestTheNestedDeadlineIsTheEarlierOne(t *testing.T) {
	parent, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	child, cancelChild := context.WithTimeout(parent, time.Hour)
	defer cancelChild()
	p, _ := parent.Deadline()
	c, _ := child.Deadline()
	if !c.Equal(p) {
		t.Fatalf("the child's deadline %v is not the parent's %v", c, p)
	}
}

func TestTheCauseReachesEveryCall(t *testing.T) {
	leakcheck.Check(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	gone := errors.New("client went away")
	time.AfterFunc(20*time.Millisecond, func() { cancel(gone) })
	if err := profile(ctx, 3, time.Hour, time.Hour); !errors.Is(err, gone) {
		t.Fatalf("profile = %v, want the cause", err)
	}
}

// The demo prints the same line as `python -m concurrency_patterns demo cancellation`.
func Example() {
	var d Demo
	workloads.MustDemo("cancellation", &d)
	run(os.Stdout, d)
	// Output:
	// cancellation: a request with a 100 ms deadline: auth ok, profile ok (3 shards under a 50 ms sub-deadline), recommendations stopped (deadline exceeded); the caller got: context deadline exceeded; shielded cleanup finished
}

func BenchmarkCancellation(b *testing.B) { harness.Bench(b, "cancellation", setup) }

// TestServe is how the Python benchmarks time this pattern beside theirs: run with -serve
// (go test -c, then ./cancellation.test -test.run '^TestServe$' -serve), it times the
// workloads asked for on stdin. Without -serve it is skipped. See internal/harness.
func TestServe(t *testing.T) { harness.Serve(t, "cancellation", setup) }
