// Singleflight: concurrent callers for the same key share one call.
//
// Python: concurrency_patterns.singleflight — AsyncioSingleFlight, AnyioSingleFlight,
// ThreadSingleFlight. Go services use golang.org/x/sync/singleflight, the guard against cache
// stampedes; there is no module proxy here, so the Group below is its semantics rewritten with
// the standard library only: Do, DoChan and Forget.
//
//	go run ./singleflight
package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"concurrency-patterns/go_equivalents/internal/workloads"
)

// --8<-- [start:go]

// call is one call in flight, or just finished.
type call struct {
	wg  sync.WaitGroup // done when fn has returned
	val any
	err error
	// The callers waiting on this call beyond the first: Do reports shared = dups > 0.
	dups int
}

// Group runs one call per key at a time and shares its result among concurrent callers.
// The zero Group is ready to use. A Group must not be copied after first use.
type Group struct {
	mu sync.Mutex       // guards m
	m  map[string]*call // the calls in flight, by key
}

// Result is what DoChan delivers.
type Result struct {
	Val    any
	Err    error
	Shared bool
}

// Do calls fn for key unless a call for key is in flight, in which case it waits for that
// call and returns its result. shared reports whether the result went to more than one
// caller. A finished call is forgotten at once: the next Do for key calls fn again.
func (g *Group) Do(key string, fn func() (any, error)) (v any, err error, shared bool) {
	g.mu.Lock()
	if g.m == nil {
		g.m = make(map[string]*call)
	}
	if c, ok := g.m[key]; ok {
		c.dups++
		g.mu.Unlock()
		c.wg.Wait() // happens after fn returned: c.val and c.err are set
		return c.val, c.err, true
	}
	c := new(call)
	c.wg.Add(1)
	g.m[key] = c
	g.mu.Unlock()

	g.run(key, c, fn)
	return c.val, c.err, c.dups > 0
}

// DoChan is Do that does not block: the result arrives on the channel. The call goes on even
// if the caller stops listening, which is how a caller gives up without failing the others.
func (g *Group) DoChan(key string, fn func() (any, error)) <-chan Result {
	out := make(chan Result, 1) // buffered: the sender never waits for a caller who left
	go func() {
		v, err, shared := g.Do(key, fn)
		out <- Result{v, err, shared}
	}()
	return out
}

// Forget makes the next Do for key call fn, even while a call for key is in flight.
func (g *Group) Forget(key string) {
	g.mu.Lock()
	delete(g.m, key)
	g.mu.Unlock()
}

func (g *Group) run(key string, c *call, fn func() (any, error)) {
	defer func() {
		g.mu.Lock()
		if g.m[key] == c { // not forgotten and replaced meanwhile
			delete(g.m, key)
		}
		g.mu.Unlock()
		c.wg.Done()
	}()
	c.val, c.err = fn()
}

// --8<-- [end:go]

// Demo is the demo workload of workloads.json.
type Demo struct {
	Callers int `json:"callers"`
	Keys    int `json:"keys"`
	CallMS  int `json:"call_ms"`
}

// run sends the demo's callers at the keys at once and prints how many calls were made.
func run(w io.Writer, d Demo) {
	var g Group
	var mu sync.Mutex
	calls := map[string]int{}
	var wrong atomic.Int64
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range d.Callers {
		wg.Go(func() {
			key := fmt.Sprintf("k%d", i%d.Keys)
			start.Wait() // every caller asks at once
			v, _, _ := g.Do(key, func() (any, error) {
				mu.Lock()
				calls[key]++
				mu.Unlock()
				time.Sleep(time.Duration(d.CallMS) * time.Millisecond)
				return "value of " + key, nil
			})
			if v != "value of "+key {
				wrong.Add(1)
			}
		})
	}
	start.Done()
	wg.Wait()
	total, most := 0, 0
	for _, n := range calls {
		total += n
		most = max(most, n)
	}
	right := "yes"
	if wrong.Load() > 0 {
		right = "no"
	}
	fmt.Fprintf(w, "singleflight: %d callers on %d keys: %d calls made, at most %d per key; every caller got its key's value: %s\n",
		d.Callers, d.Keys, total, most, right)
}

func main() {
	var d Demo
	workloads.MustDemo("singleflight", &d)
	run(os.Stdout, d)
}
