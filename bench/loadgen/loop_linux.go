//go:build linux

package main

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// The whole generator is one OS thread around one epoll set: it wakes at the next scheduled send
// time or when an answer arrives, whichever comes first, and does all the work of that wake-up
// itself. Per request that is one write, one or two reads and a share of one epoll wait — no
// goroutine hand-offs, no futex wake-ups, no Go timers (which wake ~1 ms late on Linux). The wait is
// epoll_pwait2 with a nanosecond timeout and a 1 ns timer slack, so sends leave within tens of
// microseconds of their schedule on an idle core.

const (
	sysEpollPwait2  = 441 // the same number on every Linux architecture
	prSetTimerslack = 29
	readChunk       = 64 << 10
)

type econn struct {
	fd       int // -1 while disconnected
	t        *tstate
	buf      []byte
	n        int
	busy     bool
	late     bool // its request timed out; the connection waits for the late answer before it is reused
	inIdle   bool
	tok      token
	sentAt   time.Time
	deadline time.Time
}

type tstate struct {
	target
	sa      syscall.Sockaddr
	conns   []*econn
	idle    []*econn
	backlog []token // FIFO of requests that found no idle connection
	head    int
	st      *stats
}

type loop struct {
	cfg        config
	epfd       int
	byFd       []*econn
	targets    []*tstate
	inflight   int // requests written and not answered, late ones included
	late       int
	nextExpiry time.Time
	events     []syscall.EpollEvent
	noPwait2   bool
	lastRedial time.Time
}

func runLoop(cfg config) ([]*stats, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerslack, 1, 0)
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	defer syscall.Close(epfd)
	l := &loop{cfg: cfg, epfd: epfd, events: make([]syscall.EpollEvent, 256)}
	defer l.closeAll()
	for _, t := range cfg.targets {
		addr, err := net.ResolveTCPAddr("tcp", t.addr)
		if err != nil {
			return nil, err
		}
		ts := &tstate{target: t, st: newStats()}
		if ip4 := addr.IP.To4(); ip4 != nil {
			sa := &syscall.SockaddrInet4{Port: addr.Port}
			copy(sa.Addr[:], ip4)
			ts.sa = sa
		} else {
			sa := &syscall.SockaddrInet6{Port: addr.Port}
			copy(sa.Addr[:], addr.IP.To16())
			ts.sa = sa
		}
		for i := 0; i < cfg.connections; i++ {
			c := &econn{fd: -1, t: ts, buf: make([]byte, readChunk)}
			if err := l.connect(c); err != nil {
				return nil, fmt.Errorf("connect %s: %w", t.addr, err)
			}
			ts.conns = append(ts.conns, c)
			ts.pushIdle(c)
		}
		l.targets = append(l.targets, ts)
	}

	interval := time.Duration(float64(time.Second) / cfg.rate)
	total := int64((cfg.warmup + cfg.duration) / interval)
	warm := int64(cfg.warmup / interval)
	start := time.Now().Add(20 * time.Millisecond)
	next := int64(0)
	for {
		now := time.Now()
		for next < total {
			offset := time.Duration(next) * interval
			at := start.Add(offset)
			if at.After(now) {
				break
			}
			t := l.targets[int(offset/cfg.block)%len(l.targets)]
			l.dispatch(t, token{at: at, measured: next >= warm})
			next++
		}
		l.expire(now)
		l.redial(now)
		if next == total && l.inflight == l.late && l.queued() == 0 {
			break
		}
		wake := l.nextExpiry
		if next < total {
			if at := start.Add(time.Duration(next) * interval); wake.IsZero() || at.Before(wake) {
				wake = at
			}
		}
		if wake.IsZero() {
			wake = now.Add(10 * time.Millisecond)
		}
		n, err := l.wait(time.Until(wake))
		if err != nil {
			return nil, err
		}
		for i := 0; i < n; i++ {
			if fd := int(l.events[i].Fd); fd < len(l.byFd) && l.byFd[fd] != nil {
				l.onReadable(l.byFd[fd])
			}
		}
	}
	out := make([]*stats, len(l.targets))
	for i, t := range l.targets {
		out[i] = t.st
	}
	return out, nil
}

// wait blocks in epoll until an fd is readable or d passed; it returns the number of events.
func (l *loop) wait(d time.Duration) (int, error) {
	if d < 0 {
		d = 0
	}
	for {
		var n uintptr
		var errno syscall.Errno
		if !l.noPwait2 {
			ts := syscall.NsecToTimespec(int64(d))
			// Raw: this thread does nothing else; no hand-off of the Go P while it sleeps.
			n, _, errno = syscall.RawSyscall6(sysEpollPwait2, uintptr(l.epfd), uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), uintptr(unsafe.Pointer(&ts)), 0, 0)
			if errno == syscall.ENOSYS {
				l.noPwait2 = true
				continue
			}
		} else {
			ms := int((d + time.Millisecond - 1) / time.Millisecond) // kernels before 5.11: whole milliseconds
			n, _, errno = syscall.RawSyscall6(syscall.SYS_EPOLL_WAIT, uintptr(l.epfd), uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), uintptr(ms), 0, 0)
		}
		switch errno {
		case 0:
			return int(n), nil
		case syscall.EINTR:
			return 0, nil
		default:
			return 0, fmt.Errorf("epoll wait: %w", errno)
		}
	}
}

func (l *loop) queued() int {
	n := 0
	for _, t := range l.targets {
		n += len(t.backlog) - t.head
	}
	return n
}

// dispatch sends tok on an idle connection of t, or queues it.
func (l *loop) dispatch(t *tstate, tok token) {
	if tok.measured {
		t.st.scheduled++
	}
	for len(t.idle) > 0 {
		c := t.idle[len(t.idle)-1]
		t.idle = t.idle[:len(t.idle)-1]
		c.inIdle = false
		if c.fd < 0 {
			continue // down: redial brings it back
		}
		if !l.send(c, tok) { // tok expired unsent, or the write failed (counted): c is free again
			l.release(c)
		}
		return
	}
	t.backlog = append(t.backlog, tok)
	l.noteExpiry(tok.at.Add(l.cfg.timeout))
}

// send writes tok's request on idle connection c; false when it was not sent (expired, or the write
// failed and c is reconnecting).
func (l *loop) send(c *econn, tok token) bool {
	st := c.t.st
	now := time.Now()
	deadline := tok.at.Add(l.cfg.timeout)
	if !now.Before(deadline) {
		if tok.measured {
			st.timeout++
		}
		return false
	}
	req := c.t.request
	w, err := writeAll(c.fd, req)
	if err != nil || w != len(req) {
		if tok.measured {
			st.errors++
			if err == nil {
				err = errors.New("short write")
			}
			st.note(fmt.Errorf("write: %w", err))
		}
		l.reconnect(c)
		return false
	}
	c.busy, c.tok, c.sentAt, c.deadline = true, tok, now, deadline
	l.inflight++
	l.noteExpiry(deadline)
	if tok.measured {
		st.sent++
		_ = st.lag.RecordValue(us(now.Sub(tok.at)))
	}
	return true
}

func writeAll(fd int, b []byte) (int, error) {
	for {
		n, err := syscall.Write(fd, b)
		if err == syscall.EINTR {
			continue
		}
		return n, err
	}
}

// onReadable reads what arrived on c and records a completed answer.
func (l *loop) onReadable(c *econn) {
	if c.fd < 0 {
		return
	}
	eof := false
	for {
		if c.n == len(c.buf) {
			c.buf = append(c.buf, make([]byte, len(c.buf))...)
		}
		n, err := syscall.Read(c.fd, c.buf[c.n:])
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			break
		}
		if err != nil || n == 0 {
			eof = true
			break
		}
		c.n += n
	}
	if !c.busy {
		// Nothing asked: the server closed an idle connection (or sent garbage).
		l.reconnect(c)
		return
	}
	size, status, closing, err := parseResponse(c.buf[:c.n])
	if err == nil && size == 0 && !eof {
		return // more to come
	}
	done := time.Now()
	st := c.t.st
	c.busy = false
	l.inflight--
	if c.late {
		// The answer to a request already counted as a timeout: the connection is free again.
		c.late = false
		l.late--
		broken := err != nil || size != c.n || closing || eof
		c.n = 0
		if broken {
			l.reconnect(c)
		}
		l.release(c)
		return
	}
	switch {
	case err != nil || size == 0 || size != c.n:
		if c.tok.measured {
			st.errors++
			switch {
			case err != nil:
				st.note(err)
			case size == 0:
				st.note(errors.New("connection closed before the whole answer"))
			default:
				st.note(errors.New("bytes after the answer (pipelining is not used)"))
			}
		}
		l.reconnect(c)
	case !done.Before(c.deadline):
		// Answered after its deadline (this thread was kept from running): a timeout, as if expired in time.
		if c.tok.measured {
			st.timeout++
			st.note(errors.New("timeout"))
		}
		c.n = 0
		if closing || eof {
			l.reconnect(c)
		}
	default:
		if c.tok.measured {
			st.statuses[status]++
			_ = st.latency.RecordValue(us(done.Sub(c.tok.at)))
			_ = st.service.RecordValue(us(done.Sub(c.sentAt)))
		}
		c.n = 0
		if closing || eof {
			l.reconnect(c)
		}
	}
	l.release(c)
}

// release gives connection c the oldest queued request of its target, or makes it idle.
func (l *loop) release(c *econn) {
	if c.fd < 0 {
		return // redial puts it back once connected
	}
	t := c.t
	for t.head < len(t.backlog) {
		tok := t.backlog[t.head]
		t.head++
		if t.head == len(t.backlog) {
			t.backlog, t.head = t.backlog[:0], 0
		}
		if l.send(c, tok) {
			return
		}
		if c.fd < 0 {
			return
		}
	}
	t.pushIdle(c)
}

func (t *tstate) pushIdle(c *econn) {
	if !c.inIdle {
		c.inIdle = true
		t.idle = append(t.idle, c)
	}
}

func (l *loop) noteExpiry(at time.Time) {
	if l.nextExpiry.IsZero() || at.Before(l.nextExpiry) {
		l.nextExpiry = at
	}
}

// expire counts requests unanswered (or unsent) past their deadline as timeouts.
func (l *loop) expire(now time.Time) {
	if l.nextExpiry.IsZero() || now.Before(l.nextExpiry) {
		return
	}
	l.nextExpiry = time.Time{}
	for _, t := range l.targets {
		for t.head < len(t.backlog) && !now.Before(t.backlog[t.head].at.Add(l.cfg.timeout)) {
			if t.backlog[t.head].measured {
				t.st.timeout++
			}
			t.head++
		}
		if t.head < len(t.backlog) {
			l.noteExpiry(t.backlog[t.head].at.Add(l.cfg.timeout))
		}
		for _, c := range t.conns {
			if !c.busy {
				continue
			}
			if c.late {
				// Still no answer long after the timeout: give the connection up.
				if giveUp := c.deadline.Add(10 * l.cfg.timeout); now.Before(giveUp) {
					l.noteExpiry(giveUp)
				} else {
					c.busy, c.late = false, false
					l.inflight--
					l.late--
					l.reconnect(c)
					l.release(c)
				}
				continue
			}
			if now.Before(c.deadline) {
				l.noteExpiry(c.deadline)
				continue
			}
			if c.tok.measured {
				t.st.timeout++
				t.st.note(errors.New("timeout"))
			}
			// Counted now; the connection is reused once the late answer arrives (closing it would make
			// the server do the request anyway, plus a new connection: a collapse under overload).
			c.late = true
			l.late++
			l.noteExpiry(c.deadline.Add(10 * l.cfg.timeout))
		}
	}
}

func (l *loop) connect(c *econn) error {
	domain := syscall.AF_INET
	if _, ok := c.t.sa.(*syscall.SockaddrInet6); ok {
		domain = syscall.AF_INET6
	}
	fd, err := syscall.Socket(domain, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	// A blocking connect (loopback: immediate), then non-blocking I/O.
	if err := syscall.Connect(fd, c.t.sa); err != nil {
		syscall.Close(fd)
		return err
	}
	_ = syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return err
	}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(fd)}); err != nil {
		syscall.Close(fd)
		return err
	}
	for fd >= len(l.byFd) {
		l.byFd = append(l.byFd, nil)
	}
	l.byFd[fd] = c
	c.fd, c.n = fd, 0
	return nil
}

func (l *loop) disconnect(c *econn) {
	if c.fd < 0 {
		return
	}
	_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	syscall.Close(c.fd)
	l.byFd[c.fd] = nil
	c.fd, c.n = -1, 0
}

// reconnect replaces c's socket; on failure c stays down and redial retries it.
func (l *loop) reconnect(c *econn) {
	l.disconnect(c)
	if err := l.connect(c); err != nil {
		c.t.st.note(fmt.Errorf("reconnect: %w", err))
	}
}

// redial retries connections that are down (every 10 ms at most).
func (l *loop) redial(now time.Time) {
	if now.Sub(l.lastRedial) < 10*time.Millisecond {
		return
	}
	l.lastRedial = now
	for _, t := range l.targets {
		for _, c := range t.conns {
			if c.fd < 0 && l.connect(c) == nil {
				l.release(c)
			}
		}
	}
}

func (l *loop) closeAll() {
	for _, t := range l.targets {
		for _, c := range t.conns {
			l.disconnect(c)
		}
	}
}
