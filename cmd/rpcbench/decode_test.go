package main_test

import (
	"bufio"
	"encoding/json"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	rpcb "rpcbench"
	"rpcbench/codecs"
	"rpcbench/codecs/strictcases"
	"rpcbench/internal/testenv"
	"rpcbench/transports/http1"
	"rpcbench/wire"
)

// addReply is Arith.Add's reply.
type addReply struct {
	Sum int64 `json:"sum"`
}

// outcome is what a server made of one body: the sum, or the error code
// and message.
type outcome struct {
	sum       int64
	code, msg string
}

// checkOutcome compares a server's answer with the case's expectation.
func checkOutcome(t *testing.T, tc strictcases.Case, got outcome) {
	t.Helper()
	if tc.Refuse == "" {
		if got.code != "" || got.sum != tc.Want.A+tc.Want.B {
			t.Fatalf("want sum %d, got %+v", tc.Want.A+tc.Want.B, got)
		}
		return
	}
	if got.code != rpcb.CodeBadRequest.Slug() || !strings.Contains(got.msg, tc.Refuse) {
		t.Fatalf("want bad_request naming %q, got %+v", tc.Refuse, got)
	}
}

// TestServerDecodesOrRefuses sends every codec's common shapes, and bodies
// valid in the format but of the wrong shape, to Arith.Add on a real
// 'rpcbench serve' process: over TCP as frames, and over HTTP/1.1 with
// curl. Each is either summed as sent or refused with bad_request naming
// what was wrong; none comes back as a silent zero.
func TestServerDecodesOrRefuses(t *testing.T) {
	tcpAddr := serve(t, nil, "--transport", "tcp", "--addr", "127.0.0.1:0")
	httpAddr := serve(t, nil, "--transport", "http1", "--addr", "127.0.0.1:0")
	curl, err := exec.LookPath("curl")
	if err != nil {
		testenv.Missing(t, "curl", "scripts/setup.sh installs it")
	}
	conn, err := net.Dial("tcp", tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	dir := t.TempDir()
	var reqID uint64
	for _, name := range slices.Sorted(maps.Keys(strictcases.Cases)) {
		c, err := codecs.ByName(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range strictcases.Cases[name] {
			t.Run(name+"/tcp/"+tc.Name, func(t *testing.T) {
				reqID++
				checkOutcome(t, tc, tcpCall(t, conn, r, c, reqID, tc.Body))
			})
			t.Run(name+"/curl/"+tc.Name, func(t *testing.T) {
				body := filepath.Join(dir, "body")
				if err := os.WriteFile(body, tc.Body, 0o600); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command(curl, "-sS", "-o", "-", "-w", "\n%{http_code}",
					"-H", "Content-Type: "+http1.ContentType(name), "--data-binary", "@"+body,
					"http://"+httpAddr+"/rpc/Arith.Add").Output()
				if err != nil {
					t.Fatalf("curl: %v", err)
				}
				i := strings.LastIndexByte(string(out), '\n')
				reply, status := out[:i], string(out[i+1:])
				var got outcome
				if status == "200" {
					var a addReply
					if err := c.Unmarshal(reply, &a); err != nil {
						t.Fatalf("reply %q: %v", reply, err)
					}
					got.sum = a.Sum
				} else {
					var e struct{ Code, Message string }
					if err := json.Unmarshal(reply, &e); err != nil {
						t.Fatalf("status %s, body %q: %v", status, reply, err)
					}
					if status != "400" {
						t.Errorf("status %s, want 400 for %s", status, e.Code)
					}
					got.code, got.msg = e.Code, e.Message
				}
				checkOutcome(t, tc, got)
			})
		}
	}
}

// tcpCall sends body as one request frame in codec c and reads the reply.
func tcpCall(t *testing.T, conn net.Conn, r *bufio.Reader, c codecs.Codec, id uint64, body []byte) outcome {
	t.Helper()
	f := wire.Frame{Kind: wire.KindRequest, Codec: c.ID(), CallID: rpcb.CallID("Arith.Add"), RequestID: id, Payload: body}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(wire.Append(nil, &f)); err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, wire.HeaderLen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		t.Fatal(err)
	}
	h, plen, err := wire.ParseHeader(hdr, wire.DefaultMaxPayload)
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, plen)
	if _, err := io.ReadFull(r, payload); err != nil {
		t.Fatal(err)
	}
	if h.RequestID != id {
		t.Fatalf("reply to request %d, want %d", h.RequestID, id)
	}
	switch h.Kind {
	case wire.KindResponse:
		var a addReply
		if err := c.Unmarshal(payload, &a); err != nil {
			t.Fatalf("reply %x: %v", payload, err)
		}
		return outcome{sum: a.Sum}
	case wire.KindError:
		code, msg, err := wire.ParseError(payload)
		if err != nil {
			t.Fatal(err)
		}
		return outcome{code: rpcb.Code(code).Slug(), msg: msg}
	}
	t.Fatalf("unexpected %v frame", h.Kind)
	return outcome{}
}
