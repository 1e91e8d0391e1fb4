package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// golden frames: each testdata/<name>.hex holds the encoding of the frame
// of that name, so that a change to the layout is a visible diff.
var golden = map[string]Frame{
	"request":  {Kind: KindRequest, Codec: 2, CallID: 0xDEADBEEF, RequestID: 7, BudgetMicros: 250000, Payload: []byte(`{"a":1,"b":2}`)},
	"response": {Kind: KindResponse, Codec: 1, Compression: 3, CallID: 0x01020304, RequestID: 1 << 40, Payload: []byte("hi")},
	"error":    {Kind: KindError, CallID: 9, RequestID: 9, Payload: AppendError(nil, 1, "no method")},
	"ping":     {Kind: KindPing, RequestID: 3},
	"fragment": {Kind: KindRequest, Flags: FlagFragment | FlagLastFragment, Codec: 1, CallID: 1, RequestID: 2, Payload: []byte{0, 1, 2}},
	"cookie":   {Kind: KindPong, Flags: FlagCookie, Payload: []byte{0x10, 0x32, 0x54, 0x76, 0x98, 0xBA, 0xDC, 0xFE, 1, 2, 3, 4, 5, 6, 7, 8}},
}

func TestGolden(t *testing.T) {
	for name, f := range golden {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name+".hex")
			got := hex.EncodeToString(Append(nil, &f))
			if os.Getenv("UPDATE_GOLDEN") != "" {
				if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create)", err)
			}
			if got != strings.TrimSpace(string(want)) {
				t.Fatalf("encoding changed:\n got %s\nwant %s", got, want)
			}
			raw, _ := hex.DecodeString(got)
			back, n, err := Parse(raw, 0)
			if err != nil || n != len(raw) {
				t.Fatalf("Parse: n=%d err=%v", n, err)
			}
			if back.Kind != f.Kind || back.Codec != f.Codec || back.Flags != f.Flags || back.Compression != f.Compression ||
				back.CallID != f.CallID || back.RequestID != f.RequestID || back.BudgetMicros != f.BudgetMicros ||
				!bytes.Equal(back.Payload, f.Payload) {
				t.Fatalf("round trip: got %+v want %+v", back, f)
			}
		})
	}
}

func TestParseIncremental(t *testing.T) {
	f := golden["request"]
	buf := Append(nil, &f)
	buf = Append(buf, &f)
	one := len(buf) / 2
	for i := 0; i < one; i++ {
		_, n, err := Parse(buf[:i], 0)
		if err != nil || n != 0 {
			t.Fatalf("prefix of %d bytes: n=%d err=%v, want incomplete", i, n, err)
		}
	}
	_, n, err := Parse(buf, 0)
	if err != nil || n != one {
		t.Fatalf("n=%d err=%v, want %d", n, err, one)
	}
}

func TestParseErrors(t *testing.T) {
	good := Append(nil, &Frame{Kind: KindRequest, Payload: make([]byte, 100)})
	mod := func(i int, b byte) []byte { c := bytes.Clone(good); c[i] = b; return c }
	cases := []struct {
		name string
		buf  []byte
		max  int
		want error
	}{
		{"magic", mod(0, 'G'), 0, ErrBadMagic},
		{"magic in a short buffer", []byte("GET"), 0, ErrBadMagic},
		{"version", mod(1, 9), 0, ErrBadVersion},
		{"kind zero", mod(2, 0), 0, ErrBadKind},
		{"kind unknown", mod(2, 200), 0, ErrBadKind},
		{"flags", mod(4, 0x80), 0, ErrBadHeader},
		{"reserved", mod(7, 1), 0, ErrBadHeader},
		{"over limit", good, 99, ErrTooLarge},
		{"over default limit", func() []byte { c := bytes.Clone(good[:HeaderLen]); PutPayloadLen(c, 0, DefaultMaxPayload+1); return c }(), 0, ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Parse(c.buf, c.max)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestParseDatagram(t *testing.T) {
	f := golden["request"]
	b := Append(nil, &f)
	if _, err := ParseDatagram(b, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseDatagram(b[:len(b)-1], 0); err == nil {
		t.Fatal("truncated datagram accepted")
	}
	if _, err := ParseDatagram(append(b, 0), 0); err == nil {
		t.Fatal("datagram with trailing bytes accepted")
	}
}

func TestBudget(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want uint32
	}{{-time.Second, 1}, {0, 1}, {time.Nanosecond, 1}, {1500 * time.Nanosecond, 2}, {time.Second, 1e6}, {100 * time.Hour, 1<<32 - 1}} {
		if got := Budget(c.d); got != c.want {
			t.Errorf("Budget(%v) = %d, want %d", c.d, got, c.want)
		}
	}
}

func TestErrorPayload(t *testing.T) {
	code, msg, err := ParseError(AppendError(nil, 7, "too big"))
	if err != nil || code != 7 || msg != "too big" {
		t.Fatalf("got %d %q %v", code, msg, err)
	}
	if _, _, err := ParseError([]byte{1}); err == nil {
		t.Fatal("1-byte error payload accepted")
	}
}

func TestAppendDoesNotAllocate(t *testing.T) {
	f := golden["request"]
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { buf = Append(buf[:0], &f) }); n != 0 {
		t.Fatalf("Append allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _, _ = Parse(buf, 0) }); n != 0 {
		t.Fatalf("Parse allocates %v times", n)
	}
}

// FuzzParse: no input may panic, a parsed frame re-encodes to the bytes it
// came from, and no length over the limit is ever accepted.
func FuzzParse(f *testing.F) {
	for _, fr := range golden {
		f.Add(Append(nil, &fr))
	}
	f.Add([]byte{Magic, Version, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		const limit = 1 << 16
		fr, n, err := Parse(b, limit)
		if err != nil || n == 0 {
			return
		}
		if len(fr.Payload) > limit {
			t.Fatalf("payload of %d bytes over the %d limit", len(fr.Payload), limit)
		}
		if again := Append(nil, &fr); !bytes.Equal(again, b[:n]) {
			t.Fatalf("re-encoding differs:\n%x\n%x", again, b[:n])
		}
	})
}
