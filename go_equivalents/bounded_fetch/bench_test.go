package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"testing"
	"time"
)

var serverFlag = flag.Bool("server", false, "serve the loopback test server until stdin closes; print its URL first")

// TestLoopbackServer is the one fetch target of the Python benchmarks: run with -server (go
// test -c, then ./bounded_fetch.test -test.run '^TestLoopbackServer$' -server), it prints the
// server's URL as JSON and serves until stdin closes, the Python side's way of saying stop.
// Without -server it is skipped.
func TestLoopbackServer(t *testing.T) {
	if !*serverFlag {
		t.Skip("serves only with -server: the Python benchmarks' fetch target")
	}
	s := StartServer()
	defer s.Close()
	fmt.Printf("{\"url\": %q}\n", s.Base())
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// Workload is a benchmark workload of workloads.json. BaseURL, given by the Python benchmark,
// names the shared server; without it the workload starts its own.
type Workload struct {
	URLs    int    `json:"urls"`
	Limit   int    `json:"limit"`
	DelayMS int    `json:"delay_ms"`
	BaseURL string `json:"base_url"`
}

func setup(raw json.RawMessage) (func() error, func(), error) {
	var w Workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, err
	}
	cleanup := func() {}
	if w.BaseURL == "" {
		s := StartServer()
		w.BaseURL, cleanup = s.Base(), s.Close
	}
	urls := make([]string, w.URLs)
	for i := range urls {
		urls[i] = fmt.Sprintf("%s/item/%d?delay=%g", w.BaseURL, i, float64(w.DelayMS)/1000)
	}
	run := func() error {
		// A new client each round, as each Python call opens one session: connections are
		// part of the work measured, on both sides.
		client := NewClient(w.Limit)
		defer client.CloseIdleConnections()
		for _, r := range FetchAll(context.Background(), client, urls, w.Limit, 10*time.Second) {
			if r.Err != nil {
				return r.Err
			}
		}
		return nil
	}
	return run, cleanup, nil
}
