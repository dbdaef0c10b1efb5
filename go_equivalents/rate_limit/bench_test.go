package main

import (
	"context"
	"encoding/json"
	"sync"
)

// Workload is a benchmark workload of workloads.json: calls acquisitions from tasks
// goroutines through one limiter.
type Workload struct {
	Calls int     `json:"calls"`
	Rate  float64 `json:"rate"`
	Burst int     `json:"burst"`
	Tasks int     `json:"tasks"`
}

func setup(raw json.RawMessage) (func() error, func(), error) {
	var w Workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, err
	}
	run := func() error {
		limiter, err := NewLimiter(w.Rate, w.Burst) // a fresh, full bucket every round
		if err != nil {
			return err
		}
		var wg sync.WaitGroup
		for t := range w.Tasks {
			wg.Go(func() {
				for range w.Calls/w.Tasks + boolInt(t < w.Calls%w.Tasks) {
					_ = limiter.Wait(context.Background())
				}
			})
		}
		wg.Wait()
		return nil
	}
	return run, func() {}, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
