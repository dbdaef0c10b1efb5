// What golang.org/x/sync/errgroup does inside, written with the standard library: a teaching
// version. The program uses the real module (main.go); the tests run the same contract over
// both, and the benchmarks time both.
package main

import (
	"context"
	"sync"
)

// --8<-- [start:inside]

// A Group is a collection of goroutines working on subtasks of one task, as errgroup.Group
// is. The zero Group is valid, has no limit, and cancels nothing; WithContext gives one whose
// first error cancels the context it returns. A Group must not be copied after first use.
type Group struct {
	cancel func(error) // nil for the zero Group

	wg  sync.WaitGroup
	sem chan struct{} // a place per running goroutine; nil means no limit

	errOnce sync.Once
	err     error
}

// --8<-- [end:inside]

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

// --8<-- [start:go]

// Go calls f in a new goroutine, blocking until there is room under the limit. The first
// call to return an error cancels the group's context; Wait returns that error.
func (g *Group) Go(f func() error) {
	if g.sem != nil {
		g.sem <- struct{}{} // waits for a place: backpressure on the caller
	}
	g.start(f)
}

// --8<-- [end:go]

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

// --8<-- [start:start]

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

// --8<-- [end:start]

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
