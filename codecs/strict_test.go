package codecs_test

import (
	"strings"
	"testing"

	"rpcbench/codecs"
	"rpcbench/codecs/benchmsg"
	"rpcbench/codecs/strictcases"
)

func TestStrictDecoding(t *testing.T) {
	for _, name := range codecs.Names() {
		cases, ok := strictcases.Cases[name]
		if !ok {
			continue // the protobuf codecs and binary take only messages: TestStrictMessages
		}
		c, _ := codecs.ByName(name)
		for _, tc := range cases {
			t.Run(name+"/"+tc.Name, func(t *testing.T) {
				var got strictcases.AddArgs
				err := c.Unmarshal(tc.Body, &got)
				switch {
				case tc.Refuse == "" && err != nil:
					t.Fatalf("refused: %v", err)
				case tc.Refuse == "" && got != tc.Want:
					t.Fatalf("decoded %+v, want %+v", got, tc.Want)
				case tc.Refuse != "" && err == nil:
					t.Fatalf("accepted as %+v, want an error containing %q", got, tc.Refuse)
				case tc.Refuse != "" && !strings.Contains(err.Error(), tc.Refuse):
					t.Fatalf("error %q does not say %q", err, tc.Refuse)
				}
			})
		}
	}
	for _, name := range []string{"proto", "vtproto", "binary"} {
		if _, ok := strictcases.Cases[name]; ok {
			t.Errorf("%s has cases here but is tested in TestStrictMessages", name)
		}
	}
}

// TestStrictMessages sends every codec the bytes of another benchmark
// message: each must refuse them rather than decode a zero or partial
// message, and accept its own. Protobuf bytes carry no type: Large's
// fields 1-3 (string, varint, bytes) line up with Small's, and only
// protobuf-go's UTF-8 check on Small.phone refuses them; vtproto skips that
// check, so that pair is not asked of it.
func TestStrictMessages(t *testing.T) {
	for _, name := range []string{"proto", "vtproto", "binary", "msgpack", "cbor", "json", "fastjson", "gob", "xml"} {
		c, _ := codecs.ByName(name)
		for _, pair := range [][2]string{{"Medium", "Small"}, {"Small", "Large"}, {"Large", "Small"}} {
			if name == "vtproto" && pair == [2]string{"Large", "Small"} {
				continue
			}
			t.Run(name+"/"+pair[0]+"-as-"+pair[1], func(t *testing.T) {
				body, err := c.Marshal(nil, mustNew(t, pair[0], 1))
				if err != nil {
					t.Fatal(err)
				}
				into := mustZero(t, pair[1])
				if err := c.Unmarshal(body, into); err == nil {
					t.Fatalf("%s bytes decoded as %s: %v", pair[0], pair[1], into)
				}
				same := mustZero(t, pair[0])
				if err := c.Unmarshal(body, same); err != nil {
					t.Fatalf("own %s refused: %v", pair[0], err)
				}
			})
		}
	}
}

func TestMsgpackMapOfMessage(t *testing.T) {
	// A msgpack map keyed by the json names decodes a generated message too.
	c, _ := codecs.ByName("msgpack")
	var s benchmsg.Small
	if err := c.Unmarshal(strictcases.Hex("82 a4 6e 61 6d 65 a2 68 69 a8 73 69 62 6c 69 6e 67 73 03"), &s); err != nil {
		t.Fatal(err)
	}
	if s.GetName() != "hi" || s.GetSiblings() != 3 {
		t.Fatalf("decoded %v", &s)
	}
}

// FuzzStrictUnmarshal feeds every codec arbitrary bytes for a plain struct
// and a generated message: an error is fine, a panic is not, and a body a
// codec accepts must encode again.
func FuzzStrictUnmarshal(f *testing.F) {
	for _, cases := range strictcases.Cases {
		for _, tc := range cases {
			f.Add(tc.Body)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, name := range codecs.Names() {
			c, _ := codecs.ByName(name)
			var a strictcases.AddArgs
			if c.Unmarshal(body, &a) == nil && name != "raw" {
				if _, err := c.Marshal(nil, &a); err != nil {
					t.Errorf("%s: accepted %x but cannot encode %+v: %v", name, body, a, err)
				}
			}
			c.Unmarshal(body, mustZero(t, "Medium"))
		}
	})
}
