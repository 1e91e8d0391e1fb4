package http1

import (
	"net/http"
	"strings"
	"testing"

	"rpcbench"
	"rpcbench/codecs"
	_ "rpcbench/codecs/flatbuf"     // a custom media type
	_ "rpcbench/codecs/thriftcodec" // registered media types and an alias
)

func TestStatusRoundTrip(t *testing.T) {
	for code := rpcbench.Code(0); code < 64; code++ {
		if strings.HasPrefix(code.String(), "code(") {
			continue
		}
		got := CodeOfStatus(StatusOf(code))
		want := code
		if code == rpcbench.CodeUnknown {
			want = rpcbench.CodeInternal // both answer 500
		}
		if got != want {
			t.Errorf("%v: status %d maps back to %v", code, StatusOf(code), got)
		}
	}
	if c := CodeOfStatus(http.StatusRequestEntityTooLarge); c != rpcbench.CodeResourceExhausted {
		t.Errorf("413 maps to %v", c)
	}
}

func TestContentTypes(t *testing.T) {
	for _, name := range codecs.Names() {
		want, _ := codecs.ByName(name)
		ct := ContentType(name)
		for _, v := range []string{ct, strings.ToUpper(ct), ct + "; charset=utf-8", " " + ct + " "} {
			c, ok := codecOf([]byte(v))
			if !ok || c.ID() != want.ID() {
				t.Errorf("codec %s: Content-Type %q maps to %v", name, v, c)
			}
		}
		if got := string(contentTypeOf(want.ID())); got != ct {
			t.Errorf("codec %s: reply Content-Type %q, want %q", name, got, ct)
		}
	}
	for ct, name := range map[string]string{"text/xml": "xml", "application/x-msgpack": "msgpack", "application/protobuf": "proto",
		"application/x-thrift": "thrift-binary"} {
		if c, ok := codecOf([]byte(ct)); ok != (c != nil) || (ok && c.Name() != name) {
			t.Errorf("%s maps to %v", ct, c)
		}
	}
	for _, ct := range []string{"", "application/x-www-form-urlencoded", "application/x-rpcbench-", "application/x-rpcbench-nope", strings.Repeat("a", 200)} {
		if c, ok := codecOf([]byte(ct)); ok {
			t.Errorf("%q maps to %v", ct, c.Name())
		}
	}
}

func TestCallKey(t *testing.T) {
	k := callKey{client: 0xdeadbeefcafef00d, req: 42}
	got, ok, err := parseCallKey(appendCallKey(nil, k))
	if err != nil || !ok || got != k {
		t.Fatalf("round trip: %v %v %v", got, ok, err)
	}
	for _, bad := range []string{"1", "1.", ".1", "g.1", "1.2.3", "11111111111111111.1"} {
		if _, _, err := parseCallKey([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestParseForeignError(t *testing.T) {
	code, msg := parseError(502, []byte("text/html"), []byte("<h1>Bad Gateway</h1>"))
	if code != rpcbench.CodeUnavailable || !strings.Contains(msg, "502 Bad Gateway") || !strings.Contains(msg, "<h1>") {
		t.Fatalf("got %v %q", code, msg)
	}
	code, msg = parseError(404, []byte("application/json"), []byte(`{"code":"unknown_method","message":"m"}`))
	if code != rpcbench.CodeUnknownMethod || msg != "m" {
		t.Fatalf("got %v %q", code, msg)
	}
}
