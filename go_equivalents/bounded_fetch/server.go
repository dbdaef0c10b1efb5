package main

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a real HTTP server on 127.0.0.1 that answers GET /item/{i}?delay=S&status=C with
// "item i" after S seconds, with status C, and records the most requests it handled at once —
// so a client's promise of at most limit in flight is checked at the server. The Python tests,
// demo and benchmarks use the same URL scheme. With fail=C (429 or 503), the first request
// for that exact URL is answered C with "Retry-After: 0", and the next ones as usual: a
// crawl's share of busy answers, each worth one retry.
type Server struct {
	http     *http.Server
	base     string
	inFlight atomic.Int64
	most     atomic.Int64
	requests atomic.Int64
	failed   sync.Map // URL -> struct{}: the URLs already answered with their fail= status
}

// StartServer listens on a free loopback port and serves in a goroutine until Close.
func StartServer() *Server {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	s := &Server{base: "http://" + listener.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /item/{i}", s.item)
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(listener) }()
	return s
}

func (s *Server) item(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	now := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for { // keep the highest count seen; retry if another request raced us
		most := s.most.Load()
		if now <= most || s.most.CompareAndSwap(most, now) {
			break
		}
	}
	if delay, err := strconv.ParseFloat(r.URL.Query().Get("delay"), 64); err == nil && delay > 0 {
		select {
		case <-time.After(time.Duration(delay * float64(time.Second))):
		case <-r.Context().Done(): // the client gave up
			return
		}
	}
	if code, err := strconv.Atoi(r.URL.Query().Get("fail")); err == nil {
		if _, seen := s.failed.LoadOrStore(r.URL.String(), struct{}{}); !seen {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(code)
			return
		}
	}
	status := http.StatusOK
	if code, err := strconv.Atoi(r.URL.Query().Get("status")); err == nil {
		status = code
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, "item %s", r.PathValue("i"))
}

// URL is the address of item i, answered after delay with status.
func (s *Server) URL(i int, delay time.Duration, status int) string {
	url := fmt.Sprintf("%s/item/%d", s.base, i)
	sep := "?"
	if delay > 0 {
		url += fmt.Sprintf("%sdelay=%g", sep, delay.Seconds())
		sep = "&"
	}
	if status != http.StatusOK {
		url += fmt.Sprintf("%sstatus=%d", sep, status)
	}
	return url
}

// Base is the server's root URL.
func (s *Server) Base() string { return s.base }

// MaxInFlight is the most requests the server handled at once.
func (s *Server) MaxInFlight() int { return int(s.most.Load()) }

// Requests counts the requests the server received.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// InFlight counts the requests being handled now.
func (s *Server) InFlight() int { return int(s.inFlight.Load()) }

// Close stops the server and waits for its handlers.
func (s *Server) Close() { _ = s.http.Close() }
