package main

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Workload is a benchmark workload of workloads.json: callers on keys at once, each call
// taking call_ms — the cost of joining a flight, and of the flights themselves. Impl picks
// the version: "xsync" (the default, singleflight) or "inside" (the teaching version).
type Workload struct {
	Callers int    `json:"callers"`
	Keys    int    `json:"keys"`
	CallMS  int    `json:"call_ms"`
	Impl    string `json:"impl"`
}

// doer is the Do both versions have.
type doer interface {
	Do(key string, fn func() (any, error)) (any, error, bool)
}

func setup(raw json.RawMessage) (func() error, func(), error) {
	var w Workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, err
	}
	keys := make([]string, w.Keys)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i)
	}
	var newGroup func() doer
	switch w.Impl {
	case "", "xsync":
		newGroup = func() doer { return new(singleflight.Group) }
	case "inside":
		newGroup = func() doer { return new(Group) }
	default:
		return nil, nil, fmt.Errorf("no singleflight version %q", w.Impl)
	}
	run := func() error {
		g := newGroup()
		var wg sync.WaitGroup
		for i := range w.Callers {
			wg.Go(func() {
				_, _, _ = g.Do(keys[i%w.Keys], func() (any, error) {
					time.Sleep(time.Duration(w.CallMS) * time.Millisecond)
					return nil, nil
				})
			})
		}
		wg.Wait()
		return nil
	}
	return run, func() {}, nil
}
