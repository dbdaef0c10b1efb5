// Worker pool: run a function on many jobs, a bounded number at once.
//
// Python: map in concurrency_patterns.asyncio, .anyio, .threads and .processes, all with
// errgroup's error rule. Go has no exceptions: a job returns an error, and the first one
// cancels a context every job shares, so the rest stop early. Map uses
// golang.org/x/sync/errgroup, as a Go service does; workers.go is the classic shape, W
// goroutines reading one channel (a teaching version).
//
//	go run ./worker_pool
package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sync/errgroup"

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

// Map runs fn on every job, at most limit at once, and returns the results in input order.
// The first job to fail cancels the context the others run under, no new job starts, and Map
// returns a *JobError for it; if ctx is cancelled first, Map returns ctx's error. Map returns
// only after every goroutine it started has finished.
func Map[J, R any](
	ctx context.Context, fn func(context.Context, J) (R, error), jobs []J, limit int,
) ([]R, error) {
	// The group's context is cancelled by the first error, or with ctx.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit) // g.Go blocks while limit jobs run
	results := make([]R, len(jobs))
	for i, job := range jobs {
		if gctx.Err() != nil {
			break // stopped: start no new job
		}
		g.Go(func() error {
			if gctx.Err() != nil {
				return nil // stopped while this job waited for room
			}
			r, err := fn(gctx, job)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err() // the caller's cancellation, not a failure of this job
				}
				return &JobError[J]{Index: i, Job: job, Err: err}
			}
			results[i] = r // each job writes its own slot: no lock needed
			return nil
		})
	}
	// Wait returns the first error; the caller's cancellation wins over a job's.
	if err := g.Wait(); err != nil || ctx.Err() != nil {
		return nil, cmp.Or(ctx.Err(), err)
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
