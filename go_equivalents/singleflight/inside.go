// What golang.org/x/sync/singleflight does inside, written with the standard library: a
// teaching version. The program uses the real module (main.go); the tests run the same
// contract over both, and the benchmarks time both.
package main

import "sync"

// call is one call in flight, or just finished.
type call struct {
	wg  sync.WaitGroup // done when fn has returned
	val any
	err error
	// The callers waiting on this call beyond the first: Do reports shared = dups > 0.
	dups int
}

// Group runs one call per key at a time and shares its result among concurrent callers, as
// singleflight.Group does. The zero Group is ready to use. A Group must not be copied after
// first use.
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

// --8<-- [start:do]

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

// --8<-- [end:do]

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

// --8<-- [start:run]

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

// --8<-- [end:run]
