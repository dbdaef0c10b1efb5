// Pipeline: stages of goroutines joined by bounded channels, each stage with its own workers.
//
// Python: concurrency_patterns.pipeline — pipeline_asyncio, pipeline_anyio, pipeline_threads
// and their pipeline_stream_* forms. This is Go's pipelines pattern: a source sends items into
// a channel; each stage runs `workers` goroutines that receive from it, call the stage's
// function and send the result on (fan-out, then fan-in); closing the source's channel closes
// every stage in turn. Every goroutine runs in one golang.org/x/sync/errgroup group, whose
// first error cancels the context every stage shares and says which stage failed on which
// item.
//
//	go run ./pipeline
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"concurrency-patterns/go_equivalents/internal/workloads"
)

// An Item is a value on its way through the pipeline, with its index in the source.
type Item[T any] struct {
	Index int
	Value T
}

// A StageError says which stage failed on which item, and lists what never came out.
type StageError struct {
	Stage string
	Index int
	Item  any
	Err   error
	// Unprocessed holds the source items read but whose output never reached the caller,
	// in the source's order, the failing one included.
	Unprocessed []any
}

func (e *StageError) Error() string {
	return fmt.Sprintf("pipeline failed in stage %q on item %d (%v): %v",
		e.Stage, e.Index, e.Item, e.Err)
}

func (e *StageError) Unwrap() error { return e.Err }

// A Pipeline is one run's shared state: a group of every goroutine, whose first error
// cancels the context they share, and the books of the items between the source and the
// caller, so that none can vanish. Make one with New; use it for one run.
type Pipeline struct {
	g      *errgroup.Group
	ctx    context.Context // the group's: cancelled by the first error, or with parent
	parent context.Context

	mu       sync.Mutex
	inFlight map[int]any // source index -> item, until its output reaches the caller

	gate chan struct{} // ordered only: a place per item between the source and the caller
}

// New returns a Pipeline under ctx. With window > 0 its outputs come in the source's order
// and at most window items are between the source and the caller; with 0, in completion order.
func New(ctx context.Context, window int) *Pipeline {
	p := &Pipeline{inFlight: map[int]any{}, parent: ctx}
	p.g, p.ctx = errgroup.WithContext(ctx)
	if window > 0 {
		p.gate = make(chan struct{}, window)
	}
	return p
}

// send hands v on, unless the pipeline stops first.
func send[T any](p *Pipeline, out chan<- Item[T], it Item[T]) bool {
	select {
	case out <- it:
		return true
	case <-p.ctx.Done():
		return false
	}
}

// Source sends every item into a channel of the given buffer, and closes it at the end.
func Source[T any](p *Pipeline, items iter.Seq[T], buffer int) <-chan Item[T] {
	out := make(chan Item[T], buffer)
	p.g.Go(func() error {
		defer close(out) // Go's way to say "no more": every stage closes in turn after it
		i := 0
		for v := range items {
			if p.gate != nil { // ordered: wait for a place before reading on
				select {
				case p.gate <- struct{}{}:
				case <-p.ctx.Done():
					return nil
				}
			}
			p.mu.Lock()
			p.inFlight[i] = v
			p.mu.Unlock()
			if !send(p, out, Item[T]{i, v}) {
				return nil
			}
			i++
		}
		return nil
	})
	return out
}

// --8<-- [start:stage]

// Stage starts workers goroutines that apply fn to each item from in and send the result on
// the channel it returns (of the given buffer), closed when the last worker is done. An error
// from fn cancels the whole pipeline; fn should return when its context is done.
func Stage[In, Out any](p *Pipeline, name string, workers, buffer int, in <-chan Item[In],
	fn func(context.Context, In) (Out, error)) <-chan Item[Out] {
	out := make(chan Item[Out], buffer)
	var stage sync.WaitGroup
	stage.Add(workers)
	for range workers {
		p.g.Go(func() error {
			defer stage.Done()
			for it := range in {
				if p.ctx.Err() != nil {
					return nil // stopped: what is left upstream stays in the books
				}
				v, err := fn(p.ctx, it.Value)
				if err != nil {
					if p.ctx.Err() != nil {
						return nil // fn saw the pipeline stop: that is not a failure of its own
					}
					// The group keeps the first error and cancels p.ctx with it.
					return &StageError{Stage: name, Index: it.Index, Item: it.Value, Err: err}
				}
				if !send(p, out, Item[Out]{it.Index, v}) {
					return nil
				}
			}
			return nil
		})
	}
	p.g.Go(func() error {
		stage.Wait()
		close(out) // the stage's last worker out closes the next channel
		return nil
	})
	return out
}

// --8<-- [end:stage]

// Collect receives every output — in completion order, or in the source's with a window —
// and waits for every goroutine. It returns the outputs and the first error: a *StageError,
// or the context's own cause if the caller cancelled it.
func Collect[T any](p *Pipeline, in <-chan Item[T]) ([]T, error) {
	var outputs []T
	early := map[int]T{} // the reorder buffer: outputs that overtook an older one
	next := 0
	deliver := func(index int, v T) {
		p.mu.Lock()
		delete(p.inFlight, index)
		p.mu.Unlock()
		outputs = append(outputs, v)
		if p.gate != nil {
			<-p.gate
		}
	}
	for it := range in {
		switch {
		case p.ctx.Err() != nil:
			// stopped: drain, so that no stage stays blocked; these stay unprocessed
		case p.gate == nil:
			deliver(it.Index, it.Value)
		default:
			early[it.Index] = it.Value
			for v, ok := early[next]; ok; v, ok = early[next] {
				delete(early, next)
				deliver(next, v)
				next++
			}
		}
	}
	err := p.g.Wait() // the first *StageError, if a stage failed
	if err == nil {
		err = context.Cause(p.parent) // the caller's cancellation, if any
	}
	var se *StageError
	if errors.As(err, &se) {
		se.Unprocessed = p.Unprocessed()
	}
	return outputs, err
}

// Unprocessed returns the source items read but whose output never reached the caller.
func (p *Pipeline) Unprocessed() []any {
	p.mu.Lock()
	defer p.mu.Unlock()
	keys := slices.Sorted(maps.Keys(p.inFlight))
	items := make([]any, len(keys))
	for i, k := range keys {
		items[i] = p.inFlight[k]
	}
	return items
}

// Demo is the demo workload of workloads.json.
type Demo struct {
	Lines int `json:"lines"`
	Bad   int `json:"bad"`
}

func lines(n, bad int) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := range n {
			line := strconv.Itoa(i)
			if i == bad {
				line = "oops"
			}
			if !yield(line) {
				return
			}
		}
	}
}

// squares runs parse (2 workers) -> square (3 workers) -> format (1 worker), in input order.
func squares(src iter.Seq[string]) ([]string, error) {
	p := New(context.Background(), 8)
	parsed := Stage(p, "parse", 2, 4, Source(p, src, 4), func(_ context.Context, s string) (int, error) {
		return strconv.Atoi(s)
	})
	squared := Stage(p, "square", 3, 4, parsed, func(_ context.Context, n int) (int, error) {
		return n * n, nil
	})
	formatted := Stage(p, "format", 1, 1, squared, func(_ context.Context, n int) (string, error) {
		return strconv.Itoa(n), nil
	})
	return Collect(p, formatted)
}

// run pushes the demo's lines through the pipeline, then again with one bad line.
func run(w io.Writer, d Demo) {
	good, err := squares(lines(d.Lines, -1))
	if err != nil {
		panic(err)
	}
	_, err = squares(lines(d.Lines, d.Bad))
	var se *StageError
	if !errors.As(err, &se) {
		panic(err)
	}
	fmt.Fprintf(w, "pipeline: %d lines -> parse x2 -> square x3 -> format x1, in input order: %s; "+
		"a bad line stops it: stage %s failed on item %d (%q)\n",
		d.Lines, strings.Join(good, " "), se.Stage, se.Index, se.Item)
}

func main() {
	var d Demo
	workloads.MustDemo("pipeline", &d)
	run(os.Stdout, d)
}
