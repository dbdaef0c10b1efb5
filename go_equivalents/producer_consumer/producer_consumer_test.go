package main

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"concurrency-patterns/go_equivalents/internal/harness"
	"concurrency-patterns/go_equivalents/internal/leakcheck"
	"concurrency-patterns/go_equivalents/internal/workloads"
)

// tally records what was consumed, from every consumer goroutine.
type tally struct {
	mu       sync.Mutex
	consumed []int
}

func (t *tally) consume(delay time.Duration, failOn int) func(context.Context, int) (int, error) {
	return func(ctx context.Context, x int) (int, error) {
		if x == failOn {
			return 0, fmt.Errorf("cannot consume %d", x)
		}
		time.Sleep(delay)
		t.mu.Lock()
		t.consumed = append(t.consumed, x)
		t.mu.Unlock()
		return x * x, nil
	}
}

func all(sources []iter.Seq[int]) []int {
	var items []int
	for _, source := range sources {
		items = slices.AppendSeq(items, source)
	}
	return items
}

func TestEveryItemIsConsumedExactlyOnce(t *testing.T) {
	for _, c := range []struct{ producers, per, consumers, maxsize int }{{1, 0, 1, 1}, {1, 50, 1, 1}, {3, 20, 4, 2}, {4, 30, 2, 8}} {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			leakcheck.Check(t)
			var got tally
			results, err := Pipeline(context.Background(), numbered(c.producers, c.per), got.consume(0, -1), c.consumers, c.maxsize)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got.consumed)
			want := all(numbered(c.producers, c.per))
			if !slices.Equal(got.consumed, want) || len(results) != len(want) {
				t.Errorf("consumed %v, want %v", got.consumed, want)
			}
		})
	}
}

func TestBackpressureBoundsHowFarProducersGetAhead(t *testing.T) {
	leakcheck.Check(t)
	const producers, consumers, maxsize = 2, 1, 4
	var taken, started, mostAhead atomic.Int64
	counted := make([]iter.Seq[int], producers)
	for p, source := range numbered(producers, 15) {
		counted[p] = func(yield func(int) bool) {
			for item := range source {
				ahead := taken.Add(1) - started.Load()
				for most := mostAhead.Load(); ahead > most && !mostAhead.CompareAndSwap(most, ahead); most = mostAhead.Load() {
				}
				if !yield(item) {
					return
				}
			}
		}
	}
	slow := func(_ context.Context, x int) (int, error) {
		started.Add(1)
		time.Sleep(2 * time.Millisecond)
		return x, nil
	}
	if _, err := Pipeline(context.Background(), counted, slow, consumers, maxsize); err != nil {
		t.Fatal(err)
	}
	// The buffer, one item in each producer's hands, one in each consumer's.
	if ahead := mostAhead.Load(); ahead < maxsize || ahead > maxsize+producers+consumers {
		t.Errorf("producers got %d items ahead, want %d..%d", ahead, maxsize, maxsize+producers+consumers)
	}
}

func TestAFailingConsumerStopsThePipelineAndLosesNothing(t *testing.T) {
	for _, failOn := range []int{0, 7, 29} {
		t.Run(fmt.Sprint("fail on ", failOn), func(t *testing.T) {
			leakcheck.Check(t)
			var got tally
			sources := numbered(3, 10)
			_, err := Pipeline(context.Background(), sources, got.consume(time.Millisecond, failOn), 2, 2)
			var pe *ProducerConsumerError[int]
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ProducerConsumerError", err)
			}
			if !slices.Contains(pe.Unprocessed, failOn) || pe.Consumed != len(got.consumed) {
				t.Errorf("unprocessed %v (consumed %d of %d): the failing item must be unprocessed", pe.Unprocessed, pe.Consumed, len(got.consumed))
			}
			for _, item := range pe.Unprocessed {
				if slices.Contains(got.consumed, item) {
					t.Errorf("item %d is both consumed and unprocessed", item)
				}
			}
		})
	}
}

func TestCancellingReportsTheUnprocessedItems(t *testing.T) {
	leakcheck.Check(t)
	var got tally
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := Pipeline(ctx, numbered(2, 100), got.consume(5*time.Millisecond, -1), 2, 3)
	var pe *ProducerConsumerError[int]
	if !errors.As(err, &pe) || !errors.Is(err, context.DeadlineExceeded) || len(pe.Unprocessed) == 0 {
		t.Fatalf("err = %v, want a *ProducerConsumerError caused by the deadline", err)
	}
}

// The demo prints the same line as `python -m concurrency_patterns demo producer_consumer`.
func Example() {
	var d Demo
	workloads.MustDemo("producer_consumer", &d)
	run(os.Stdout, d)
	// Output:
	// producer_consumer: 3 producers, 2 consumers, queue of 4: 15 items consumed, sum of squares 1015
}

func BenchmarkPipeline(b *testing.B) { harness.Bench(b, "producer_consumer", setup) }

// TestServe is how the Python benchmarks time this pattern beside theirs: run with -serve
// (go test -c, then ./producer_consumer.test -test.run '^TestServe$' -serve), it times the workloads asked
// for on stdin. Without -serve it is skipped. See internal/harness.
func TestServe(t *testing.T) { harness.Serve(t, "producer_consumer", setup) }
