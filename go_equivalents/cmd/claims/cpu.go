package main

import (
	"encoding/json"
	"os"
	"runtime"
	"sync"
	"time"
)

// fib is the articles' CPU benchmark, written the same naive way in both languages: about
// 2·fib(n+1) calls, each doing almost nothing, so it measures call overhead.
func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

// sink keeps the compiler from discarding results it can see are unused.
var sink int

type fibResult struct {
	N          int       `json:"n"`
	Units      int       `json:"units"`
	Goroutines int       `json:"goroutines"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	Seconds    []float64 `json:"seconds"`
	PeakRSS    int64     `json:"peak_rss"` // bytes: the runtime and the recursion, nothing else
}

// runFib times rounds of `units` fib(n) calls shared among `goroutines` goroutines.
func runFib(args []string) (any, error) {
	fs := flags("fib")
	n := fs.Int("n", 32, "fib(n)")
	units := fs.Int("units", 1, "fib(n) calls per round")
	goroutines := fs.Int("goroutines", 1, "goroutines sharing the units")
	repeat := fs.Int("repeat", 5, "timed rounds")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := positive(map[string]int{"n": *n, "units": *units, "goroutines": *goroutines, "repeat": *repeat}); err != nil {
		return nil, err
	}
	out := fibResult{N: *n, Units: *units, Goroutines: *goroutines, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	sink = fib(*n) // warm-up round, untimed
	for range *repeat {
		out.Seconds = append(out.Seconds, timeIt(func() { fibRound(*n, *units, *goroutines) }))
	}
	out.PeakRSS = peakRSS()
	return out, nil
}

func fibRound(n, units, goroutines int) {
	work := make(chan struct{}, units)
	for range units {
		work <- struct{}{}
	}
	close(work)
	results := make([]int, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range work {
				results[g] += fib(n)
			}
		})
	}
	wg.Wait()
	for _, r := range results {
		sink += r
	}
}

// Record is one entry of the JSON file the json subcommand parses (the ledger writes it).
type Record struct {
	ID     int      `json:"id"`
	Name   string   `json:"name"`
	Email  string   `json:"email"`
	Active bool     `json:"active"`
	Score  float64  `json:"score"`
	Tags   []string `json:"tags"`
}

type jsonResult struct {
	Records   int       `json:"records"`
	Bytes     int       `json:"bytes"`
	Typed     bool      `json:"typed"`
	Seconds   []float64 `json:"seconds"`
	PeakRSS   int64     `json:"peak_rss"`   // bytes: the most resident memory this process had
	FileBytes int       `json:"file_bytes"` // already in memory before the first round
}

// runJSON times json.Unmarshal of the whole file into []Record (typed) or []any (untyped, as
// Python's json.loads builds dicts). The file is read before timing: parsing is measured, not
// the disk.
func runJSON(args []string) (any, error) {
	fs := flags("json")
	file := fs.String("file", "", "a JSON array of records")
	untyped := fs.Bool("untyped", false, "decode into []any instead of []Record")
	repeat := fs.Int("repeat", 3, "timed rounds")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := positive(map[string]int{"repeat": *repeat}); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(*file)
	if err != nil {
		return nil, err
	}
	out := jsonResult{Typed: !*untyped, FileBytes: len(data)}
	for range *repeat {
		var count int
		var decodeErr error
		seconds := timeIt(func() {
			if *untyped {
				var records []any
				decodeErr = json.Unmarshal(data, &records)
				count = len(records)
			} else {
				var records []Record
				decodeErr = json.Unmarshal(data, &records)
				count = len(records)
			}
		})
		if decodeErr != nil {
			return nil, decodeErr
		}
		out.Records, out.Bytes = count, len(data)
		out.Seconds = append(out.Seconds, seconds)
		runtime.GC() // each round starts from the same heap
	}
	out.PeakRSS = peakRSS()
	return out, nil
}

func timeIt(f func()) float64 {
	start := time.Now()
	f()
	return time.Since(start).Seconds()
}
