package main

import (
	"fmt"
	"net/url"
	"strings"
)

// buildRequest serializes the one request every send to a target repeats (HTTP/1.1, keep-alive).
func buildRequest(method string, u *url.URL, headers []string, body []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: keep-alive\r\n", method, u.RequestURI(), u.Host)
	hasType := false
	for _, h := range headers {
		fmt.Fprintf(&b, "%s\r\n", h)
		hasType = hasType || strings.HasPrefix(strings.ToLower(h), "content-type:")
	}
	if body != nil {
		if !hasType {
			b.WriteString("Content-Type: application/json\r\n")
		}
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	return append([]byte(b.String()), body...)
}
