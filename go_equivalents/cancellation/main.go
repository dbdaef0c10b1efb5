// Cancellation: deadlines and cancellation trees with context.Context.
//
// Python: concurrency_patterns.cancellation — AsyncioScope, AnyioScope, ThreadScope. A request
// arrives with a deadline; the handler calls three services at once, and one of them fans out
// again under a shorter deadline of its own. Every call takes the context and stops when it is
// done; context.Cause says why; cleanup that must finish runs on context.WithoutCancel, under
// a timeout of its own.
//
//	go run ./cancellation
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"concurrency-patterns/go_equivalents/internal/workloads"
)

// call stands for a downstream call that takes d, unless ctx is done first.
func call(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return context.Cause(ctx) // why: the deadline, or the cause given to cancel
	}
}

// --8<-- [start:go]

// profile fans out to shards at once, under a deadline of its own: never later than the
// request's, since a child context's deadline is the earlier of the two.
func profile(ctx context.Context, shards int, each, deadline time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel() // release the timer as soon as the shards are done
	errs := make([]error, shards)
	var wg sync.WaitGroup
	for i := range shards {
		wg.Go(func() { errs[i] = call(ctx, each) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// --8<-- [end:go]

// Request is what handle does for one request: the three calls and the cleanup.
type Request struct {
	Deadline        time.Duration
	Auth, Recommend time.Duration
	Shards          int
	Shard           time.Duration
	ShardDeadline   time.Duration
	Cleanup         time.Duration
}

// --8<-- [start:handle]

// handle serves one request: three calls at once under the request's deadline, then a cleanup
// that runs even though the request's context is done. It returns each call's error (nil for
// done) and the request's own: context.DeadlineExceeded when the deadline passed.
func handle(parent context.Context, r Request, cleaned *bool) (calls [3]error, err error) {
	ctx, cancel := context.WithTimeout(parent, r.Deadline)
	defer cancel()
	defer func() {
		// WithoutCancel: the request's cancellation cannot reach the cleanup; its own
		// timeout bounds it instead.
		cleanupCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), 10*r.Cleanup)
		defer stop()
		*cleaned = call(cleanupCtx, r.Cleanup) == nil
	}()
	var wg sync.WaitGroup
	wg.Go(func() { calls[0] = call(ctx, r.Auth) })
	wg.Go(func() { calls[1] = profile(ctx, r.Shards, r.Shard, r.ShardDeadline) })
	wg.Go(func() { calls[2] = call(ctx, r.Recommend) })
	wg.Wait()
	return calls, ctx.Err()
}

// --8<-- [end:handle]

// Demo is the demo workload of workloads.json.
type Demo struct {
	DeadlineMS        int `json:"deadline_ms"`
	AuthMS            int `json:"auth_ms"`
	Shards            int `json:"shards"`
	ShardMS           int `json:"shard_ms"`
	ShardDeadlineMS   int `json:"shard_deadline_ms"`
	RecommendationsMS int `json:"recommendations_ms"`
	CleanupMS         int `json:"cleanup_ms"`
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func status(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, context.DeadlineExceeded):
		return "stopped (deadline exceeded)"
	default:
		return "stopped (" + err.Error() + ")"
	}
}

// run serves the demo's request and says what happened to each call and to the caller.
func run(w io.Writer, d Demo) {
	var cleaned bool
	calls, err := handle(context.Background(), Request{
		Deadline: ms(d.DeadlineMS), Auth: ms(d.AuthMS), Recommend: ms(d.RecommendationsMS),
		Shards: d.Shards, Shard: ms(d.ShardMS), ShardDeadline: ms(d.ShardDeadlineMS),
		Cleanup: ms(d.CleanupMS),
	}, &cleaned)
	cleanup := "did not finish"
	if cleaned {
		cleanup = "finished"
	}
	fmt.Fprintf(w, "cancellation: a request with a %d ms deadline: auth %s, profile %s (%d shards "+
		"under a %d ms sub-deadline), recommendations %s; the caller got: %v; shielded cleanup %s\n",
		d.DeadlineMS, status(calls[0]), status(calls[1]), d.Shards, d.ShardDeadlineMS,
		status(calls[2]), err, cleanup)
}

func main() {
	var d Demo
	workloads.MustDemo("cancellation", &d)
	run(os.Stdout, d)
}
