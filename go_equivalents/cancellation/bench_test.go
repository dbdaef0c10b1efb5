package main

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// Workload is a benchmark workload of workloads.json: enter and leave that many deadline
// scopes one after another (context.WithTimeout, then cancel), or, with waiters, start that many
// goroutines waiting on one context and cancel it: the cost of stopping them all.
type Workload struct {
	Scopes  int `json:"scopes"`
	Waiters int `json:"waiters"`
}

func setup(raw json.RawMessage) (func() error, func(), error) {
	var w Workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, err
	}
	run := func() error {
		if w.Waiters == 0 {
			for range w.Scopes {
				_, cancel := context.WithTimeout(context.Background(), time.Hour)
				cancel()
			}
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		var started, wg sync.WaitGroup
		started.Add(w.Waiters)
		for range w.Waiters {
			wg.Go(func() {
				started.Done()
				<-ctx.Done()
			})
		}
		started.Wait()
		cancel()
		wg.Wait()
		return nil
	}
	return run, func() {}, nil
}
