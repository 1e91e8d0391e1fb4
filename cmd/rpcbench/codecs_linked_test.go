package main_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestEveryCodecLinked: the rpcbench binary (the harness, "serve" and the
// bench servers alike) knows every codec by name, including those that
// register themselves from the packages they live in (binary, from
// codecs/benchmsg): a codec the binary does not link would fail cells and
// HTTP Content-Types at run time only.
func TestEveryCodecLinked(t *testing.T) {
	out, err := exec.Command(rpcbenchBinary(t), "call", "--codec", "no-such-codec", "--addr", "127.0.0.1:1", "X.Y").CombinedOutput()
	if err == nil {
		t.Fatalf("a call with an unknown codec succeeded: %s", out)
	}
	_, list, ok := strings.Cut(string(out), "(valid: ")
	if !ok {
		t.Fatalf("the unknown codec's error lists no valid codecs: %s", out)
	}
	list, _, _ = strings.Cut(list, ")")
	have := map[string]bool{}
	for _, name := range strings.Split(list, ", ") {
		have[name] = true
	}
	for _, want := range []string{"binary", "cbor", "fastjson", "gob", "json", "msgpack", "proto", "raw", "vtproto", "xml"} {
		if !have[want] {
			t.Errorf("the rpcbench binary does not know codec %q (it lists %s)", want, list)
		}
	}
}
