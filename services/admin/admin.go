// Package admin is the administrative service of an rpcbench server and its
// whole wire format: the server side registers the methods here, and a
// harness on another host (harness/remote) calls them with these types.
// The harness's own server processes (harness/serverproc) send the same
// Stats over their stdin/stdout instead, so that asking for them puts no
// bytes on the wire being measured.
package admin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
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

// Args is the request of every admin method: the token the server's admin
// methods were registered with.
type Args struct {
	Token string `json:"token"`
}

// TokenEnv names the environment variable from which 'rpcbench serve
// --admin' and 'rpcbench bench --server' read the admin token when no
// --admin-token flag gives it.
const TokenEnv = "RPCBENCH_ADMIN_TOKEN"

// errToken is the one answer to a wrong or missing token: it says nothing
// about the token expected.
var errToken = errors.New("admin: refused: wrong or missing admin token (see 'rpcbench serve --admin')")

// NewToken returns a fresh random token (128 bits, hex).
func NewToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

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
// in Codec, each answering only a request carrying token (they reveal the
// host and let a caller force collections, so a server has none unless it
// asks). A server on another host answers them on a connection of their
// own.
func Register(srv *rpcbench.Server, serving *Serving, token string) error {
	if token == "" {
		return errors.New("admin: the admin methods need a token")
	}
	if serving == nil {
		serving = &Serving{}
	}
	for _, err := range []error{
		handle(srv, token, MethodStats, func() (*Stats, error) {
			// A writer counts its bytes once its write returns, which can
			// be after the peer read them and asked for these stats: let
			// the last replies be counted first.
			time.Sleep(statsSettle)
			st := Collect(srv)
			return &st, nil
		}),
		handle(srv, token, MethodGC, func() (*OK, error) {
			runtime.GC()
			return &OK{}, nil
		}),
		handle(srv, token, MethodHost, func() (*Host, error) {
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

// handle registers an admin method that runs f only for a request
// carrying token, compared in constant time.
func handle[Resp any](srv *rpcbench.Server, token, method string, f func() (*Resp, error)) error {
	return rpcbench.Handle(srv, method, func(_ context.Context, a *Args) (*Resp, error) {
		if subtle.ConstantTimeCompare([]byte(a.Token), []byte(token)) != 1 {
			return nil, errToken
		}
		return f()
	})
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
