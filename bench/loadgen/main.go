// Command loadgen is Fenestra's open-loop HTTP load generator (bench/serving.ts builds and drives it).
//
// It sends one fixed request at a constant rate over a pool of keep-alive HTTP/1.1 connections and
// measures each latency from the request's *scheduled* send time, not from when it was actually
// written: when the server (or the pool) falls behind, the requests that should have been sent in the
// meantime are charged the wait — coordinated omission is corrected by construction, as in wrk2.
// A request still unanswered `-timeout` after its scheduled time is a timeout (counted, not in the
// histogram); so is one whose deadline passed before a connection was free. Connection errors and
// non-2xx answers are counted too. One JSON object is printed on stdout.
//
//	loadgen -url http://127.0.0.1:8080/v1/features/cc_agg/card-7 -rate 5000 -duration 10s -warmup 2s
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"
)

type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ", ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	var (
		target   = flag.String("url", "", "request URL (http only)")
		method   = flag.String("method", "GET", "HTTP method")
		bodyFile = flag.String("body-file", "", "file whose bytes are the request body")
		rate     = flag.Float64("rate", 1000, "requests per second (constant schedule)")
		duration = flag.Duration("duration", 10*time.Second, "measured period")
		warmup   = flag.Duration("warmup", 2*time.Second, "period before the measured one, same rate, not recorded")
		conns    = flag.Int("connections", 64, "keep-alive connections (one request in flight on each)")
		timeout  = flag.Duration("timeout", 2*time.Second, "deadline after a request's scheduled send time")
		headers  headerList
	)
	flag.Var(&headers, "header", "extra request header \"Name: value\" (repeatable)")
	flag.Parse()
	if *target == "" || *rate <= 0 || *conns <= 0 || *duration <= 0 {
		fail("usage: loadgen -url URL [-method M] [-body-file F] [-rate R] [-duration D] [-warmup W] [-connections N] [-timeout T] [-header 'K: V']")
	}
	u, err := url.Parse(*target)
	if err != nil || u.Scheme != "http" {
		fail(fmt.Sprintf("-url must be an http:// URL: %q", *target))
	}
	var body []byte
	if *bodyFile != "" {
		if body, err = os.ReadFile(*bodyFile); err != nil {
			fail(err.Error())
		}
	}
	// At least two Ps even when pinned to one CPU: the pacer sleeps in a syscall on its own thread.
	if runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
	req := buildRequest(*method, u, headers, body)
	res, err := run(config{
		addr:        u.Host,
		request:     req,
		rate:        *rate,
		warmup:      *warmup,
		duration:    *duration,
		connections: *conns,
		timeout:     *timeout,
	})
	if err != nil {
		fail(err.Error())
	}
	res.Target = *target
	res.Method = *method
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "loadgen:", msg)
	os.Exit(2)
}
