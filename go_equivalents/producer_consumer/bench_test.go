package main

import (
	"context"
	"encoding/json"
	"fmt"
)

// Workload is a benchmark workload of workloads.json: items split evenly among producers,
// each consumed by squaring it — the cost measured is the channel's, not the work's.
type Workload struct {
	Producers int `json:"producers"`
	Consumers int `json:"consumers"`
	Items     int `json:"items"`
	Maxsize   int `json:"maxsize"`
}

func setup(raw json.RawMessage) (func() error, func(), error) {
	var w Workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, err
	}
	sources := numbered(w.Producers, w.Items/w.Producers)
	run := func() error {
		results, err := Pipeline(context.Background(), sources, square, w.Consumers, w.Maxsize)
		if err == nil && len(results) != w.Items {
			err = fmt.Errorf("consumed %d of %d items", len(results), w.Items)
		}
		return err
	}
	return run, func() {}, nil
}
