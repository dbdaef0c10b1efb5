package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sync/atomic"
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
	// A crawl: one URL in FailEvery is answered 503 or 429 the first time, and every request
	// waits for MaxPerSecond; each busy answer is retried (Politely).
	FailEvery    int     `json:"fail_every"`
	MaxPerSecond float64 `json:"max_per_second"`
	Retries      int     `json:"retries"`
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
	if w.FailEvery > 0 {
		return crawl(w, urls), cleanup, nil
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

// rounds numbers the crawl's rounds in this process; with the process's start time, each
// round's URLs are new to a server that outlives many processes.
var rounds atomic.Int64

var started = time.Now().UnixNano()

// crawl is a round of the crawl workload: the URLs of this round (fresh, so that each busy
// answer comes again), fetched Politely.
func crawl(w Workload, plain []string) func() error {
	return func() error {
		round := rounds.Add(1)
		urls := make([]string, len(plain))
		for i, url := range plain {
			urls[i] = fmt.Sprintf("%s&round=go-%d-%d", url, started, round)
			if i%w.FailEvery == 0 {
				urls[i] += fmt.Sprintf("&fail=%d", []int{503, 429}[i/w.FailEvery%2])
			}
		}
		client := NewClient(w.Limit)
		defer client.CloseIdleConnections()
		results := Politely(context.Background(), client, urls, w.Limit, w.MaxPerSecond,
			w.Retries, 10*time.Second)
		for _, r := range results {
			if r.Err != nil {
				return r.Err
			}
		}
		return nil
	}
}
