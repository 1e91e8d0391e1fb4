package regserver

import (
	"context"
	"fmt"
	"net"

	"rpcbench"
	"rpcbench/discovery/memreg"
)

// Server is a registry listening on one transport: a memreg, its Service,
// and the rpcbench server that carries it.
type Server struct {
	reg  *memreg.Registry
	svc  *Service
	srv  *rpcbench.Server
	l    rpcbench.Listener
	errc chan error
}

// Listen starts a registry at addr on t. opts configures the rpcbench
// server and ro the registry (zero values: their defaults).
func Listen(t rpcbench.Transport, addr string, opts rpcbench.ServerOptions, ro Options) (*Server, error) {
	s := &Server{reg: memreg.New(), srv: rpcbench.NewServer(opts), errc: make(chan error, 1)}
	s.svc = NewService(s.reg, ro)
	if err := s.svc.Register(s.srv); err != nil {
		return nil, err
	}
	l, err := t.Listen(addr)
	if err != nil {
		return nil, fmt.Errorf("regserver: listen %s on %s: %w", t.Name(), addr, err)
	}
	s.l = l
	go func() { s.errc <- s.srv.Serve(l) }()
	return s, nil
}

// Addr is the address the registry listens on.
func (s *Server) Addr() net.Addr { return s.l.Addr() }

// Registry is the registry's store, for use in the same process.
func (s *Server) Registry() *memreg.Registry { return s.reg }

// Done delivers Serve's error if the listener fails.
func (s *Server) Done() <-chan error { return s.errc }

// Shutdown ends long polls, stops accepting, finishes the calls in flight
// and closes. The leases die with the registry: providers register again
// with the next one (discovery.Announce does).
func (s *Server) Shutdown(ctx context.Context) error {
	s.svc.Close()
	err := s.srv.Shutdown(ctx)
	s.reg.Close()
	return err
}

// Close stops at once.
func (s *Server) Close() error {
	s.svc.Close()
	err := s.srv.Close()
	s.reg.Close()
	return err
}
