// Bounded concurrent fetch: get N URLs with at most limit requests in flight.
//
// Python: fetch in concurrency_patterns.asyncio, .anyio and .threads. Go needs no event loop
// and no pool of threads: golang.org/x/sync/errgroup's SetLimit runs at most limit goroutines
// at once, each one request, and the loop that starts them waits for room.
//
//	go run ./bounded_fetch
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"concurrency-patterns/go_equivalents/internal/workloads"
)

// Result is what one URL gave, in the order of the input.
type Result struct {
	URL      string
	Status   int // 0 when no answer arrived
	Body     []byte
	Header   http.Header
	Elapsed  time.Duration // from getting a slot to the last byte
	Err      error         // a *FetchError for no answer, a timeout, a 5xx or a 429; nil otherwise
	Attempts int           // how many times it was tried (Politely); 1 otherwise
}

// FetchError says which URL failed and why. Python: bounded_fetch.FetchError.
type FetchError struct {
	URL    string
	Index  int
	Status int // the 5xx or 429 status, or 0 when no answer arrived
	Err    error
}

func (e *FetchError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s: HTTP %d", e.URL, e.Status)
	}
	return fmt.Sprintf("%s: %v", e.URL, e.Err)
}

func (e *FetchError) Unwrap() error { return e.Err }

// --8<-- [start:go]

// NewClient returns the one client a whole call shares. Its pool keeps limit connections to a
// host, so that no request holding a slot waits for a connection (the default keeps 2, and a
// burst of 100 would open and close connections all the time).
func NewClient(limit int) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxConnsPerHost = limit
	transport.MaxIdleConnsPerHost = limit
	return &http.Client{Transport: transport}
}

// FetchAll fetches every URL with at most limit requests in flight, each bounded by timeout.
// It returns one Result per URL in input order; a failing URL is a Result with Err set and
// never stops the others. Cancelling ctx stops every request, and FetchAll returns only after
// every goroutine it started has finished.
func FetchAll(
	ctx context.Context, client *http.Client, urls []string, limit int, timeout time.Duration,
) []Result {
	results := make([]Result, len(urls))
	var g errgroup.Group
	g.SetLimit(limit) // g.Go blocks while limit requests are in flight
	for i, url := range urls {
		if err := ctx.Err(); err != nil { // cancelled: the rest never start
			results[i] = Result{URL: url, Err: &FetchError{URL: url, Index: i, Err: err}}
			continue
		}
		g.Go(func() error {
			results[i] = fetch(ctx, client, i, url, timeout)
			return nil // a failing URL is its Result, not the group's error
		})
	}
	_ = g.Wait()
	return results
}

// --8<-- [end:go]

// FetchAllFailFast is FetchAll that stops at the first failure, as errgroup.WithContext does:
// the failure cancels a shared context, every other request sees it and stops, and the
// failure is returned. Python: fetch_all_*(..., fail_fast=True).
func FetchAllFailFast(
	ctx context.Context, client *http.Client, urls []string, limit int, timeout time.Duration,
) ([]Result, error) {
	// The group's context is cancelled by the first failure, which Wait returns.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	results := make([]Result, len(urls))
	for i, url := range urls {
		if gctx.Err() != nil {
			break // stopped: start no more
		}
		g.Go(func() error {
			results[i] = fetch(gctx, client, i, url, timeout)
			if err := results[i].Err; err != nil && gctx.Err() == nil {
				return err // the first failure stops the others
			}
			return nil
		})
	}
	err := g.Wait()
	if err == nil {
		err = context.Cause(ctx) // the caller's cancellation, if any
	}
	return results, err
}

// --8<-- [start:polite]

// Politely is FetchAll for a crawler, against servers it does not own: every request, each
// retry included, waits for one shared rate limiter (x/time/rate), and a 429, 502, 503 or
// 504 answer or a failed connection is tried again, up to retries more times, after what the
// server's Retry-After asks or a backoff with full jitter. Python: fetch(urls,
// max_per_second=perSecond, retries=retries).
func Politely(
	ctx context.Context, client *http.Client, urls []string, limit int, perSecond float64,
	retries int, timeout time.Duration,
) []Result {
	limiter := rate.NewLimiter(rate.Limit(perSecond), 1)
	results := make([]Result, len(urls))
	var g errgroup.Group
	g.SetLimit(limit)
	for i, url := range urls {
		g.Go(func() error {
			for attempt := 1; ; attempt++ {
				if err := limiter.Wait(ctx); err != nil { // cancelled while waiting
					results[i] = Result{URL: url, Err: &FetchError{URL: url, Index: i, Err: err}}
					return nil
				}
				r := fetch(ctx, client, i, url, timeout)
				r.Attempts = attempt
				results[i] = r
				if attempt > retries || !retryable(r) {
					return nil
				}
				select {
				case <-time.After(retryWait(r, attempt)):
				case <-ctx.Done():
					return nil
				}
			}
		})
	}
	_ = g.Wait()
	return results
}

// --8<-- [end:polite]

// retryable: worth asking again. A 4xx other than 429 is an answer, not a failure.
func retryable(r Result) bool {
	switch r.Status {
	case 0:
		return r.Err != nil // no answer: a connection error or a timeout
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable,
		http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryWait is what the server's Retry-After asks (seconds or an HTTP date), or else a full
// jitter backoff: anywhere from 0 to 100 ms * 2^(attempt-1), at most 10 s.
func retryWait(r Result, attempt int) time.Duration {
	if after := r.Header.Get("Retry-After"); after != "" {
		if seconds, err := strconv.Atoi(after); err == nil {
			return time.Duration(seconds) * time.Second
		}
		if when, err := http.ParseTime(after); err == nil {
			return time.Until(when)
		}
	}
	bound := min(10*time.Second, 100*time.Millisecond<<(attempt-1))
	return rand.N(bound + 1)
}

func fetch(ctx context.Context, client *http.Client, index int, url string, timeout time.Duration) Result {
	ctx, cancel := context.WithTimeout(ctx, timeout) // bounds the whole request, body included
	defer cancel()
	start := time.Now()
	failed := func(status int, err error) Result {
		return Result{URL: url, Status: status, Elapsed: time.Since(start),
			Err: &FetchError{URL: url, Index: index, Status: status, Err: err}}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return failed(0, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return failed(0, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return failed(0, err)
	}
	result := Result{URL: url, Status: resp.StatusCode, Body: body, Header: resp.Header,
		Elapsed: time.Since(start), Attempts: 1}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		result.Err = &FetchError{URL: url, Index: index, Status: resp.StatusCode, Err: errors.New(resp.Status)}
	}
	return result
}

// Demo is the demo workload of workloads.json.
type Demo struct {
	URLs    int   `json:"urls"`
	Limit   int   `json:"limit"`
	DelayMS int   `json:"delay_ms"`
	Failing []int `json:"failing"`
}

// run fetches the demo's URLs from a loopback server and prints the line the Python demo prints.
func run(w io.Writer, d Demo) {
	server := StartServer()
	defer server.Close()
	urls := make([]string, d.URLs)
	for i := range urls {
		status := http.StatusOK
		for _, bad := range d.Failing {
			if i == bad {
				status = http.StatusServiceUnavailable
			}
		}
		urls[i] = server.URL(i, time.Duration(d.DelayMS)*time.Millisecond, status)
	}
	results := FetchAll(context.Background(), NewClient(d.Limit), urls, d.Limit, 10*time.Second)
	var failed []string
	for i, r := range results {
		if r.Err != nil {
			failed = append(failed, fmt.Sprintf("item %d: HTTP %d", i, r.Status))
		}
	}
	fmt.Fprintf(w, "bounded_fetch: %d URLs, limit %d: %d ok, %d failed (%s), at most %d in flight\n",
		len(urls), d.Limit, len(urls)-len(failed), len(failed), strings.Join(failed, ", "), server.MaxInFlight())
}

func main() {
	var d Demo
	workloads.MustDemo("bounded_fetch", &d)
	run(os.Stdout, d)
}
