package main

import (
	"context"
	"encoding/json"
	"time"
)

// Workload is a benchmark workload of workloads.json: jobs that return at once (to measure the
// cost of dispatching a job), that sleep for SleepMS (to compare with the floor,
// ceil(jobs/workers) × sleep), or that compute spin(Spin) (CPU-bound, on every core).
type Workload struct {
	Jobs    int `json:"jobs"`
	Workers int `json:"workers"`
	SleepMS int `json:"sleep_ms"`
	Spin    int `json:"spin"`
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
	run := func() error {
		_, err := Map(context.Background(), job, jobs, w.Workers)
		return err
	}
	return run, func() {}, nil
}
