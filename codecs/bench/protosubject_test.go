package bench

import (
	"strings"
	"testing"

	"rpcbench/targets/greeter/greetpb"
)

// A user's message goes through protobuf as itself, through protojson, and
// through the generic codecs in its generic form; the others are not
// applicable, each with its reason.
func TestProtoSubjectCases(t *testing.T) {
	md := (&greetpb.HelloRequest{}).ProtoReflect().Descriptor()
	sub, err := ProtoSubject(md, []byte(`{"name":"Ann","times":3,"tags":["a","b"]}`))
	if err != nil {
		t.Fatal(err)
	}
	cases, skipped, err := Cases(Options{Subject: sub, Codecs: []string{"proto", "json", "msgpack", "cbor", "vtproto", "raw"}})
	if err != nil {
		t.Fatal(err)
	}
	forms := map[string]string{}
	for _, c := range cases {
		if c.Message != "greet.v1.HelloRequest" || c.Encoded <= 0 {
			t.Fatalf("case %+v", c)
		}
		forms[c.Codec] = c.Form
	}
	for codec, want := range map[string]string{"proto": "dynamicpb", "protojson": "JSON mapping", "json": "generic form", "msgpack": "generic form", "cbor": "generic form"} {
		if !strings.Contains(forms[codec], want) {
			t.Errorf("%s: form %q, want %q", codec, forms[codec], want)
		}
	}
	if len(skipped) != 2 || !strings.Contains(skipped[0].Reason, "not applicable") {
		t.Errorf("skipped %+v", skipped)
	}
	if _, err := ProtoSubject(md, []byte(`{"nmae":"x"}`)); err == nil || !strings.Contains(err.Error(), "nmae") {
		t.Errorf("bad data: %v", err)
	}
}
