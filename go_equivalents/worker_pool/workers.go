// The worker pool in its classic shape, written with the standard library: W goroutines read
// jobs from one channel, and a context cancelled with the first error stops them (a teaching
// version: it is what errgroup's SetLimit replaces). Map, in main.go, is what a Go service
// writes today; the tests run the same contract over both, and the benchmarks time both.
package main

import (
	"context"
	"sync"
)

// MapWorkers is Map in the classic shape: workers goroutines take job indexes from one
// channel. It keeps the same contract.
// The first job to fail cancels the context the others run under, no new job starts, and Map
// returns a *JobError for it. Map returns only after every goroutine it started has finished.
func MapWorkers[J, R any](
	ctx context.Context, fn func(context.Context, J) (R, error), jobs []J, workers int,
) ([]R, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	results := make([]R, len(jobs))

	// --8<-- [start:workers]

	// The jobs channel: a feeder sends each job's index until every job is sent or we stop.
	indexes := make(chan int)
	go func() {
		defer close(indexes)
		for i := range jobs {
			select {
			case indexes <- i:
			case <-ctx.Done():
				return
			}
		}
	}()

	// The workers: each takes the next index, runs the job, and stores its result in place.
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range indexes {
				if ctx.Err() != nil {
					continue // stopped: start no new job, just let the feeder close
				}
				r, err := fn(ctx, jobs[i])
				if err != nil {
					cancel(&JobError[J]{Index: i, Job: jobs[i], Err: err}) // only the first counts
					continue
				}
				results[i] = r
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return results, nil
	// --8<-- [end:workers]

}
