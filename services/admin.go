package services

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
	"rpcbench/harness/cost"
)

// The admin methods and the codec their messages travel in. This file is
// their whole wire format: the server side registers them here, and a
// harness on another host (harness/remote) calls them with these types.
const (
	MethodAdminStats = "Admin.Stats"
	MethodAdminHost  = "Admin.Host"
	MethodAdminGC    = "Admin.GC"
	// AdminCodec encodes the admin messages (plain structs).
	AdminCodec = "json"
)

// statsSettle is how long Admin.Stats waits for the counts of replies
// already sent to be added.
const statsSettle = 5 * time.Millisecond

// AdminStats is Admin.Stats's reply: the serving process's own cost
// counters (CPU, allocations, RSS, socket bytes; see harness/cost) and the
// server's call counters. Counters are cumulative; take two and subtract.
type AdminStats struct {
	cost.Snapshot
	Calls    uint64 `json:"calls"`
	Failed   uint64 `json:"failed"`
	Inflight int64  `json:"inflight"`
}

// AdminArgs is the request of every admin method: the token the server's
// admin methods were registered with.
type AdminArgs struct {
	Token string `json:"token"`
}

// AdminTokenEnv names the environment variable from which 'rpcbench serve
// --admin' and 'rpcbench bench --server' read the admin token when no
// --admin-token flag gives it.
const AdminTokenEnv = "RPCBENCH_ADMIN_TOKEN"

// errAdminToken is the one answer to a wrong or missing token: it says
// nothing about the token expected.
var errAdminToken = errors.New("admin: refused: wrong or missing admin token (see 'rpcbench serve --admin')")

// NewAdminToken returns a fresh random token (128 bits, hex).
func NewAdminToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// AdminStatsArgs is Admin.Stats's request.
type AdminStatsArgs = AdminArgs

// AdminOK is the (empty) reply of Admin.GC.
type AdminOK struct{}

// Served is one listener of a server: its transport in the spec's
// canonical form ("tcp", "tcp+gnet", "quic+mux", "http1+tls") and address.
type Served struct {
	Transport string `json:"transport"`
	Addr      string `json:"addr"`
}

// AdminHost is Admin.Host's reply: the serving machine, and what the
// process serves, so that a harness on another host can check its cells
// against it before measuring.
type AdminHost struct {
	cost.Host
	PID         int      `json:"pid"`
	Serving     []Served `json:"serving"`
	Codecs      []string `json:"codecs"`
	Compressors []string `json:"compressors"`
}

// CollectAdminStats reads srv's process and call counters.
func CollectAdminStats(srv *rpcbench.Server) AdminStats {
	st := srv.Stats()
	return AdminStats{Snapshot: cost.Take(), Calls: st.Calls, Failed: st.Failed, Inflight: st.Inflight}
}

// RegisterAdmin adds the administrative methods to srv:
//
//	Admin.Stats   {} -> AdminStats
//	Admin.GC      {} -> {} after a garbage collection, so windows start alike
//	Admin.Host    {} -> AdminHost (the machine, and the listeners in serving; nil for none)
//
// in the AdminCodec, each answering only a request carrying token (they
// reveal the host and let a caller force collections, so they are not
// registered by default). The harness's own server process reports the
// same figures over its stdin/stdout instead, so that asking for them puts
// no bytes on the wire being measured; a server on another host answers
// them on a connection of their own.
func RegisterAdmin(srv *rpcbench.Server, serving *Serving, token string) error {
	if token == "" {
		return errors.New("services: the admin methods need a token")
	}
	if serving == nil {
		serving = &Serving{}
	}
	for _, err := range []error{
		handleAdmin(srv, token, MethodAdminStats, func() (*AdminStats, error) {
			// A writer counts its bytes once its write returns, which can
			// be after the peer read them and asked for these stats: let
			// the last replies be counted first.
			time.Sleep(statsSettle)
			st := CollectAdminStats(srv)
			return &st, nil
		}),
		handleAdmin(srv, token, MethodAdminGC, func() (*AdminOK, error) {
			runtime.GC()
			return &AdminOK{}, nil
		}),
		handleAdmin(srv, token, MethodAdminHost, func() (*AdminHost, error) {
			return &AdminHost{Host: cost.ThisHost(), PID: os.Getpid(), Serving: serving.list(),
				Codecs: codecs.Names(), Compressors: codecs.CompressorNames()}, nil
		}),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// handleAdmin registers an admin method that runs f only for a request
// carrying token, compared in constant time.
func handleAdmin[Resp any](srv *rpcbench.Server, token, method string, f func() (*Resp, error)) error {
	return rpcbench.Handle(srv, method, func(_ context.Context, a *AdminArgs) (*Resp, error) {
		if subtle.ConstantTimeCompare([]byte(a.Token), []byte(token)) != 1 {
			return nil, errAdminToken
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
