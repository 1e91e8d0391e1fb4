package rpcext_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"rpcbench"
	"rpcbench/harness/load"
	"rpcbench/services"
	"rpcbench/services/admin"
	"rpcbench/target"
	"rpcbench/targets"
	"rpcbench/targets/rpcext"
	"rpcbench/transports"
	_ "rpcbench/transports/tcp"
)

// TestJSONThroughEachCodec serves Arith.Add with a handler that records
// the arguments, and checks that the JSON data arrives intact through
// several codecs, templates included.
func TestJSONThroughEachCodec(t *testing.T) {
	tr, err := transports.New("tcp", transports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := rpcbench.NewServer(rpcbench.ServerOptions{})
	var mu sync.Mutex
	seen := map[int64]int64{} // A -> B
	err = rpcbench.Handle(srv, "Arith.Add", func(_ context.Context, a *services.AddArgs) (*services.AddReply, error) {
		mu.Lock()
		seen[a.A] = a.B
		mu.Unlock()
		return &services.AddReply{Sum: a.A + a.B}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := tr.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	url := "rpcbench+tcp://" + l.Addr().String()
	for _, codec := range []string{"json", "msgpack", "cbor", "fastjson"} {
		t.Run(codec, func(t *testing.T) {
			mu.Lock()
			clear(seen)
			mu.Unlock()
			tgt, err := rpcext.Open(context.Background(), targets.Def{URL: url, Call: "Arith.Add", Codec: codec,
				Data: `{"a":{{.RequestNumber}},"b":{{randomInt 5 6}}}`})
			if err != nil {
				t.Fatal(err)
			}
			c, err := tgt.Dial(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			res, err := load.Run(context.Background(), []target.Conn{c}, load.Options{Workers: 2, Calls: 50})
			if err != nil || res.Rec.ErrorCount() != 0 {
				t.Fatalf("%v %v", err, res.Rec.Errors)
			}
			mu.Lock()
			defer mu.Unlock()
			// 50 calls and Open's check, each with its own request number.
			if len(seen) != 51 {
				t.Fatalf("%d distinct requests, want 51", len(seen))
			}
			for a, b := range seen {
				if b != 5 || a < 0 || a > 51 {
					t.Fatalf("request a=%d b=%d, want a in [0,51], b=5", a, b)
				}
			}
		})
	}
	for _, c := range []struct {
		def  targets.Def
		want string
	}{
		{targets.Def{URL: url, Call: "Arith.Mul"}, "methods: Arith.Add, Bench.EchoBlob"},
		{targets.Def{URL: url, Call: "Arith.Add", Data: `{"c":1}`}, `unknown field "c"`},
		{targets.Def{URL: url, Call: "Arith.Add", Codec: "nope"}, "unknown codec"},
		{targets.Def{URL: url, Call: "Arith.Add"}, "cannot be encoded by proto"},
		{targets.Def{URL: "rpcbench+nope://" + l.Addr().String(), Call: "Arith.Add"}, "tcp"},
		{targets.Def{URL: url, Call: "Bench.EchoSmall"}, "first call of Bench.EchoSmall failed"},
	} {
		if _, err := rpcext.Open(context.Background(), c.def); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", c.def, err, c.want)
		}
	}
}

// orderArgs is a message of the server's own, with a 64-bit number that
// float64 would round.
type orderArgs struct {
	Item   string   `json:"item"`
	Count  int32    `json:"count"`
	ID     uint64   `json:"id"`
	Labels []string `json:"labels"`
}

// A server's own method, which this binary does not have: the target
// builds its types from the server's Admin.Describe, and the data arrives
// field by field through codecs that encode structs by position (msgpack)
// or by Go field name (gob).
func TestDescribedMethod(t *testing.T) {
	tr, _ := transports.New("tcp", transports.Options{})
	srv := rpcbench.NewServer(rpcbench.ServerOptions{})
	defer srv.Close()
	var mu sync.Mutex
	var got []orderArgs
	if err := rpcbench.Handle(srv, "Shop.Quote", func(_ context.Context, a *orderArgs) (*services.AddReply, error) {
		mu.Lock()
		got = append(got, *a)
		mu.Unlock()
		return &services.AddReply{Sum: int64(a.Count)}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := admin.RegisterDescribe(srv); err != nil {
		t.Fatal(err)
	}
	l, err := tr.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	url := "rpcbench+tcp://" + l.Addr().String()
	want := orderArgs{Item: "A-1", Count: 3, ID: 9007199254740993, Labels: []string{"x", "y"}}
	for _, codec := range []string{"msgpack", "gob", "cbor", "json"} {
		mu.Lock()
		got = nil
		mu.Unlock()
		if _, err := rpcext.Open(context.Background(), targets.Def{URL: url, Call: "Shop.Quote", Codec: codec,
			Data: `{"item":"A-1","count":3,"id":9007199254740993,"labels":["x","y"]}`}); err != nil {
			t.Fatalf("%s: %v", codec, err)
		}
		mu.Lock()
		if len(got) != 1 || got[0].Item != want.Item || got[0].Count != want.Count || got[0].ID != want.ID || strings.Join(got[0].Labels, ",") != "x,y" {
			t.Errorf("%s: the server got %+v, want %+v", codec, got, want)
		}
		mu.Unlock()
	}
	_, err = rpcext.Open(context.Background(), targets.Def{URL: url, Call: "Shop.Order", Codec: "msgpack"})
	if err == nil || !strings.Contains(err.Error(), "no method Shop.Order (methods: Admin.Describe, Shop.Quote)") {
		t.Errorf("a method the server lacks: %v", err)
	}
	_, err = rpcext.Open(context.Background(), targets.Def{URL: url, Call: "Shop.Quote", Codec: "proto"})
	if err == nil || !strings.Contains(err.Error(), "cannot be encoded by proto") {
		t.Errorf("proto for a plain struct: %v", err)
	}
}
