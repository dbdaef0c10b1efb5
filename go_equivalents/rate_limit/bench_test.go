package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"golang.org/x/time/rate"
)

// Workload is a benchmark workload of workloads.json: calls acquisitions from tasks
// goroutines through one limiter. Impl picks the version: "xtime" (the default, rate.Limiter)
// or "gcra" (the teaching version).
type Workload struct {
	Calls int     `json:"calls"`
	Rate  float64 `json:"rate"`
	Burst int     `json:"burst"`
	Tasks int     `json:"tasks"`
	Impl  string  `json:"impl"`
}

func setup(raw json.RawMessage) (func() error, func(), error) {
	var w Workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, err
	}
	if _, err := NewLimiter(w.Rate, w.Burst); err != nil { // x/time would take anything
		return nil, nil, err
	}
	var newLimiter func() waiter
	switch w.Impl {
	case "", "xtime":
		newLimiter = func() waiter { return rate.NewLimiter(rate.Limit(w.Rate), w.Burst) }
	case "gcra":
		newLimiter = func() waiter { l, _ := NewLimiter(w.Rate, w.Burst); return l }
	default:
		return nil, nil, fmt.Errorf("no rate limiter version %q", w.Impl)
	}
	run := func() error {
		limiter := newLimiter() // a fresh, full bucket every round
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
