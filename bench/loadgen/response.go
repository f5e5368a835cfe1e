package main

import (
	"bytes"
	"errors"
	"fmt"
)

var errBadResponse = errors.New("malformed HTTP response")

// parseResponse looks for one whole HTTP/1.1 answer (status line, headers, a Content-Length or
// chunked body) at the start of b. It returns its length (0 while b holds only part of it), its
// status, and whether the server closes the connection after it. It does not allocate.
func parseResponse(b []byte) (n int, status int, closing bool, err error) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		if len(b) > 1<<16 {
			return 0, 0, false, fmt.Errorf("%w: headers over 64 KiB", errBadResponse)
		}
		return 0, 0, false, nil
	}
	head := b[:end]
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, 0, false, fmt.Errorf("%w: status line %q", errBadResponse, line)
	}
	status, ok := digits(line[9:12])
	if !ok {
		return 0, 0, false, fmt.Errorf("%w: status line %q", errBadResponse, line)
	}
	length, chunked := -1, false
	for len(rest) > 0 {
		var h []byte
		h, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, found := bytes.Cut(h, []byte(":"))
		if !found {
			return 0, 0, false, fmt.Errorf("%w: header %q", errBadResponse, h)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("content-length")):
			if length, ok = digits(value); !ok {
				return 0, 0, false, fmt.Errorf("%w: content-length %q", errBadResponse, value)
			}
		case bytes.EqualFold(name, []byte("transfer-encoding")):
			chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case bytes.EqualFold(name, []byte("connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	body := end + 4
	switch {
	case chunked:
		m, err := chunkedLength(b[body:])
		if m == 0 || err != nil {
			return 0, 0, false, err
		}
		return body + m, status, closing, nil
	case length >= 0:
		if len(b) < body+length {
			return 0, 0, false, nil
		}
		return body + length, status, closing, nil
	case status == 204 || status == 304 || status < 200:
		return body, status, closing, nil
	default:
		return 0, 0, false, fmt.Errorf("%w: no Content-Length and not chunked", errBadResponse)
	}
}

// chunkedLength is the length of a whole chunked body (trailers included) at the start of b, 0 while incomplete.
func chunkedLength(b []byte) (int, error) {
	pos := 0
	for {
		eol := bytes.Index(b[pos:], []byte("\r\n"))
		if eol < 0 {
			return 0, nil
		}
		size := b[pos : pos+eol]
		if i := bytes.IndexByte(size, ';'); i >= 0 {
			size = size[:i]
		}
		n, ok := hex(bytes.TrimSpace(size))
		if !ok {
			return 0, fmt.Errorf("%w: chunk size %q", errBadResponse, size)
		}
		pos += eol + 2
		if n == 0 {
			// trailers, then the empty line
			for {
				eol := bytes.Index(b[pos:], []byte("\r\n"))
				if eol < 0 {
					return 0, nil
				}
				pos += eol + 2
				if eol == 0 {
					return pos, nil
				}
			}
		}
		if len(b) < pos+n+2 {
			return 0, nil
		}
		pos += n + 2
	}
}

func digits(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func hex(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	v := 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v*16 + int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v*16 + int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v*16 + int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
