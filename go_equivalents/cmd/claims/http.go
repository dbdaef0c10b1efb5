package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// listen serves handler on a free loopback port, prints {"url": ...} for the process that
// started this one, and serves until stdin closes: that parent's way of saying stop.
func listen(handler http.Handler) error {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = server.Serve(listener) }()
	if err := json.NewEncoder(os.Stdout).Encode(map[string]string{"url": "http://" + listener.Addr().String()}); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	return server.Close()
}

// runServe is the Go server of the HTTP claims (see newServer).
func runServe(args []string) (any, error) {
	fs := flags("serve")
	upstream := fs.String("upstream", "", "base URL of the upstream (for /data)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	// One client for the server's life, so connections to the upstream are kept and reused.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}}
	return nil, listen(newServer(*upstream, client))
}

// --8<-- [start:serve]

// newServer routes GET /json to a small JSON object, and GET /data/{id} to a handler that
// calls the upstream API and the cache concurrently, then answers both results.
func newServer(upstream string, client *http.Client) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"message": "pong"})
	})
	mux.HandleFunc("GET /data/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		var api any
		var cache string
		var apiErr, cacheErr error
		var wg sync.WaitGroup
		wg.Go(func() { apiErr = getJSON(r, client, upstream+"/api/"+id, &api) })
		wg.Go(func() { cache, cacheErr = getText(r, client, upstream+"/cache/"+id) })
		wg.Wait()
		if err := errors.Join(apiErr, cacheErr); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"api": api, "cache": cache})
	})
	return mux
}

// --8<-- [end:serve]

func getJSON(r *http.Request, client *http.Client, target string, into any) error {
	body, err := get(r, client, target)
	if err != nil {
		return err
	}
	return json.Unmarshal(body, into)
}

func getText(r *http.Request, client *http.Client, target string) (string, error) {
	body, err := get(r, client, target)
	return string(body), err
}

func get(r *http.Request, client *http.Client, target string) ([]byte, error) {
	request, err := http.NewRequestWithContext(r.Context(), http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	response, err := client.Do(request)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err == nil && response.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: status %d", target, response.StatusCode)
	}
	return body, err
}

// runUpstream serves newUpstream until stdin closes.
func runUpstream(args []string) (any, error) {
	fs := flags("upstream")
	delay := fs.Duration("delay", 20*time.Millisecond, "how long the API takes to answer")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return nil, listen(newUpstream(*delay))
}

// newUpstream stands in for the remote API and the cache of the articles' I/O-bound endpoint:
// GET /api/{id} answers a JSON object after delay; GET /cache/{id} answers at once.
func newUpstream(delay time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/{id}", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id": %q, "name": "item %s", "price": 9.99}`, r.PathValue("id"), r.PathValue("id"))
	})
	mux.HandleFunc("GET /cache/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "cached %s", r.PathValue("id"))
	})
	return mux
}

type loadResult struct {
	Connections int     `json:"connections"`
	Requests    int     `json:"requests"` // answered with 200 inside the measured window
	Errors      int     `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
	Seconds     float64 `json:"seconds"`
	RPS         float64 `json:"rps"`
	P50         float64 `json:"p50"` // latencies, seconds
	P90         float64 `json:"p90"`
	P99         float64 `json:"p99"`
	CPUSeconds  float64 `json:"cpu_seconds"` // this load generator's own CPU in the window
}

// runLoad keeps -c connections busy for -warmup plus -duration, each sending one GET after
// another (HTTP/1.1 keep-alive, no pipelining), and reports the requests answered during the
// -duration window. It speaks just enough HTTP over raw TCP to stay cheap: a load generator
// that costs as much as the server it drives measures itself. {i} in the URL is replaced by a
// counter, so each request can ask for a different id.
func runLoad(args []string) (any, error) {
	fs := flags("load")
	target := fs.String("url", "", "http://127.0.0.1:port/path, {i} replaced by a counter")
	connections := fs.Int("c", 64, "connections, each with one request in flight")
	duration := fs.Duration("duration", 3*time.Second, "the measured window")
	warmup := fs.Duration("warmup", 500*time.Millisecond, "load before the window, not measured")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := positive(map[string]int{"c": *connections}); err != nil {
		return nil, err
	}
	if *duration <= 0 || *warmup < 0 {
		return nil, fmt.Errorf("-duration must be positive and -warmup not negative")
	}
	u, err := url.Parse(*target)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("-url: want http://host:port/path, got %q", *target)
	}
	path := strings.Replace(u.RequestURI(), "%7Bi%7D", "{i}", 1)

	begin := time.Now()
	windowStart, windowEnd := begin.Add(*warmup), begin.Add(*warmup+*duration)
	latencies := make([][]time.Duration, *connections)
	errs := make([]error, *connections)
	errorCounts := make([]int, *connections)
	var wg sync.WaitGroup
	for c := range *connections {
		wg.Go(func() {
			latencies[c], errorCounts[c], errs[c] = drive(u.Host, path, c, windowStart, windowEnd)
		})
	}
	time.Sleep(time.Until(windowStart))
	cpuStart := cpuSeconds()
	time.Sleep(time.Until(windowEnd))
	cpu := cpuSeconds() - cpuStart
	wg.Wait()

	out := loadResult{Connections: *connections, Seconds: duration.Seconds(), CPUSeconds: cpu}
	var all []time.Duration
	for c := range *connections {
		all = append(all, latencies[c]...)
		out.Errors += errorCounts[c]
		if errs[c] != nil && out.FirstError == "" {
			out.FirstError = errs[c].Error()
		}
	}
	out.Requests = len(all)
	if out.Requests == 0 {
		return nil, fmt.Errorf("no request was answered: %s", out.FirstError)
	}
	out.RPS = float64(out.Requests) / out.Seconds
	slices.Sort(all)
	pick := func(q float64) float64 { return all[int(q*float64(len(all)-1))].Seconds() }
	out.P50, out.P90, out.P99 = pick(0.50), pick(0.90), pick(0.99)
	return out, nil
}

// drive is one connection's loop: it returns the latency of each request answered inside the
// window, how many failed, and the first failure.
func drive(host, path string, worker int, windowStart, windowEnd time.Time) ([]time.Duration, int, error) {
	var latencies []time.Duration
	var first error
	failures := 0
	fail := func(err error) {
		failures++
		if first == nil {
			first = err
		}
	}
	var conn net.Conn
	var reader *bufio.Reader
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	prefix, suffix, templated := strings.Cut(path, "{i}")
	var request []byte
	for i := worker; ; i += 1 << 16 {
		now := time.Now()
		if !now.Before(windowEnd) {
			return latencies, failures, first
		}
		if conn == nil {
			var err error
			if conn, err = net.Dial("tcp", host); err != nil {
				fail(err)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			reader = bufio.NewReaderSize(conn, 16<<10)
		}
		request = append(request[:0], "GET "...)
		request = append(request, prefix...)
		if templated {
			request = strconv.AppendInt(request, int64(i), 10)
			request = append(request, suffix...)
		}
		request = append(request, " HTTP/1.1\r\nHost: "...)
		request = append(request, host...)
		request = append(request, "\r\n\r\n"...)
		start := time.Now()
		_, err := conn.Write(request)
		status, keepAlive := 0, false
		if err == nil {
			status, keepAlive, err = readResponse(reader)
		}
		end := time.Now()
		switch {
		case err != nil:
			fail(err)
		case status != http.StatusOK:
			fail(fmt.Errorf("status %d", status))
		case !start.Before(windowStart) && end.Before(windowEnd):
			latencies = append(latencies, end.Sub(start))
		}
		if err != nil || !keepAlive {
			conn.Close()
			conn = nil
		}
	}
}

// readResponse reads one HTTP/1.1 response and discards its body, which it finds by
// Content-Length or chunked encoding.
func readResponse(r *bufio.Reader) (status int, keepAlive bool, err error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, fmt.Errorf("not an HTTP response: %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	keepAlive = line[7] == '1' // HTTP/1.1 keeps the connection unless told otherwise
	length, chunked := -1, false
	for {
		line, err = r.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			break
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimSpace(value)
		switch strings.ToLower(string(name)) {
		case "content-length":
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, false, fmt.Errorf("bad Content-Length %q", value)
			}
		case "transfer-encoding":
			chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case "connection":
			keepAlive = !bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case chunked:
		err = discardChunks(r)
	case length >= 0:
		_, err = r.Discard(length)
	default:
		return 0, false, errors.New("a response with neither Content-Length nor chunked body")
	}
	return status, keepAlive, err
}

func discardChunks(r *bufio.Reader) error {
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return err
		}
		sizeText, _, _ := bytes.Cut(bytes.TrimSpace(line), []byte(";"))
		size, err := strconv.ParseInt(string(sizeText), 16, 64)
		if err != nil {
			return fmt.Errorf("bad chunk size %q", line)
		}
		if size == 0 { // the last chunk; then trailers, up to an empty line
			for {
				line, err = r.ReadSlice('\n')
				if err != nil || len(bytes.TrimSpace(line)) == 0 {
					return err
				}
			}
		}
		if _, err := r.Discard(int(size) + 2); err != nil {
			return err
		}
	}
}

// cpuSeconds is the CPU time (user + system) this process has used.
func cpuSeconds() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano()).Seconds()
}
