package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// buildRequest serializes the one request every send repeats (HTTP/1.1, keep-alive).
func buildRequest(method string, u *url.URL, headers []string, body []byte) []byte {
	var b strings.Builder
	path := u.RequestURI()
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: keep-alive\r\n", method, path, u.Host)
	for _, h := range headers {
		fmt.Fprintf(&b, "%s\r\n", h)
	}
	if body != nil {
		hasType := false
		for _, h := range headers {
			if strings.HasPrefix(strings.ToLower(h), "content-type:") {
				hasType = true
			}
		}
		if !hasType {
			b.WriteString("Content-Type: application/json\r\n")
		}
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	return append([]byte(b.String()), body...)
}

// conn is one keep-alive connection; it carries one request at a time.
type conn struct {
	addr string
	c    net.Conn
	r    *bufio.Reader
	next chan flight // requests written by the pacer, for this connection's reader
	st   *stats      // written only by this connection's reader goroutine
}

func (k *conn) dial(deadline time.Time) error {
	d := net.Dialer{Deadline: deadline}
	c, err := d.Dial("tcp", k.addr)
	if err != nil {
		return err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	k.c = c
	if k.r == nil {
		k.r = bufio.NewReaderSize(c, 64<<10)
	} else {
		k.r.Reset(c)
	}
	return nil
}

func (k *conn) close() {
	if k.c != nil {
		_ = k.c.Close()
		k.c = nil
	}
}

// send writes req (the caller holds k: it is not in the idle pool). The deadline covers the answer too.
func (k *conn) send(req []byte, deadline time.Time) error {
	if k.c == nil {
		return errors.New("connection closed")
	}
	if err := k.c.SetDeadline(deadline); err != nil {
		k.close()
		return err
	}
	if _, err := k.c.Write(req); err != nil {
		k.close()
		return err
	}
	return nil
}

// receive reads the whole answer to the request sent last; on any error the connection is closed.
func (k *conn) receive() (int, error) {
	status, closing, err := readResponse(k.r)
	if err != nil {
		k.close()
		return 0, err
	}
	if closing {
		k.close()
	}
	return status, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
