package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sourcegraph/conc/pool"
)

// Workload is a benchmark workload of workloads.json: jobs that return at once (to measure the
// cost of dispatching a job), that sleep for SleepMS (to compare with the floor,
// ceil(jobs/workers) × sleep), or that compute spin(Spin) (CPU-bound, on every core).
// Impl picks the version: "errgroup" (the default, Map), "workers" (the classic MapWorkers)
// or "conc" (sourcegraph/conc's pool with errors, the other package a Go service reaches for).
type Workload struct {
	Jobs    int    `json:"jobs"`
	Workers int    `json:"workers"`
	SleepMS int    `json:"sleep_ms"`
	Spin    int    `json:"spin"`
	Impl    string `json:"impl"`
}

// mapConc is Map written with conc's pool: the first error cancels the rest, and each job
// writes its own result slot (conc's result pools return results in the order they finish).
func mapConc[J, R any](
	ctx context.Context, fn func(context.Context, J) (R, error), jobs []J, limit int,
) ([]R, error) {
	results := make([]R, len(jobs))
	p := pool.New().WithContext(ctx).WithCancelOnError().WithFirstError().WithMaxGoroutines(limit)
	for i, job := range jobs {
		p.Go(func(ctx context.Context) error {
			r, err := fn(ctx, job)
			if err != nil {
				return &JobError[J]{Index: i, Job: job, Err: err}
			}
			results[i] = r
			return nil
		})
	}
	if err := p.Wait(); err != nil {
		return nil, err
	}
	return results, nil
}

// spin burns CPU the way the Python side's spin(n) does: the same steps, the same result.
func spin(n int) int {
	acc := 0
	for i := range n {
		acc = (acc*31 + i) % 1_000_003
	}
	return acc
}

func setup(raw json.RawMessage) (func() error, func(), error) {
	var w Workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, err
	}
	jobs := make([]int, w.Jobs)
	for i := range jobs {
		jobs[i] = i
	}
	job := square
	if w.Spin > 0 {
		job = func(ctx context.Context, x int) (int, error) { return spin(w.Spin), nil }
	}
	if w.SleepMS > 0 {
		job = func(ctx context.Context, x int) (int, error) {
			time.Sleep(time.Duration(w.SleepMS) * time.Millisecond)
			return x * x, nil
		}
	}
	var mapFn func(context.Context, func(context.Context, int) (int, error), []int, int) ([]int, error)
	switch w.Impl {
	case "", "errgroup":
		mapFn = Map[int, int]
	case "workers":
		mapFn = MapWorkers[int, int]
	case "conc":
		mapFn = mapConc[int, int]
	default:
		return nil, nil, fmt.Errorf("no worker pool version %q", w.Impl)
	}
	run := func() error {
		_, err := mapFn(context.Background(), job, jobs, w.Workers)
		return err
	}
	return run, func() {}, nil
}
