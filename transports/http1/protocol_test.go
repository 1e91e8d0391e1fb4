package http1_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/internal/testenv"
	"rpcbench/transports/http1"
)

// TestCurl calls the server with curl, the client the README shows.
func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		testenv.Missing(t, "curl", "scripts/setup.sh installs it")
	}
	ts := startServer(t, http1.Options{})
	run := func(args ...string) (body string, status string) {
		t.Helper()
		args = append([]string{"-s", "-S", "--max-time", "10", "-w", "\n%{http_code}"}, args...)
		out, err := exec.Command(curl, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		s := strings.TrimRight(string(out), "\n")
		i := strings.LastIndexByte(s, '\n')
		return strings.TrimSpace(s[:max(i, 0)]), s[i+1:]
	}
	url := "http://" + ts.addr + "/rpc/"

	body, status := run("-H", "Content-Type: application/json", "-d", `{"a":1,"b":2}`, url+"Arith.Add")
	if status != "200" || body != `{"sum":3}` {
		t.Fatalf("Arith.Add: HTTP %s %q, want 200 {\"sum\":3}", status, body)
	}
	body, status = run("-H", "Content-Type: application/json; charset=utf-8", "-H", "Rpcbench-Timeout: 5000000", "-d", `{"a":40,"b":2}`, url+"Arith.Add")
	if status != "200" || body != `{"sum":42}` {
		t.Fatalf("Arith.Add with a budget: HTTP %s %q", status, body)
	}
	body, status = run("-H", "Content-Type: application/json", "-d", `{}`, url+"Arith.Mul")
	checkError(t, "unknown method", status, body, "404", "unknown_method", `"Arith.Mul"`)
	body, status = run("-d", `{"a":1,"b":2}`, url+"Arith.Add") // curl's default form content type
	checkError(t, "form content type", status, body, "415", "bad_request", "application/json")
	body, status = run("-H", "Content-Type: application/json", "-H", "Rpcbench-Timeout: 20000", "-d", `{}`, url+"Block.Wait")
	checkError(t, "deadline", status, body, "504", "deadline_exceeded", "deadline")
	body, status = run(url + "Arith.Add")
	checkError(t, "GET", status, body, "405", "bad_request", "POST")
	_, status = run(url + "_ping")
	if status != "204" {
		t.Fatalf("GET /rpc/_ping: HTTP %s, want 204", status)
	}
}

func checkError(t *testing.T, what, status, body, wantStatus, wantCode, inMessage string) {
	t.Helper()
	var e struct{ Code, Message string }
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("%s: HTTP %s body %q is not a JSON error: %v", what, status, body, err)
	}
	if status != wantStatus || e.Code != wantCode || !strings.Contains(e.Message, inMessage) {
		t.Fatalf("%s: HTTP %s %+v, want %s, code %s, message containing %q", what, status, e, wantStatus, wantCode, inMessage)
	}
}

// TestStatusTable checks the documented status of every error through
// net/http.
func TestStatusTable(t *testing.T) {
	ts := startServer(t, http1.Options{MaxPayload: 1 << 10})
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	base := "http://" + ts.addr
	cases := []struct {
		name, method, path, ctype string
		headers                   map[string]string
		body                      string
		status                    int
		code, inMessage           string
	}{
		{"ok", "POST", "/rpc/Echo.Echo", "application/octet-stream", nil, "hi", 200, "", ""},
		{"unknown method", "POST", "/rpc/Nope.Nope", "application/octet-stream", nil, "", 404, "unknown_method", `no method "Nope.Nope" (call ID 0x`},
		{"application error", "POST", "/rpc/Fail.Error", "application/octet-stream", nil, "", 422, "application_error", "the handler says no"},
		{"panic", "POST", "/rpc/Fail.Panic", "application/octet-stream", nil, "", 500, "internal", "handler exploded"},
		{"bad body", "POST", "/rpc/Arith.Add", "application/json", nil, "[", 400, "bad_request", ""},
		{"deadline", "POST", "/rpc/Block.Wait", "application/octet-stream", map[string]string{"Rpcbench-Timeout": "10000"}, "", 504, "deadline_exceeded", ""},
		{"bad timeout", "POST", "/rpc/Echo.Echo", "application/octet-stream", map[string]string{"Rpcbench-Timeout": "soon"}, "", 400, "bad_request", "Rpcbench-Timeout"},
		{"bad call key", "POST", "/rpc/Echo.Echo", "application/octet-stream", map[string]string{"Rpcbench-Call": "x"}, "", 400, "bad_request", "Rpcbench-Call"},
		{"no content type", "POST", "/rpc/Echo.Echo", "", nil, "", 415, "bad_request", "Content-Type"},
		{"unknown encoding", "POST", "/rpc/Echo.Echo", "application/octet-stream", map[string]string{"Content-Encoding": "br2"}, "x", 415, "bad_request", "Content-Encoding"},
		{"wrong method", "PUT", "/rpc/Echo.Echo", "application/octet-stream", nil, "", 405, "bad_request", "POST"},
		{"outside /rpc/", "GET", "/index.html", "", nil, "", 404, "bad_request", "/rpc/{Service.Method}"},
		{"too large", "POST", "/rpc/Echo.Echo", "application/octet-stream", nil, strings.Repeat("x", 2<<10), 413, "resource_exhausted", "1024-byte limit"},
		{"cancel without key", "POST", "/rpc/_cancel", "", nil, "", 400, "bad_request", "Rpcbench-Call"},
		{"cancel of nothing", "POST", "/rpc/_cancel", "", map[string]string{"Rpcbench-Call": "1.2"}, "", 204, "", ""},
		{"ping", "GET", "/rpc/_ping", "", nil, "", 204, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
			must(t, err)
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			for k, v := range c.headers {
				req.Header.Set(k, v)
			}
			resp, err := hc.Do(req)
			must(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Fatalf("HTTP %d %s, want %d", resp.StatusCode, body, c.status)
			}
			if c.code == "" {
				if c.status == 200 && string(body) != c.body {
					t.Fatalf("body %q, want %q", body, c.body)
				}
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("error reply has Content-Type %q", ct)
			}
			var e struct{ Code, Message string }
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if e.Code != c.code || !strings.Contains(e.Message, c.inMessage) {
				t.Fatalf("got %+v, want code %s and a message containing %q", e, c.code, c.inMessage)
			}
		})
	}
}

// TestRPCErrorsMatchTCP checks that errors through the client come back
// with the codes and messages the server core produced.
func TestRPCErrors(t *testing.T) {
	ts := startServer(t, http1.Options{MaxPayload: 64 << 10})
	c := ts.client(t, nil, rpcbench.ClientOptions{})
	var out []byte
	err := c.Call(callCtx(t), "Echo.Echo", bytes.Repeat([]byte("x"), 1<<20), &out)
	if !errorsIs(err, rpcbench.ErrResourceExhausted) || !strings.Contains(err.Error(), "65536-byte limit") {
		t.Fatalf("oversize request: got %v, want resource exhausted naming the limit", err)
	}
	must(t, c.Call(callCtx(t), "Echo.Echo", []byte("still serving"), &out))
	err = c.Call(callCtx(t), "Fail.Error", []byte(nil), &out)
	if e, ok := err.(*rpcbench.Error); !ok || e.Code != rpcbench.CodeApplication || e.Message != "the handler says no" {
		t.Fatalf("handler error: got %#v", err)
	}
}

func errorsIs(err, target error) bool {
	e, ok := err.(*rpcbench.Error)
	return ok && e.Is(target)
}
