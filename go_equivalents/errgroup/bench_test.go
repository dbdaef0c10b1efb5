package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// Workload is a benchmark workload of workloads.json: tasks functions that do nothing, started
// under a limit (0: none), then waited for — the cost of the group itself. Impl picks the
// version: "xsync" (the default, errgroup), "inside" (the teaching version) or "conc"
// (sourcegraph/conc's pool with errors, the other package a Go service reaches for).
type Workload struct {
	Tasks int    `json:"tasks"`
	Limit int    `json:"limit"`
	Impl  string `json:"impl"`
}

func setup(raw json.RawMessage) (func() error, func(), error) {
	var w Workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, err
	}
	var run func() error
	switch w.Impl {
	case "", "xsync":
		run = func() error {
			g, _ := errgroup.WithContext(context.Background())
			if w.Limit > 0 {
				g.SetLimit(w.Limit)
			}
			for range w.Tasks {
				g.Go(func() error { return nil })
			}
			return g.Wait()
		}
	case "inside":
		run = func() error {
			g, _ := WithContext(context.Background())
			if w.Limit > 0 {
				g.SetLimit(w.Limit)
			}
			for range w.Tasks {
				g.Go(func() error { return nil })
			}
			return g.Wait()
		}
	case "conc":
		run = func() error {
			p := pool.New().WithContext(context.Background()).WithCancelOnError().WithFirstError()
			if w.Limit > 0 {
				p = p.WithMaxGoroutines(w.Limit)
			}
			for range w.Tasks {
				p.Go(func(context.Context) error { return nil })
			}
			return p.Wait()
		}
	default:
		return nil, nil, fmt.Errorf("no errgroup version %q", w.Impl)
	}
	return run, func() {}, nil
}
