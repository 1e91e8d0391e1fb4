package peers

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"rpcbench/target"
)

// raw-quic-mux carries every call of a connection on its one stream, and
// raw-quic opens a stream per call.
func TestQUICStreamsPerConnection(t *testing.T) {
	for _, tc := range []struct {
		name string
		echo func(*quic.Stream)
		mux  bool
	}{{"raw-quic-mux", quicMuxEcho, true}, {"raw-quic", quicEcho, false}} {
		t.Run(tc.name, func(t *testing.T) {
			var streams atomic.Int64
			addr, stop, err := serveQUIC("127.0.0.1:0", func(s *quic.Stream) { streams.Add(1); tc.echo(s) })
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			tgt, err := newRawQUICTarget(target.PeerConfig{Addr: addr, Payload: "Bytes(64)", Seed: 5}, tc.mux)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			const conns, callers, calls = 2, 8, 40
			var cs []target.Conn
			for range conns {
				c, err := tgt.Dial(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				cs = append(cs, c)
			}
			callAll(t, ctx, cs, callers, calls)
			want := int64(conns)
			if !tc.mux {
				want = conns * callers * calls
			}
			if got := streams.Load(); got != want {
				t.Errorf("%d streams for %d connections × %d callers × %d calls, want %d", got, conns, callers, calls, want)
			}
		})
	}
}
