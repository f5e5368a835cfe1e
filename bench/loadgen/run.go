package main

import (
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

type config struct {
	addr        string
	request     []byte
	rate        float64
	warmup      time.Duration
	duration    time.Duration
	connections int
	timeout     time.Duration
}

// Percentiles of an HDR histogram, in microseconds.
type Percentiles struct {
	Count int64   `json:"count"`
	Min   int64   `json:"min"`
	Mean  float64 `json:"mean"`
	P50   int64   `json:"p50"`
	P90   int64   `json:"p90"`
	P99   int64   `json:"p99"`
	P999  int64   `json:"p999"`
	Max   int64   `json:"max"`
}

// Result is what loadgen prints. Counts cover the requests scheduled in the measured period.
type Result struct {
	Target      string  `json:"target"`
	Method      string  `json:"method"`
	Rate        float64 `json:"rate"`
	WarmupMs    int64   `json:"warmupMs"`
	DurationMs  int64   `json:"durationMs"`
	Connections int     `json:"connections"`
	TimeoutMs   int64   `json:"timeoutMs"`
	// Scheduled: requests due in the measured period; Sent: of those, written to a connection.
	Scheduled int64 `json:"scheduled"`
	Sent      int64 `json:"sent"`
	// AchievedRate: Sent per second of the measured period.
	AchievedRate float64 `json:"achievedRate"`
	// Statuses: answers by HTTP status; OK: the 2xx ones.
	Statuses map[string]int64 `json:"statuses"`
	OK       int64            `json:"ok"`
	// Errors: connection/protocol errors; Timeouts: no answer within -timeout of the scheduled time
	// (including requests whose deadline passed while every connection was busy).
	Errors   int64 `json:"errors"`
	Timeouts int64 `json:"timeouts"`
	// LatencyUs: scheduled send → whole answer read, every answered request (CO-corrected).
	LatencyUs Percentiles `json:"latencyUs"`
	// ServiceUs: actual send → whole answer read (what a generator without CO correction reports).
	ServiceUs Percentiles `json:"serviceUs"`
	// SendLagUs: actual send − scheduled send (pacer wake-up + waiting for a free connection).
	SendLagUs Percentiles `json:"sendLagUs"`
	// CPUMs: this process's CPU time over the whole run (user + system).
	CPUMs    float64 `json:"cpuMs"`
	FirstErr string  `json:"firstError,omitempty"`
}

type token struct {
	at       time.Time
	measured bool
}

type stats struct {
	latency, service, lag *hdrhistogram.Histogram
	statuses              map[int]int64
	sent, errors, timeout int64
	firstErr              string
}

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 120_000_000, 3) }

func newStats() *stats {
	return &stats{latency: newHist(), service: newHist(), lag: newHist(), statuses: map[int]int64{}}
}

func us(d time.Duration) int64 {
	if v := d.Microseconds(); v > 0 {
		return v
	}
	return 1
}

func summarize(h *hdrhistogram.Histogram) Percentiles {
	if h.TotalCount() == 0 {
		return Percentiles{}
	}
	return Percentiles{
		Count: h.TotalCount(), Min: h.Min(), Mean: float64(int64(h.Mean()*10)) / 10,
		P50: h.ValueAtQuantile(50), P90: h.ValueAtQuantile(90), P99: h.ValueAtQuantile(99), P999: h.ValueAtQuantile(99.9), Max: h.Max(),
	}
}

func cpuMs() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

// run drives the schedule. The pacer thread wakes at each scheduled send time and writes the request
// itself on an idle connection (no hand-off before the send); each connection's reader goroutine reads
// the answer, records it against the scheduled time, and then either takes the oldest request that
// found no idle connection (the backlog: its wait is charged to its latency) or goes back to the pool.
func run(cfg config) (*Result, error) {
	cpu0 := cpuMs()
	p := &pool{cfg: cfg}
	pre := time.Now().Add(5 * time.Second)
	conns := make([]*conn, cfg.connections)
	for i := range conns {
		k := &conn{addr: cfg.addr, next: make(chan flight, 1), st: newStats()}
		if err := k.dial(pre); err != nil {
			return nil, fmt.Errorf("connect %s: %w", cfg.addr, err)
		}
		conns[i] = k
		p.free = append(p.free, k)
	}
	var readers sync.WaitGroup
	for _, k := range conns {
		readers.Add(1)
		go func() {
			defer readers.Done()
			defer k.close()
			p.reader(k)
		}()
	}
	interval := time.Duration(float64(time.Second) / cfg.rate)
	total := int64((cfg.warmup + cfg.duration) / interval)
	warm := int64(cfg.warmup / interval)
	done := make(chan struct{})
	go func() {
		pacerInit()
		start := time.Now().Add(20 * time.Millisecond)
		for i := int64(0); i < total; i++ {
			at := start.Add(time.Duration(i) * interval)
			sleepUntil(at)
			p.pending.Add(1)
			p.dispatch(token{at: at, measured: i >= warm})
		}
		close(done)
	}()
	<-done
	p.pending.Wait()
	for _, k := range conns {
		close(k.next)
	}
	readers.Wait()

	merged := newStats()
	for _, k := range conns {
		merged.merge(k.st)
	}
	res := &Result{
		Rate: cfg.rate, WarmupMs: cfg.warmup.Milliseconds(), DurationMs: cfg.duration.Milliseconds(),
		Connections: cfg.connections, TimeoutMs: cfg.timeout.Milliseconds(),
		Scheduled: total - warm, Sent: merged.sent, AchievedRate: float64(merged.sent) / cfg.duration.Seconds(),
		Statuses: map[string]int64{}, Errors: merged.errors, Timeouts: merged.timeout,
		LatencyUs: summarize(merged.latency), ServiceUs: summarize(merged.service), SendLagUs: summarize(merged.lag),
		CPUMs: cpuMs() - cpu0, FirstErr: merged.firstErr,
	}
	for s, n := range merged.statuses {
		res.Statuses[fmt.Sprint(s)] = n
		if s >= 200 && s < 300 {
			res.OK += n
		}
	}
	return res, nil
}

func (s *stats) merge(o *stats) {
	s.latency.Merge(o.latency)
	s.service.Merge(o.service)
	s.lag.Merge(o.lag)
	for c, n := range o.statuses {
		s.statuses[c] += n
	}
	s.sent += o.sent
	s.errors += o.errors
	s.timeout += o.timeout
	if s.firstErr == "" {
		s.firstErr = o.firstErr
	}
}

// flight is one request handed to a connection's reader: written at sentAt (or not: skipped, err).
type flight struct {
	tok     token
	sentAt  time.Time
	skipped bool // its deadline passed before a connection was free
	err     error
}

type pool struct {
	cfg     config
	mu      sync.Mutex
	free    []*conn
	backlog []token // FIFO of requests that found no idle connection
	head    int
	pending sync.WaitGroup // requests dispatched and not yet recorded
}

// dispatch (pacer thread) writes tok on an idle connection, or queues it.
func (p *pool) dispatch(tok token) {
	p.mu.Lock()
	n := len(p.free)
	if n == 0 {
		p.backlog = append(p.backlog, tok)
		p.mu.Unlock()
		return
	}
	k := p.free[n-1]
	p.free = p.free[:n-1]
	p.mu.Unlock()
	k.next <- p.write(k, tok)
}

// release returns k to the pool, or hands it the oldest queued request.
func (p *pool) release(k *conn) (token, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.head < len(p.backlog) {
		tok := p.backlog[p.head]
		p.head++
		if p.head == len(p.backlog) {
			p.backlog, p.head = p.backlog[:0], 0
		}
		return tok, true
	}
	p.free = append(p.free, k)
	return token{}, false
}

func (p *pool) write(k *conn, tok token) flight {
	now := time.Now()
	deadline := tok.at.Add(p.cfg.timeout)
	if !now.Before(deadline) {
		return flight{tok: tok, skipped: true}
	}
	return flight{tok: tok, sentAt: now, err: k.send(p.cfg.request, deadline)}
}

// reader owns k's answers and statistics.
func (p *pool) reader(k *conn) {
	for f := range k.next {
		for {
			p.finish(k, f)
			p.pending.Done()
			for k.c == nil { // the connection broke: dial again before taking more work
				if err := k.dial(time.Now().Add(p.cfg.timeout)); err != nil {
					k.st.note(err)
					for _, tok := range p.takeQueued() { // fail queued work rather than leave it stuck
						if tok.measured {
							k.st.errors++
						}
						p.pending.Done()
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			tok, ok := p.release(k)
			if !ok {
				break
			}
			f = p.write(k, tok)
		}
	}
}

// takeQueued empties the backlog.
func (p *pool) takeQueued() []token {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := append([]token(nil), p.backlog[p.head:]...)
	p.backlog, p.head = p.backlog[:0], 0
	return out
}

// finish reads f's answer (if it was sent) and records it.
func (p *pool) finish(k *conn, f flight) {
	st := k.st
	if f.skipped {
		if f.tok.measured {
			st.timeout++
		}
		return
	}
	status, err := f.err, error(nil)
	code := 0
	if status == nil {
		code, err = k.receive()
	} else {
		err = status
	}
	doneAt := time.Now()
	if !f.tok.measured {
		return
	}
	st.sent++
	_ = st.lag.RecordValue(us(f.sentAt.Sub(f.tok.at)))
	if err != nil {
		if isTimeout(err) {
			st.timeout++
		} else {
			st.errors++
		}
		st.note(err)
		return
	}
	st.statuses[code]++
	_ = st.latency.RecordValue(us(doneAt.Sub(f.tok.at)))
	_ = st.service.RecordValue(us(doneAt.Sub(f.sentAt)))
}

func (s *stats) note(err error) {
	if s.firstErr == "" {
		s.firstErr = err.Error()
	}
}
