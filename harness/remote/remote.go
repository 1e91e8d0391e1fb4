// Package remote reaches a benchmark server that the harness did not
// start: "rpcbench serve" on another host, measured by "rpcbench bench
// --server ADDR" on this one. It talks to the server's admin methods
// (services/admin) on a connection of its own, never on the
// connections being measured, learns what the server serves (Admin.Host)
// and reads its cost counters (Admin.Stats) before and after each window.
//
// The admin connection's own bytes still pass through the server's socket
// counters; Stats takes them out (see Stats), so the server's bytes on the
// wire per call stay exact.
package remote

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"

	"rpcbench"
	"rpcbench/harness/spec"
	"rpcbench/services/admin"
	"rpcbench/transports"
	_ "rpcbench/transports/all" // transports are chosen by name here
	"rpcbench/transports/tlsconf"
	"rpcbench/wirestats"
)

// Server is a server on another host, reached through its admin methods.
// Its methods are safe for concurrent use; Stats is exact only while this
// process makes no other calls (between measured windows).
type Server struct {
	// Addr is the admin address as given, without a transport prefix.
	Addr string
	host string
	c    *rpcbench.Client
	info admin.Host
	// methods are the methods the server serves (Admin.Describe).
	methods map[string]bool

	token string

	mu sync.Mutex
	// sent and received count the admin connection's bytes so far, as
	// this side's socket counters saw them.
	sent, received uint64
}

// Access is what it takes to reach a server's admin methods.
type Access struct {
	// Token is the admin token the server was started with.
	Token string
	// TLS says how to verify the server's certificate, and which one to
	// present, over a TLS transport.
	TLS tlsconf.Settings
}

// Dial connects to the admin methods at addr, "[TRANSPORT://]HOST:PORT"
// (transport in the spec's form, default tcp: e.g. "tcp+tls://10.0.0.1:7000"),
// and asks the server what it serves.
func Dial(ctx context.Context, addr string, a Access) (*Server, error) {
	ts := spec.Transport{Name: "tcp"}
	if scheme, rest, ok := strings.Cut(addr, "://"); ok {
		var err error
		if ts, err = spec.ParseTransport(scheme); err != nil {
			return nil, fmt.Errorf("remote: server %q: %w", addr, err)
		}
		addr = rest
	}
	o := ts.Options()
	o.TLSConf = a.TLS
	t, err := transports.New(ts.Name, o)
	if err != nil {
		return nil, fmt.Errorf("remote: server %q: %w", addr, err)
	}
	s := &Server{Addr: addr, host: addr, token: a.Token}
	if h, _, err := net.SplitHostPort(addr); err == nil {
		s.host = h
	}
	w0 := wirestats.Take()
	s.c, err = rpcbench.Dial(ctx, t, addr, rpcbench.ClientOptions{Codec: admin.Codec, Conns: 1, HeartbeatInterval: -1})
	w1 := wirestats.Take()
	if err != nil {
		return nil, fmt.Errorf("remote: dialing the server's admin methods at %s over %s: %w", addr, ts, err)
	}
	s.count(w0, w1)
	if err := s.call(ctx, admin.MethodHost, &s.info); err != nil {
		s.c.Close()
		return nil, fmt.Errorf("remote: %s does not answer %s (is it 'rpcbench serve --admin' of this version, and is --admin-token its token?): %w", addr, admin.MethodHost, err)
	}
	var d admin.Description
	if err := s.call(ctx, admin.MethodDescribe, &d); err != nil {
		s.c.Close()
		return nil, fmt.Errorf("remote: %s does not answer %s: %w", addr, admin.MethodDescribe, err)
	}
	s.methods = map[string]bool{}
	for _, m := range d.Methods {
		s.methods[m.Name] = true
	}
	return s, nil
}

// Serves reports whether the server has the method (users' messages are
// echoed only by a server started with 'serve --echo-protoset').
func (s *Server) Serves(method string) bool { return s.methods[method] }

// Info is what the server said about itself when dialled.
func (s *Server) Info() admin.Host { return s.info }

// Endpoint returns the address at which the server serves t, or an error
// naming what it serves instead. A listener bound to every interface is
// reached at the admin address's host. A listener serves every client
// mode of its transport (quic serves quic+mux), and "net" is the default
// engine (tcp+net is tcp).
func (s *Server) Endpoint(t spec.Transport) (string, error) {
	want := t.String()
	var have []string
	for _, l := range s.info.Serving {
		if lt, err := spec.ParseTransport(l.Transport); err != nil || lt.Served() != t.Served() {
			have = append(have, l.Transport+" on "+l.Addr)
			continue
		}
		host, port, err := net.SplitHostPort(l.Addr)
		if err != nil || t.Name == "unix" {
			return l.Addr, nil
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			host = s.host
		}
		return net.JoinHostPort(host, port), nil
	}
	if len(have) == 0 {
		have = []string{"nothing"}
	}
	return "", fmt.Errorf("remote: the server at %s does not serve %s (it serves %s): start 'rpcbench serve' there with that transport, or leave the cell out", s.Addr, want, strings.Join(have, ", "))
}

// Check reports whether the server can answer in codec and compression:
// a server built from another version may lack one.
func (s *Server) Check(codec, compression string) error {
	if !slices.Contains(s.info.Codecs, codec) {
		return fmt.Errorf("remote: the server at %s has no codec %q (it has %s)", s.Addr, codec, strings.Join(s.info.Codecs, ", "))
	}
	if compression != "none" && compression != "" && !slices.Contains(s.info.Compressors, compression) {
		return fmt.Errorf("remote: the server at %s has no compressor %q (it has %s)", s.Addr, compression, strings.Join(s.info.Compressors, ", "))
	}
	return nil
}

// Stats returns the server's counters with the admin connection's own
// traffic taken out: when the server takes its snapshot it has read every
// admin request so far, this one included, and written every admin reply
// but this one. Take two and subtract, as with admin.Stats.
func (s *Server) Stats(ctx context.Context) (*admin.Stats, error) {
	s.mu.Lock()
	repliesBefore := s.received
	s.mu.Unlock()
	var st admin.Stats
	if err := s.call(ctx, admin.MethodStats, &st); err != nil {
		return nil, err
	}
	s.mu.Lock()
	st.Wire.ServerIn -= s.sent
	st.Wire.ServerOut -= repliesBefore
	s.mu.Unlock()
	return &st, nil
}

// GC asks the server to collect garbage, so that windows start alike.
func (s *Server) GC(ctx context.Context) error {
	return s.call(ctx, admin.MethodGC, &admin.OK{})
}

// Close closes the admin connection; the server keeps running.
func (s *Server) Close() error { return s.c.Close() }

// call makes one admin call and counts its bytes. This process's socket
// counters move only with admin traffic while no window runs, so their
// change across the call is the call's bytes.
func (s *Server) call(ctx context.Context, method string, resp any) error {
	w0 := wirestats.Take()
	err := s.c.Call(ctx, method, &admin.Args{Token: s.token}, resp)
	s.count(w0, wirestats.Take())
	return err
}

func (s *Server) count(before, after wirestats.Snapshot) {
	d := after.Sub(before)
	s.mu.Lock()
	s.sent += d.ClientOut
	s.received += d.ClientIn
	s.mu.Unlock()
}
