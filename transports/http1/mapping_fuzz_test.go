package http1

import (
	"strconv"
	"strings"
	"testing"

	"rpcbench"
)

// FuzzRequestHeaders: the headers that map an HTTP request onto a call
// (Rpcbench-Call, Rpcbench-Timeout, Content-Type, Content-Encoding) are
// read without panics, and what is accepted means one thing.
func FuzzRequestHeaders(f *testing.F) {
	f.Add("1f.2a", "1500", "application/x-protobuf", "zstd")
	f.Add("ffffffffffffffff.0", "4294967295", "application/json; charset=utf-8", "identity")
	f.Add("", "", "Application/X-Rpcbench-Msgpack", "GZIP")
	f.Add(".", "0", "application/x-rpcbench-", " ")
	f.Add("1.2.3", "-1", "application/octet-stream", "br")
	f.Add("g.1", "4294967296", strings.Repeat("a", 200), "snappy")
	f.Fuzz(func(t *testing.T, call, timeout, contentType, encoding string) {
		if k, ok, err := parseCallKey([]byte(call)); err == nil && ok {
			again, ok2, err2 := parseCallKey(appendCallKey(nil, k))
			if err2 != nil || !ok2 || again != k {
				t.Fatalf("call key %q → %+v → %q → %+v, %v", call, k, appendCallKey(nil, k), again, err2)
			}
		} else if err == nil && call != "" {
			t.Fatalf("call key %q: no key and no error", call)
		}
		for _, part := range strings.Split(call, ".") {
			n, err := parseHex([]byte(part))
			want, werr := strconv.ParseUint(part, 16, 64)
			if (err == nil) != (werr == nil && part != "" && !strings.HasPrefix(part, "+") && !strings.Contains(part, "_") && len(part) <= 16) || err == nil && n != want {
				t.Fatalf("parseHex(%q) = %d, %v; strconv says %d, %v", part, n, err, want, werr)
			}
		}
		us, err := parseBudget([]byte(timeout))
		want, werr := strconv.ParseUint(timeout, 10, 32)
		switch {
		case timeout == "":
			if us != 0 || err != nil {
				t.Fatalf("no timeout: %d, %v", us, err)
			}
		case werr != nil || want == 0:
			if err == nil {
				t.Fatalf("timeout %q accepted as %d", timeout, us)
			}
		case err != nil || uint64(us) != want:
			t.Fatalf("timeout %q: %d, %v", timeout, us, err)
		}
		if c, ok := codecOf([]byte(contentType)); ok {
			if back, ok := codecOf(contentTypeOf(c.ID())); !ok || back.ID() != c.ID() {
				t.Fatalf("content type %q → codec %s → %q → %v", contentType, c.Name(), contentTypeOf(c.ID()), back)
			}
		}
		if id, ok := compressionOf([]byte(encoding)); ok {
			if back, ok := compressionOf([]byte(encodingOf(id))); !ok || back != id {
				t.Fatalf("encoding %q → %d → %q → %d", encoding, id, encodingOf(id), back)
			}
		}
	})
}

// FuzzParseError: the client reads any error reply a server (or a proxy in
// between) can send into a known code and a bounded message.
func FuzzParseError(f *testing.F) {
	f.Add(400, "application/json", []byte(`{"code":"bad_request","message":"http1: bad"}`))
	f.Add(503, "application/json; charset=utf-8", []byte(`{"code":"unavailable","message":"going away"}`))
	f.Add(500, "application/json", []byte(`{"code":"nosuch","message":"x"}`))
	f.Add(502, "text/html", []byte("<html>Bad Gateway</html>"))
	f.Add(429, "application/json", []byte(`{"code":`))
	f.Add(999, "", []byte(strings.Repeat("x", 1000)))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		code, msg := parseError(status, []byte(contentType), body)
		if strings.HasPrefix(code.String(), "code(") {
			t.Fatalf("status %d, body %q: unnamed code %v", status, body, code)
		}
		if code == rpcbench.CodeUnknown && CodeOfStatus(status) != rpcbench.CodeUnknown && !strings.Contains(string(body), `"unknown"`) {
			t.Fatalf("status %d (%v), body %q read as unknown", status, CodeOfStatus(status), body)
		}
		if !strings.HasPrefix(contentType, "application/json") && len(msg) > 300 {
			t.Fatalf("message of %d bytes from a non-JSON body", len(msg))
		}
	})
}
