package main

import (
	"bufio"
	"strings"
	"testing"
)

func TestReadResponse(t *testing.T) {
	in := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}" +
		"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3;x=y\r\nefg\r\n0\r\nTrailer: 1\r\n\r\n" +
		"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n" +
		"garbage\r\n"
	r := bufio.NewReader(strings.NewReader(in))
	for i, want := range []struct {
		status  int
		closing bool
	}{{200, false}, {404, false}, {503, true}} {
		s, c, err := readResponse(r)
		if err != nil || s != want.status || c != want.closing {
			t.Fatalf("answer %d: got %d %v %v, want %d %v", i, s, c, err, want.status, want.closing)
		}
	}
	if _, _, err := readResponse(r); err == nil {
		t.Fatal("garbage read as an answer")
	}
}
