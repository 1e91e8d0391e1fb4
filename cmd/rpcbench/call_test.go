package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"rpcbench/codecs"
)

// runBinary runs rpcbench with args and returns its stdout, stderr and
// exit status.
func runBinary(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(rpcbenchBinary(t), args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// startLine starts rpcbench with args and returns the address from the
// first line of its output that ends in " on ADDRESS", and a function
// that returns its output so far. The process is killed when the test
// ends.
func startLine(t *testing.T, args ...string) (string, func() string) {
	t.Helper()
	cmd := exec.Command(rpcbenchBinary(t), args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	var mu sync.Mutex
	var lines strings.Builder
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			mu.Lock()
			lines.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if _, a, ok := strings.Cut(sc.Text(), " on "); ok {
				select {
				case addr <- a:
				default:
				}
			}
		}
	}()
	output := func() string {
		mu.Lock()
		defer mu.Unlock()
		return lines.String()
	}
	select {
	case a := <-addr:
		return a, output
	case <-time.After(10 * time.Second):
		t.Fatalf("rpcbench %s printed no address", strings.Join(args, " "))
		return "", nil
	}
}

// TestCallEveryCodec calls the built-in methods with every codec: the JSON
// on the command line becomes the method's own request type, so each codec
// that can carry it gets the right answer (msgpack's sum was 0), large
// integers keep every digit, and a codec that cannot encode the request
// fails on the client's side, saying so and naming the codecs that can.
func TestCallEveryCodec(t *testing.T) {
	addr := serve(t, nil, "--transport", "tcp", "--addr", "127.0.0.1:0")
	carries := map[string]bool{"json": true, "fastjson": true, "msgpack": true, "cbor": true, "gob": true, "xml": true}
	for _, codec := range codecs.Names() {
		t.Run(codec, func(t *testing.T) {
			out, errOut, code := runBinary(t, "call", "--codec", codec, "--addr", addr, "Arith.Add", `{"a":1,"b":2}`)
			if carries[codec] {
				if code != 0 || strings.TrimSpace(out) != `{"sum":3}` {
					t.Fatalf("Arith.Add: exit %d, stdout %q, stderr %q", code, out, errOut)
				}
			} else if code != 1 || !strings.Contains(errOut, "client-side") || !strings.Contains(errOut, "msgpack") || strings.Contains(errOut, "bad_request") {
				t.Fatalf("Arith.Add: exit %d, stderr %q: want a client-side failure naming the codecs that can carry it", code, errOut)
			}
			if codec == "raw" {
				out, errOut, code = runBinary(t, "call", "--codec", codec, "--addr", addr, "Echo.Echo", `"hello"`)
				if code != 0 || strings.TrimSpace(out) != `"hello"` {
					t.Fatalf("Echo.Echo: exit %d, stdout %q, stderr %q", code, out, errOut)
				}
				return
			}
			small := `{"name":"n","birthday":9007199254740993,"siblings":2}`
			out, errOut, code = runBinary(t, "call", "--codec", codec, "--addr", addr, "Bench.EchoSmall", small)
			if code != 0 || strings.TrimSpace(out) != small {
				t.Fatalf("Bench.EchoSmall: exit %d, stdout %q, stderr %q", code, out, errOut)
			}
		})
	}
	out, errOut, code := runBinary(t, "call", "--addr", addr, "Arith.Add", `{"a":1,"c":2}`)
	if code != 2 || !strings.Contains(errOut, `unknown field "c"`) || out != "" {
		t.Errorf("unknown request field: exit %d, stderr %q", code, errOut)
	}
	out, _, code = runBinary(t, "call", "--addr", addr, "Admin.Describe")
	if code != 0 || !strings.Contains(out, `"name":"Arith.Add","request":"services.AddArgs"`) {
		t.Errorf("Admin.Describe: exit %d, %s", code, out)
	}
}

// TestRegistryList starts a registry and a server announced in it, lists
// the registry, and resolves a service through call: the registry's epoch,
// an odd 64-bit number, must come back exactly (float64 rounded it even).
func TestRegistryList(t *testing.T) {
	reg, _ := startLine(t, "registry", "--addr", "127.0.0.1:0")
	url := "rpcbench://" + reg
	if out, _, code := runBinary(t, "registry", "list", "--registry", url); code != 0 || !strings.Contains(out, "no services registered") {
		t.Fatalf("empty registry: exit %d, %q", code, out)
	}
	srv, srvOut := startLine(t, "serve", "--addr", "127.0.0.1:0", "--registry", url)
	var out, errOut string
	var code int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if out, errOut, code = runBinary(t, "registry", "list", "--registry", url); strings.Contains(out, "Arith") {
			break
		}
	}
	if code != 0 || !strings.HasPrefix(out, "SERVICE") {
		t.Fatalf("registry list: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if log := srvOut(); !strings.Contains(log, "announced") || strings.Contains(log, "lease lease") {
		t.Errorf("serve's log: %q", log)
	}
	for _, svc := range []string{"Admin", "Arith", "Bench", "Echo"} {
		if !strings.Contains(out, "\n"+svc+" ") || !strings.Contains(out, srv) {
			t.Errorf("registry list lacks %s at %s:\n%s", svc, srv, out)
		}
	}
	for _, codec := range []string{"json", "msgpack"} {
		out, errOut, code = runBinary(t, "call", "--codec", codec, "--addr", reg, "Registry.Resolve", `{"service":"Arith"}`)
		var r struct {
			Epoch json.Number `json:"epoch"`
		}
		dec := json.NewDecoder(strings.NewReader(out))
		dec.UseNumber()
		if code != 0 || dec.Decode(&r) != nil {
			t.Fatalf("%s: Registry.Resolve: exit %d, %q %q", codec, code, out, errOut)
		}
		if e, err := strconv.ParseUint(string(r.Epoch), 10, 64); err != nil || e%2 != 1 {
			t.Errorf("%s: epoch %s lost its digits (it is odd by construction)", codec, r.Epoch)
		}
	}
	if _, errOut, code := runBinary(t, "registry", "list", "--registry", "nosuch://x"); code != 2 || !strings.Contains(errOut, "known") {
		t.Errorf("unknown scheme: exit %d, %q", code, errOut)
	}
}

// TestDialErrorSaysItOnce: a refused connection names the transport and
// address once.
func TestDialErrorSaysItOnce(t *testing.T) {
	for _, tr := range []string{"tcp", "http1"} {
		_, errOut, code := runBinary(t, "call", "--transport", tr, "--addr", "127.0.0.1:1", "Arith.Add")
		if code != 1 || strings.Count(errOut, "127.0.0.1:1") != 1 || strings.Count(errOut, "dial") != 1 {
			t.Errorf("%s: exit %d, %q", tr, code, errOut)
		}
	}
}
