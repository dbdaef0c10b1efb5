// Worker pool: W goroutines take jobs from one channel and run a function on each.
//
// Python: concurrency_patterns.worker_pool — map_asyncio, map_anyio, map_threads,
// map_processes, all with errgroup's error rule. Go has no exceptions: a job returns an error,
// and the first one cancels a context shared by every worker (what golang.org/x/sync/errgroup
// does; here with the standard library only), so the rest stop early.
//
//	go run ./worker_pool
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"concurrency-patterns/go_equivalents/internal/workloads"
)

// JobError names the job that failed. Python: concurrency_patterns.JobError.
type JobError[J any] struct {
	Index int
	Job   J
	Err   error
}

func (e *JobError[J]) Error() string {
	return fmt.Sprintf("job %d (%v) failed: %v", e.Index, e.Job, e.Err)
}

func (e *JobError[J]) Unwrap() error { return e.Err }

// --8<-- [start:go]

// Map runs fn on every job with workers goroutines and returns the results in input order.
// The first job to fail cancels the context the others run under, no new job starts, and Map
// returns a *JobError for it. Map returns only after every goroutine it started has finished.
func Map[J, R any](
	ctx context.Context, fn func(context.Context, J) (R, error), jobs []J, workers int,
) ([]R, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	results := make([]R, len(jobs))

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
}

// --8<-- [end:go]

// Demo is the demo workload of workloads.json.
type Demo struct {
	Jobs       int `json:"jobs"`
	Workers    int `json:"workers"`
	FailingJob int `json:"failing_job"`
}

func square(_ context.Context, x int) (int, error) { return x * x, nil }

func run(w io.Writer, d Demo) {
	jobs := make([]int, d.Jobs)
	for i := range jobs {
		jobs[i] = i + 1
	}
	squares, err := Map(context.Background(), square, jobs, d.Workers)
	if err != nil {
		panic(err)
	}
	failing := func(ctx context.Context, x int) (int, error) {
		if x == d.FailingJob {
			return 0, fmt.Errorf("job %d is bad", x)
		}
		return square(ctx, x)
	}
	_, err = Map(context.Background(), failing, jobs, d.Workers)
	jobErr := err.(*JobError[int])
	fmt.Fprintf(w, "worker_pool: %d workers, %d jobs: squares [%s]; with job %d failing: first error names index %d, job %d\n",
		d.Workers, d.Jobs, strings.Trim(fmt.Sprint(squares), "[]"), d.FailingJob, jobErr.Index, jobErr.Job)
}

func main() {
	var d Demo
	workloads.MustDemo("worker_pool", &d)
	run(os.Stdout, d)
}
