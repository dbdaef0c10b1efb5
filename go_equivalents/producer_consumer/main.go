// Producer–consumer: producers feed consumers through a bounded channel, closed when done.
//
// Python: concurrency_patterns.producer_consumer — asyncio.Queue with sentinels or with
// Queue.shutdown(), anyio memory object streams, queue.Queue and threads. In Go the channel is
// the queue: its capacity is the backpressure, close(ch) says "no more items", and each
// consumer's `for item := range ch` ends once the channel is closed and drained. There are no
// sentinels to count: that is the idiom Python's Queue.shutdown() (3.13) finally copies.
//
//	go run ./producer_consumer
package main

import (
	"context"
	"fmt"
	"io"
	"iter"
	"os"
	"sync"

	"concurrency-patterns/go_equivalents/internal/workloads"
)

// ProducerConsumerError reports a failed pipeline: the error that stopped it, and every item taken
// from a source but not consumed. Python: producer_consumer.ProducerConsumerError.
type ProducerConsumerError[T any] struct {
	Err         error
	Unprocessed []T
	Consumed    int
}

func (e *ProducerConsumerError[T]) Error() string {
	return fmt.Sprintf("pipeline stopped by %v (%d item(s) consumed, %d unprocessed)", e.Err, e.Consumed, len(e.Unprocessed))
}

func (e *ProducerConsumerError[T]) Unwrap() error { return e.Err }

// ticket is an item on its way through the channel, numbered so the ledger can find it.
type ticket[T any] struct {
	id   int
	item T
}

// ledger holds every item between "taken from a source" and "consumed", so none can vanish.
type ledger[T any] struct {
	mu       sync.Mutex
	pending  map[int]T
	next     int
	consumed int
}

func (l *ledger[T]) take(item T) ticket[T] {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := ticket[T]{l.next, item}
	l.pending[t.id] = item
	l.next++
	return t
}

func (l *ledger[T]) done(id int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pending, id)
	l.consumed++
}

func (l *ledger[T]) unprocessed() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]T, 0, len(l.pending))
	for id := range l.next { // in the order taken
		if item, ok := l.pending[id]; ok {
			out = append(out, item)
		}
	}
	return out
}

// Pipeline runs one producer goroutine per source (a lazy sequence, read as needed) and
// consumers consumer goroutines over a channel of capacity maxsize, and returns what consume
// returned for each item, in the order the items finished. Every item taken from a source is
// consumed exactly once, or, if consume fails or ctx is cancelled, reported in a
// *ProducerConsumerError; Pipeline returns only after every goroutine it started has finished.
func Pipeline[T, R any](
	ctx context.Context, sources []iter.Seq[T], consume func(context.Context, T) (R, error),
	consumers, maxsize int,
) ([]R, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	book := &ledger[T]{pending: map[int]T{}}
	ch := make(chan ticket[T], maxsize)

	// --8<-- [start:producers]

	// Producers: send each item until the source is exhausted or the pipeline stops. An item is
	// in the ledger from the moment it is drawn, so stopping never drops one unreported.
	var producers sync.WaitGroup
	for _, source := range sources {
		producers.Go(func() {
			for item := range source {
				select {
				case ch <- book.take(item):
				case <-ctx.Done(): // stopped while waiting for room
					return
				}
				if ctx.Err() != nil { // stopped: draw no more
					return
				}
			}
		})
	}
	// When the last producer is done, close the channel: the consumers' range loops end.
	go func() {
		producers.Wait()
		close(ch)
	}()
	// --8<-- [end:producers]

	// --8<-- [start:consumers]

	// Consumers: range until the channel is closed and drained.
	var mu sync.Mutex
	var results []R
	var consumersDone sync.WaitGroup
	for range consumers {
		consumersDone.Go(func() {
			for t := range ch {
				if ctx.Err() != nil {
					continue // stopped: drain without processing; the ledger keeps the item
				}
				r, err := consume(ctx, t.item)
				if err != nil {
					cancel(err) // the first cause wins; later ones are ignored
					continue
				}
				book.done(t.id)
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			}
		})
	}
	consumersDone.Wait() // the channel is closed, so every producer has returned too
	// --8<-- [end:consumers]

	if err := context.Cause(ctx); err != nil {
		return results, &ProducerConsumerError[T]{
			Err: err, Unprocessed: book.unprocessed(), Consumed: book.consumed,
		}
	}
	return results, nil
}

// Demo is the demo workload of workloads.json.
type Demo struct {
	Producers        int `json:"producers"`
	ItemsPerProducer int `json:"items_per_producer"`
	Consumers        int `json:"consumers"`
	Maxsize          int `json:"maxsize"`
}

func square(_ context.Context, x int) (int, error) { return x * x, nil }

// numbered splits 0..producers*per-1 into one source per producer.
func numbered(producers, per int) []iter.Seq[int] {
	sources := make([]iter.Seq[int], producers)
	for p := range sources {
		sources[p] = func(yield func(int) bool) {
			for i := range per {
				if !yield(p*per + i) {
					return
				}
			}
		}
	}
	return sources
}

func run(w io.Writer, d Demo) {
	results, err := Pipeline(context.Background(), numbered(d.Producers, d.ItemsPerProducer), square, d.Consumers, d.Maxsize)
	if err != nil {
		panic(err)
	}
	sum := 0
	for _, r := range results {
		sum += r
	}
	fmt.Fprintf(w, "producer_consumer: %d producers, %d consumers, queue of %d: %d items consumed, sum of squares %d\n",
		d.Producers, d.Consumers, d.Maxsize, len(results), sum)
}

func main() {
	var d Demo
	workloads.MustDemo("producer_consumer", &d)
	run(os.Stdout, d)
}
