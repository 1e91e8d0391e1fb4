package protopayload

import (
	"strings"
	"testing"

	"rpcbench/codecs"

	"google.golang.org/protobuf/proto"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]Ref{
		"proto(a/b.proto:pkg.Msg, d/x.json)":    {File: "a/b.proto", Message: "pkg.Msg", Data: "d/x.json"},
		" proto( b.proto : pkg.v1.Msg ,x.json)": {File: "b.proto", Message: "pkg.v1.Msg", Data: "x.json"},
		"proto(set.protoset:pkg.Msg)":           {File: "set.protoset", Message: "pkg.Msg"},
		"proto(C:/dir/b.proto:pkg.Msg)":         {File: "C:/dir/b.proto", Message: "pkg.Msg"},
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for in, wantErr := range map[string]string{
		"Small":                        "want proto(",
		"proto(a.proto:pkg.Msg":        "quote it",
		"proto(a.proto:pkg.Msg, x":     "no closing parenthesis",
		"proto(a.proto, x.json)":       "names no message",
		"proto(:pkg.Msg)":              "names no file",
		"proto(a.proto:)":              "not a full name",
		"proto(a.proto:p.M, x, y)":     "one file name",
		"proto(a.proto:pkg Msg, x.js)": "not a full name",
	} {
		if _, err := Parse(in); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("Parse(%q): %v, want %q", in, err, wantErr)
		}
	}
	r := Ref{File: "api/v1/order.proto", Message: "shop.v1.Order", Data: "samples/order.json"}
	if got := r.Label(); got != "proto(order.proto:shop.v1.Order,order.json)" {
		t.Errorf("label %s", got)
	}
	if back, err := Parse(r.String()); err != nil || back != r {
		t.Errorf("String does not parse back: %v %+v", err, back)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("proto(a/b.proto:pkg.Msg, d/x.json)")
	f.Add("proto(b.proto:pkg.Msg)")
	f.Add("proto(:)")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			return
		}
		if r.File == "" || r.Message == "" {
			t.Fatalf("%q parsed to %+v", s, r)
		}
		if back, err := Parse(r.String()); err != nil || back != r {
			t.Fatalf("%q: %+v does not parse back: %v %+v", s, r, err, back)
		}
	})
}

// Every codec either carries the message faithfully (the check inside
// Form) or says why not; the proto codec carries the dynamic message,
// with every field intact.
func TestLoadAndForms(t *testing.T) {
	m, err := Load(Ref{File: "testdata/order.proto", Message: "shop.v1.Order", Data: "testdata/order.json"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := m.Form("proto")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := codecs.Proto{}.Marshal(nil, f.Value)
	back := f.Zero()
	if err := (codecs.Proto{}).Unmarshal(b, back); err != nil || !proto.Equal(back.(proto.Message), f.Value.(proto.Message)) {
		t.Fatalf("proto round trip: %v", err)
	}
	if !strings.Contains(string(b), "o-1") || !strings.Contains(string(b), "B2") {
		t.Errorf("encoded %d bytes", len(b))
	}
	for _, c := range []string{"json", "fastjson", "msgpack", "cbor"} {
		if _, err := m.Form(c); err != nil {
			t.Errorf("%s: %v", c, err)
		}
	}
	for _, c := range []string{"vtproto", "raw", "xml", "gob", "binary"} {
		if _, err := m.Form(c); err == nil {
			t.Errorf("%s carries a user's message", c)
		}
	}
	if m.Method("proto") != "ProtoEcho.shop.v1.Order" || m.Method("json") != "ProtoEcho.Generic" {
		t.Errorf("methods %s %s", m.Method("proto"), m.Method("json"))
	}
	if n := m.Note("orders"); !strings.Contains(n, "payload orders is shop.v1.Order") || !strings.Contains(n, "dynamic protobuf message") {
		t.Errorf("note %s", n)
	}
	if again, _ := Load(m.Ref); again != m {
		t.Error("a second Load compiled again")
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		ref  Ref
		want string
	}{
		{Ref{File: "testdata/none.proto", Message: "shop.v1.Order"}, "none.proto"},
		{Ref{File: "testdata/order.proto", Message: "shop.v1.Ordr"}, "shop.v1.Order)"},
		{Ref{File: "testdata/order.proto", Message: "shop.v1.Order", Data: "testdata/none.json"}, "none.json"},
		{Ref{File: "testdata/order.proto", Message: "shop.v1.Order", Data: "testdata/order.proto"}, "does not match shop.v1.Order"},
	} {
		if _, err := Load(tc.ref); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.ref, err, tc.want)
		}
	}
}
