package services_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/codecs"
	"rpcbench/codecs/benchmsg"
	_ "rpcbench/codecs/flatbuf"
	_ "rpcbench/codecs/thriftcodec"
	"rpcbench/services"
	"rpcbench/transports"
	_ "rpcbench/transports/all"
)

// TestEchoEveryCodecEveryTransport calls the benchmark echo methods with
// every codec over every direct transport, on real loopback sockets: each
// payload comes back equal. Codecs that can tell message types apart must
// also refuse a request of the wrong type with a bad-request error rather
// than answer with a zeroed message.
func TestEchoEveryCodecEveryTransport(t *testing.T) {
	srv := rpcbench.NewServer(rpcbench.ServerOptions{})
	if err := services.RegisterBench(srv); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	// The brokered transports need a broker: their own packages test them.
	for _, name := range transports.DirectNames() {
		t.Run(name, func(t *testing.T) {
			tr, err := transports.New(name, transports.Options{})
			if err != nil {
				t.Fatal(err)
			}
			addr := "127.0.0.1:0"
			if transports.Network(tr) == "unix" {
				addr = filepath.Join(t.TempDir(), "s")
			}
			l, err := tr.Listen(addr)
			if err != nil {
				t.Fatal(err)
			}
			go srv.Serve(l)
			for _, codec := range codecs.Names() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				c, err := rpcbench.Dial(ctx, tr, l.Addr().String(), rpcbench.ClientOptions{Codec: codec})
				if err != nil {
					cancel()
					t.Fatal(err)
				}
				for _, p := range []string{"Small", "Medium", "Large", "Bytes:100"} {
					if codec == "raw" && p != "Bytes:100" {
						continue
					}
					method, _ := services.BenchEchoMethod(p)
					req, _ := benchmsg.New(p, 1)
					resp, _ := benchmsg.NewZero(p)
					if err := c.Call(ctx, method, req, resp); err != nil {
						t.Errorf("%s %s: %v", codec, p, err)
					} else if !benchmsg.Equal(req, resp) {
						t.Errorf("%s %s: echo changed the message", codec, p)
					}
				}
				if refusesWrongType(codec) {
					err := c.Call(ctx, services.MethodEchoMedium, benchmsg.NewSmall(1), new(benchmsg.Medium))
					var e *rpcbench.Error
					if !errors.As(err, &e) || e.Code != rpcbench.CodeBadRequest {
						t.Errorf("%s: a Small sent to %s: %v, want a bad request", codec, services.MethodEchoMedium, err)
					}
				}
				c.Close()
				cancel()
			}
		})
	}
}

// refusesWrongType: the codecs whose encoding names the message type.
func refusesWrongType(codec string) bool {
	return codec == "binary" || codec == "flatbuffers" || strings.HasPrefix(codec, "thrift-")
}
