// Package admin is the administrative service of an rpcbench server and its
// whole wire format: the server side registers the methods here, and a
// harness on another host (harness/remote) calls them with these types.
// The harness's own server processes (harness/serverproc) send the same
// Stats over their stdin/stdout instead, so that asking for them puts no
// bytes on the wire being measured.
package admin

import (
	"context"
	"os"
	"runtime"
	"sync"
	"time"

	"rpcbench"
	"rpcbench/codecs"
	"rpcbench/cost"
)

// The admin methods and the codec their messages travel in.
const (
	MethodStats = "Admin.Stats"
	MethodHost  = "Admin.Host"
	MethodGC    = "Admin.GC"
	// Codec encodes the admin messages (plain structs).
	Codec = "json"
)

// statsSettle is how long Admin.Stats waits for the counts of replies
// already sent to be added.
const statsSettle = 5 * time.Millisecond

// Stats is Admin.Stats's reply: the serving process's own cost counters
// (CPU, allocations, RSS, socket bytes; see package cost) and the server's
// call counters. Counters are cumulative; take two and subtract.
type Stats struct {
	cost.Snapshot
	Calls    uint64 `json:"calls"`
	Failed   uint64 `json:"failed"`
	Inflight int64  `json:"inflight"`
}

// Args is the (empty) request of every admin method.
type Args struct{}

// OK is the (empty) reply of Admin.GC.
type OK struct{}

// Served is one listener of a server: its transport in the spec's
// canonical form ("tcp", "tcp+gnet", "quic+mux", "http1+tls") and address.
type Served struct {
	Transport string `json:"transport"`
	Addr      string `json:"addr"`
}

// Host is Admin.Host's reply: the serving machine, and what the process
// serves, so that a harness on another host can check its cells against it
// before measuring.
type Host struct {
	cost.Host
	PID         int      `json:"pid"`
	Serving     []Served `json:"serving"`
	Codecs      []string `json:"codecs"`
	Compressors []string `json:"compressors"`
}

// Collect reads srv's process and call counters.
func Collect(srv *rpcbench.Server) Stats {
	st := srv.Stats()
	return Stats{Snapshot: cost.Take(), Calls: st.Calls, Failed: st.Failed, Inflight: st.Inflight}
}

// Register adds the administrative methods to srv:
//
//	Admin.Stats   {} -> Stats
//	Admin.GC      {} -> {} after a garbage collection, so windows start alike
//	Admin.Host    {} -> Host (the machine, and the listeners in serving; nil for none)
//
// in Codec. A server on another host answers them on a connection of
// their own.
func Register(srv *rpcbench.Server, serving *Serving) error {
	if serving == nil {
		serving = &Serving{}
	}
	for _, err := range []error{
		rpcbench.Handle(srv, MethodStats, func(context.Context, *Args) (*Stats, error) {
			// A writer counts its bytes once its write returns, which can
			// be after the peer read them and asked for these stats: let
			// the last replies be counted first.
			time.Sleep(statsSettle)
			st := Collect(srv)
			return &st, nil
		}),
		rpcbench.Handle(srv, MethodGC, func(context.Context, *Args) (*OK, error) {
			runtime.GC()
			return &OK{}, nil
		}),
		rpcbench.Handle(srv, MethodHost, func(context.Context, *Args) (*Host, error) {
			return &Host{Host: cost.ThisHost(), PID: os.Getpid(), Serving: serving.list(),
				Codecs: codecs.Names(), Compressors: codecs.CompressorNames()}, nil
		}),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// Serving is the list of listeners Admin.Host reports; the server adds
// each one once it listens. Safe for concurrent use.
type Serving struct {
	mu sync.Mutex
	ls []Served
}

// Add records a listener.
func (s *Serving) Add(transport, addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ls = append(s.ls, Served{transport, addr})
}

func (s *Serving) list() []Served {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Served(nil), s.ls...)
}
