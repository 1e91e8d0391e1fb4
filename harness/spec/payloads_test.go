package spec_test

import (
	"strings"
	"testing"

	"rpcbench/harness/spec"
)

// specs/example-message.yaml, read from the repository's root as its
// comment says to run it: the user's message is loaded, crossed with the
// codecs as a named payload, and the plan notes how each codec carries it.
func TestExampleMessageSpec(t *testing.T) {
	t.Chdir("../..")
	sp, _, err := spec.ReadFile("specs/example-message.yaml")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := sp.Expand()
	if err != nil {
		t.Fatal(err)
	}
	hello := 0
	for _, c := range plan.Cells {
		if c.Payload == "hello" {
			hello++
			m, err := sp.ProtoPayload(c.Payload)
			if err != nil || m == nil || m.Message != "greet.v1.HelloRequest" {
				t.Fatalf("%s: %v %v", c.Key, m, err)
			}
		}
	}
	if hello != 6 {
		t.Errorf("%d cells of the user's message, want 2 transports × 3 codecs", hello)
	}
	if notes := strings.Join(plan.Notes, "\n"); !strings.Contains(notes, "payload hello is greet.v1.HelloRequest") {
		t.Errorf("notes: %s", notes)
	}
}

// An unknown payload name lists the user's own message among the choices.
func TestUnknownPayloadNamesProtoPayloads(t *testing.T) {
	sp, err := spec.Parse([]byte("dimensions:\n  transport: [tcp]\n  codec: [proto]\n  payload: [Huge]\n"))
	if err == nil {
		_, err = sp.Expand()
	}
	if err == nil || !strings.Contains(err.Error(), "dimensions.payload[0]") || !strings.Contains(err.Error(), "proto(FILE:pkg.Msg, DATA)") {
		t.Errorf("got %v", err)
	}
}
