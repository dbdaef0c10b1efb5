package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

// Workload is a benchmark workload of workloads.json: items byte strings of size bytes
// through parse (count the commas) -> transform (2n+1) -> sink (add up), with the given
// workers per stage and buffer per channel.
type Workload struct {
	Items   int   `json:"items"`
	Size    int   `json:"size"`
	Workers []int `json:"workers"`
	Buffer  int   `json:"buffer"`
}

func setup(raw json.RawMessage) (func() error, func(), error) {
	var w Workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, err
	}
	if len(w.Workers) != 3 {
		return nil, nil, fmt.Errorf("pipeline: want 3 stages' workers, got %v", w.Workers)
	}
	item := bytes.Repeat([]byte("1234567,"), w.Size/8)
	items := slices.Repeat([][]byte{item}, w.Items)
	commas := w.Size / 8
	run := func() error {
		p := New(context.Background(), 0)
		total := 0
		parsed := Stage(p, "parse", w.Workers[0], w.Buffer, Source(p, slices.Values(items), w.Buffer),
			func(_ context.Context, b []byte) (int, error) { return bytes.Count(b, []byte{','}), nil })
		transformed := Stage(p, "transform", w.Workers[1], w.Buffer, parsed,
			func(_ context.Context, n int) (int, error) { return 2*n + 1, nil })
		sunk := Stage(p, "sink", w.Workers[2], w.Workers[2], transformed,
			func(_ context.Context, n int) (int, error) { total += n; return n, nil })
		outputs, err := Collect(p, sunk)
		if err != nil {
			return err
		}
		if len(outputs) != w.Items || total != w.Items*(2*commas+1) {
			return fmt.Errorf("pipeline: %d outputs, total %d", len(outputs), total)
		}
		return nil
	}
	return run, func() {}, nil
}
