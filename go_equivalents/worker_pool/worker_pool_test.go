package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"concurrency-patterns/go_equivalents/internal/harness"
	"concurrency-patterns/go_equivalents/internal/leakcheck"
	"concurrency-patterns/go_equivalents/internal/workloads"
)

// mapper is Map's signature for int jobs; versions holds Map (errgroup) and the classic
// MapWorkers. Every contract below holds for both.
type mapper = func(context.Context, func(context.Context, int) (int, error), []int, int) ([]int, error)

var versions = map[string]mapper{"errgroup": Map[int, int], "workers": MapWorkers[int, int]}

func each(t *testing.T, test func(t *testing.T, Map mapper)) {
	for name, m := range versions {
		t.Run(name, func(t *testing.T) { test(t, m) })
	}
}

func TestResultsComeBackInInputOrder(t *testing.T) {
	each(t, func(t *testing.T, Map mapper) {
		for _, workers := range []int{1, 3, 16} {
			t.Run(fmt.Sprint(workers, " workers"), func(t *testing.T) {
				leakcheck.Check(t)
				jobs := []int{5, -3, 0, 12, 7, 7, 100}
				got, err := Map(context.Background(), square, jobs, workers)
				want := []int{25, 9, 0, 144, 49, 49, 10000}
				if err != nil || !slices.Equal(got, want) {
					t.Errorf("Map = %v, %v; want %v", got, err, want)
				}
			})
		}
	})
}

// gauge counts jobs running at once.
type gauge struct{ running, most, started, succeeded atomic.Int64 }

func (g *gauge) job(sleep time.Duration, failAt int) func(context.Context, int) (int, error) {
	return func(ctx context.Context, x int) (int, error) {
		g.started.Add(1)
		now := g.running.Add(1)
		defer g.running.Add(-1)
		for most := g.most.Load(); now > most && !g.most.CompareAndSwap(most, now); most = g.most.Load() {
		}
		if x == failAt {
			return 0, errors.New("bad job")
		}
		select {
		case <-time.After(sleep):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		g.succeeded.Add(1)
		return x, nil
	}
}

func TestAtMostWorkersJobsRunAtOnceAndThatManyDo(t *testing.T) {
	each(t, func(t *testing.T, Map mapper) {
		leakcheck.Check(t)
		var g gauge
		jobs := make([]int, 30)
		if _, err := Map(context.Background(), g.job(5*time.Millisecond, -1), jobs, 6); err != nil {
			t.Fatal(err)
		}
		if g.most.Load() != 6 || g.started.Load() != 30 {
			t.Errorf("most at once %d, started %d; want 6 and 30", g.most.Load(), g.started.Load())
		}
	})
}

func TestTheFirstErrorIsReturnedAndStopsTheRest(t *testing.T) {
	each(t, func(t *testing.T, Map mapper) {
		leakcheck.Check(t)
		var g gauge
		jobs := make([]int, 100)
		for i := range jobs {
			jobs[i] = i
		}
		_, err := Map(context.Background(), g.job(20*time.Millisecond, 3), jobs, 4)
		var jobErr *JobError[int]
		if !errors.As(err, &jobErr) || jobErr.Index != 3 || jobErr.Job != 3 {
			t.Fatalf("err = %v, want the JobError of job 3", err)
		}
		if g.started.Load() > 3+4+1 || g.succeeded.Load() > 3 {
			t.Errorf("started %d, succeeded %d: jobs kept going after the failure", g.started.Load(), g.succeeded.Load())
		}
	})
}

func TestCancellingStopsEveryWorker(t *testing.T) {
	each(t, func(t *testing.T, Map mapper) {
		leakcheck.Check(t)
		var g gauge
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := Map(ctx, g.job(10*time.Second, -1), make([]int, 50), 5)
		if !errors.Is(err, context.DeadlineExceeded) || g.running.Load() != 0 || g.started.Load() != 5 {
			t.Errorf("err %v, running %d, started %d; want the deadline, 0, 5", err, g.running.Load(), g.started.Load())
		}
	})
}

// The demo prints the same line as `python -m concurrency_patterns demo worker_pool`.
func Example() {
	var d Demo
	workloads.MustDemo("worker_pool", &d)
	run(os.Stdout, d)
	// Output:
	// worker_pool: 4 workers, 10 jobs: squares [1 4 9 16 25 36 49 64 81 100]; with job 7 failing: first error names index 6, job 7
}

func BenchmarkMap(b *testing.B) {
	harness.Bench(b, "worker_pool", setup, "errgroup", "workers", "conc")
}

// TestServe is how the Python benchmarks time this pattern beside theirs: run with -serve
// (go test -c, then ./worker_pool.test -test.run '^TestServe$' -serve), it times the workloads asked
// for on stdin. Without -serve it is skipped. See internal/harness.
func TestServe(t *testing.T) { harness.Serve(t, "worker_pool", setup) }
