package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"concurrency-patterns/go_equivalents/internal/harness"
	"concurrency-patterns/go_equivalents/internal/leakcheck"
	"concurrency-patterns/go_equivalents/internal/workloads"
)

// newServer starts a loopback server closed when the test ends.
func newServer(t *testing.T) *Server {
	s := StartServer()
	t.Cleanup(s.Close)
	return s
}

// newClient returns a client whose idle connections are dropped when the test ends.
func newClient(t *testing.T, limit int) *http.Client {
	c := NewClient(limit)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func TestOneResultPerURLInInputOrder(t *testing.T) {
	leakcheck.Check(t)
	s := newServer(t)
	statuses := []int{200, 404, 503, 200, 200, 500, 200}
	urls := make([]string, len(statuses))
	for i, status := range statuses {
		urls[i] = s.URL(i, 0, status)
	}
	results := FetchAll(context.Background(), newClient(t, 3), urls, 3, 5*time.Second)
	for i, r := range results {
		if r.URL != urls[i] || r.Status != statuses[i] || string(r.Body) != fmt.Sprintf("item %d", i) {
			t.Errorf("result %d = %s %d %q, want %s %d", i, r.URL, r.Status, r.Body, urls[i], statuses[i])
		}
		if failed := r.Err != nil; failed != (statuses[i] >= 500 || statuses[i] == 429) {
			t.Errorf("result %d: status %d, err %v: only 5xx and 429 are failures", i, r.Status, r.Err)
		}
	}
}

func TestInFlightNeverExceedsLimitAndReachesIt(t *testing.T) {
	for _, limit := range []int{1, 3, 8} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			leakcheck.Check(t)
			s := newServer(t)
			urls := make([]string, 3*limit)
			for i := range urls {
				urls[i] = s.URL(i, 50*time.Millisecond, http.StatusOK)
			}
			FetchAll(context.Background(), newClient(t, limit), urls, limit, 5*time.Second)
			if s.MaxInFlight() != limit || s.Requests() != len(urls) {
				t.Errorf("max in flight %d of %d requests, want %d of %d", s.MaxInFlight(), s.Requests(), limit, len(urls))
			}
		})
	}
}

func refusedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connecting is refused
	return "http://" + addr + "/item/0"
}

func TestOneBadURLNeverLosesTheOthers(t *testing.T) {
	leakcheck.Check(t)
	s := newServer(t)
	urls := []string{s.URL(0, 0, 200), refusedURL(t), s.URL(2, 0, 500), s.URL(3, 5*time.Second, 200), s.URL(4, 0, 200)}
	start := time.Now()
	results := FetchAll(context.Background(), newClient(t, 5), urls, 5, 300*time.Millisecond)
	if time.Since(start) > 3*time.Second {
		t.Fatal("the slow URL was not cut off by the timeout")
	}
	for i, wantOK := range []bool{true, false, false, false, true} {
		if ok := results[i].Err == nil; ok != wantOK {
			t.Errorf("url %d: err %v, want ok=%v", i, results[i].Err, wantOK)
		}
	}
	var fe *FetchError
	if !errors.As(results[3].Err, &fe) || !errors.Is(fe, context.DeadlineExceeded) {
		t.Errorf("slow url: %v, want a deadline error", results[3].Err)
	}
	if !errors.As(results[2].Err, &fe) || fe.Status != 500 || fe.Index != 2 {
		t.Errorf("5xx url: %v, want status 500 at index 2", results[2].Err)
	}
}

func TestFailFastReturnsTheFirstFailureAndStopsTheRest(t *testing.T) {
	leakcheck.Check(t)
	s := newServer(t)
	urls := []string{s.URL(0, time.Second, 200), s.URL(1, time.Second, 200), s.URL(2, 0, 502)}
	start := time.Now()
	_, err := FetchAllFailFast(context.Background(), newClient(t, 3), urls, 3, 5*time.Second)
	var fe *FetchError
	if !errors.As(err, &fe) || fe.Index != 2 || fe.Status != 502 {
		t.Fatalf("err = %v, want the 502 at index 2", err)
	}
	if time.Since(start) > 500*time.Millisecond {
		t.Error("the slow requests were not cancelled")
	}
}

func TestCancellingStopsEveryRequest(t *testing.T) {
	leakcheck.Check(t)
	s := newServer(t)
	urls := make([]string, 20)
	for i := range urls {
		urls[i] = s.URL(i, 10*time.Second, 200)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	results := FetchAll(ctx, newClient(t, 4), urls, 4, 30*time.Second)
	if time.Since(start) > time.Second {
		t.Fatal("FetchAll did not return promptly after cancellation")
	}
	for i, r := range results {
		if !errors.Is(r.Err, context.DeadlineExceeded) {
			t.Errorf("url %d: %v, want the context's error", i, r.Err)
		}
	}
	for deadline := time.Now().Add(2 * time.Second); s.InFlight() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if s.InFlight() != 0 || s.MaxInFlight() != 4 {
		t.Errorf("in flight %d after cancel (max %d), want 0 (max 4)", s.InFlight(), s.MaxInFlight())
	}
}

// The demo prints the same line as `python -m concurrency_patterns demo bounded_fetch`.
func Example() {
	var d Demo
	workloads.MustDemo("bounded_fetch", &d)
	run(os.Stdout, d)
	// Output:
	// bounded_fetch: 12 URLs, limit 4: 11 ok, 1 failed (item 7: HTTP 503), at most 4 in flight
}

// BenchmarkFetchAll runs the benchmark workloads of workloads.json, each against its own
// loopback server (the Python benchmarks share one server between Python and Go instead).
func BenchmarkFetchAll(b *testing.B) { harness.Bench(b, "bounded_fetch", setup) }

// TestServe is how the Python benchmarks time this pattern beside theirs: run with -serve
// (go test -c, then ./bounded_fetch.test -test.run '^TestServe$' -serve), it times the workloads asked
// for on stdin. Without -serve it is skipped. See internal/harness.
func TestPolitelyRetriesBusyAnswersAndKeepsTheRate(t *testing.T) {
	leakcheck.Check(t)
	s := newServer(t)
	urls := make([]string, 12)
	for i := range urls {
		urls[i] = s.URL(i, 0, http.StatusOK)
		if i%3 == 0 {
			urls[i] += fmt.Sprintf("?fail=%d", []int{503, 429}[i%2])
		}
	}
	start := time.Now()
	results := Politely(context.Background(), newClient(t, 4), urls, 4, 100, 2, 5*time.Second)
	took := time.Since(start)
	for i, r := range results {
		want := 1
		if i%3 == 0 {
			want = 2 // busy once, then served
		}
		if r.Err != nil || r.Attempts != want || string(r.Body) != fmt.Sprintf("item %d", i) {
			t.Errorf("result %d: %v after %d attempts, want item %d after %d", i, r.Err, r.Attempts, i, want)
		}
	}
	// 16 requests at 100/s, burst 1: at least 15 intervals.
	if took < 150*time.Millisecond {
		t.Errorf("16 requests at 100/s took %v, want at least 150ms", took)
	}
}

func TestServe(t *testing.T) { harness.Serve(t, "bounded_fetch", setup) }
