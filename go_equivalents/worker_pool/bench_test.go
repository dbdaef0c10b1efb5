package main

import (
	"context"
	"encoding/json"
	"time"
)

// Workload is a benchmark workload of workloads.json: jobs that return at once (to measure the
// cost of dispatching a job) or that sleep for SleepMS (to compare with the floor,
// ceil(jobs/workers) × sleep).
type Workload struct {
	Jobs    int `json:"jobs"`
	Workers int `json:"workers"`
	SleepMS int `json:"sleep_ms"`
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
