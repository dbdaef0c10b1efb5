// ErrGroup: a group of goroutines with a limit, whose first error cancels the rest.
//
// Python: concurrency_patterns.errgroup — AsyncioErrGroup, AnyioErrGroup, ThreadErrGroup.
// Go services use golang.org/x/sync/errgroup for this. There is no module proxy here, so the
// Group below is errgroup's semantics rewritten with the standard library only: Go, TryGo,
// SetLimit, Wait, and WithContext, whose context is cancelled by the first error.
//
//	go run ./errgroup
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"concurrency-patterns/go_equivalents/internal/workloads"
)

// --8<-- [start:go]

// A Group is a collection of goroutines working on subtasks of one task. The zero Group is
// valid, has no limit, and cancels nothing; WithContext gives one whose first error cancels
// the context it returns. A Group must not be copied after first use.
type Group struct {
	cancel func(error) // nil for the zero Group

	wg  sync.WaitGroup
	sem chan struct{} // a place per running goroutine; nil means no limit

	errOnce sync.Once
	err     error
}

// WithContext returns a Group and a context derived from ctx, cancelled the first time a
// function passed to Go returns an error, or when Wait returns, whichever comes first.
func WithContext(ctx context.Context) (*Group, context.Context) {
	ctx, cancel := context.WithCancelCause(ctx)
	return &Group{cancel: cancel}, ctx
}

// SetLimit limits the number of goroutines running at once to n (n < 0: no limit). It must
// not be called while goroutines of the group are running.
func (g *Group) SetLimit(n int) {
	if n < 0 {
		g.sem = nil
		return
	}
	g.sem = make(chan struct{}, n)
}

// Go calls f in a new goroutine, blocking until there is room under the limit. The first
// call to return an error cancels the group's context; Wait returns that error.
func (g *Group) Go(f func() error) {
	if g.sem != nil {
		g.sem <- struct{}{} // waits for a place: backpressure on the caller
	}
	g.start(f)
}

// TryGo calls f in a new goroutine only if there is room under the limit now, and reports
// whether it did.
func (g *Group) TryGo(f func() error) bool {
	if g.sem != nil {
		select {
		case g.sem <- struct{}{}:
		default:
			return false
		}
	}
	g.start(f)
	return true
}

func (g *Group) start(f func() error) {
	g.wg.Go(func() {
		defer g.done()
		if err := f(); err != nil {
			g.errOnce.Do(func() { // the first error, by time, is the one kept
				g.err = err
				if g.cancel != nil {
					g.cancel(err)
				}
			})
		}
	})
}

func (g *Group) done() {
	if g.sem != nil {
		<-g.sem
	}
}

// Wait blocks until every function started with Go or TryGo has returned, then returns the
// first error, if any. A panic in a function is not recovered: it crashes the program, as
// x/sync's errgroup does since it reverted propagating panics to Wait (golang/go#53757).
func (g *Group) Wait() error {
	g.wg.Wait()
	if g.cancel != nil {
		g.cancel(g.err)
	}
	return g.err
}

// --8<-- [end:go]

// Demo is the demo workload of workloads.json.
type Demo struct {
	Tasks   int `json:"tasks"`
	Limit   int `json:"limit"`
	Failing int `json:"failing"`
	StepMS  int `json:"step_ms"`
}

// run starts the demo's tasks under the limit; one fails, and the line says what came out.
func run(w io.Writer, d Demo) {
	g, ctx := WithContext(context.Background())
	g.SetLimit(d.Limit)
	var now, most atomic.Int64
	for i := range d.Tasks {
		g.Go(func() error {
			n := now.Add(1)
			defer now.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
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
	err := g.Wait()
	fmt.Fprintf(w, "errgroup: %d tasks, limit %d: at most %d ran at once; the group raised the first error: %v\n",
		d.Tasks, d.Limit, most.Load(), err)
}

func main() {
	var d Demo
	workloads.MustDemo("errgroup", &d)
	run(os.Stdout, d)
}
