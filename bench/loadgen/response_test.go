package main

import "testing"

func TestParseResponse(t *testing.T) {
	answers := []struct {
		text    string
		status  int
		closing bool
	}{
		{"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}", 200, false},
		{"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3;x=y\r\nefg\r\n0\r\nTrailer: 1\r\n\r\n", 404, false},
		{"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n", 503, true},
	}
	for i, a := range answers {
		// Every proper prefix is incomplete; the whole text is one answer.
		for cut := 0; cut < len(a.text); cut++ {
			if n, _, _, err := parseResponse([]byte(a.text[:cut])); n != 0 || err != nil {
				t.Fatalf("answer %d cut at %d: n %d err %v", i, cut, n, err)
			}
		}
		n, s, c, err := parseResponse([]byte(a.text + "HTTP/1.1 200"))
		if err != nil || n != len(a.text) || s != a.status || c != a.closing {
			t.Fatalf("answer %d: got %d %d %v %v", i, n, s, c, err)
		}
	}
	for _, bad := range []string{"garbage\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n"} {
		if _, _, _, err := parseResponse([]byte(bad)); err == nil {
			t.Fatalf("%q read as an answer", bad)
		}
	}
}
