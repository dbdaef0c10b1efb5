// ErrGroup: a group of goroutines with a limit, whose first error cancels the rest.
//
// Python: ErrGroup in concurrency_patterns.asyncio, .anyio and .threads.
// Go services use golang.org/x/sync/errgroup for this, and so does this program: Go, TryGo,
// SetLimit, Wait, and WithContext, whose context is cancelled by the first error. inside.go
// shows what errgroup does inside, written with the standard library (a teaching version).
//
//	go run ./errgroup
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"concurrency-patterns/go_equivalents/internal/workloads"
)

// Demo is the demo workload of workloads.json.
type Demo struct {
	Tasks   int `json:"tasks"`
	Limit   int `json:"limit"`
	Failing int `json:"failing"`
	StepMS  int `json:"step_ms"`
}

// --8<-- [start:go]

// run starts the demo's tasks under the limit; one fails, and the line says what came out.
func run(w io.Writer, d Demo) {
	// The first error returned by a function cancels ctx, and Wait returns that error.
	g, ctx := errgroup.WithContext(context.Background())
	// Go blocks while d.Limit functions run: the loop below goes at the pace of the work.
	g.SetLimit(d.Limit)
	var now, most atomic.Int64 // how many run at once, and the most seen
	for i := range d.Tasks {
		g.Go(func() error {
			n := now.Add(1)
			defer now.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			// A step of work that stops early when another function has failed.
			select {
			case <-time.After(time.Duration(d.StepMS) * time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
			if i == d.Failing {
				return fmt.Errorf("task %d failed", i)
			}
			return nil
		})
	}
	// Wait returns when every function has returned: nothing outlives the group.
	err := g.Wait()
	fmt.Fprintf(w, "errgroup: %d tasks, limit %d: at most %d ran at once; "+
		"the group raised the first error: %v\n", d.Tasks, d.Limit, most.Load(), err)
}

// --8<-- [end:go]

func main() {
	var d Demo
	workloads.MustDemo("errgroup", &d)
	run(os.Stdout, d)
}
