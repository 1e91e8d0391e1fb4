package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCodecsOwnMessage measures a user's message as the README shows it,
// with its data inline, in a file named as is (as the command line of
// "Your message through every codec" has it) and in a file named with @:
// every way gives the same table, protobuf as a dynamic message, the
// generic codecs on the generic form, and xml not applicable with why.
func TestCodecsOwnMessage(t *testing.T) {
	const msg = `{"name":"Ann","times":3,"tags":["a","b"]}`
	file := filepath.Join(t.TempDir(), "sample.json")
	if err := os.WriteFile(file, []byte(msg), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, data := range []string{msg, file, "@" + file} {
		out, errOut, code := runBinary(t, "codecs", "--proto", "../../targets/greeter/greetpb/greet.proto", "--message", "greet.v1.HelloRequest",
			"--data", data, "--codecs", "proto,json,msgpack,xml", "--count", "1", "--benchtime", "5ms", "--quiet")
		if code != 0 {
			t.Fatalf("--data %s: exit %d: %s", data, code, errOut)
		}
		for _, want := range []string{"proto     the message (dynamic protobuf message, dynamicpb)", "msgpack   the generic form", "skipped xml/greet.v1.HelloRequest: not applicable"} {
			if !strings.Contains(out, want) {
				t.Errorf("--data %s: output lacks %q:\n%s", data, want, out)
			}
		}
	}
	_, errOut, code := runBinary(t, "codecs", "--proto", "../../targets/greeter/greetpb/greet.proto", "--message", "greet.v1.HelloRequest", "--data", "nope.json")
	if code == 0 || !strings.Contains(errOut, "neither a JSON object nor a file") || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
		t.Errorf("missing data file: exit %d, stderr %q", code, errOut)
	}
}
