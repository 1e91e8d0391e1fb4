package rpcbench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"rpcbench/internal/workerpool"
)

// Server dispatches calls arriving on any number of listeners to one method
// table.
type Server struct {
	opts    ServerOptions
	methods atomic.Pointer[methodTable]
	regMu   sync.Mutex // serialises registrations

	mu        sync.Mutex
	listeners map[Listener]struct{}
	sessions  map[*serverSession]struct{}
	closed    bool // listeners closed: no more accepting
	done      bool // connections closed too

	draining atomic.Bool
	inflight atomic.Int64
	idle     chan struct{} // signalled when inflight drops to zero while draining

	workers  *workerpool.Pool[*serverCall]
	quit     chan struct{} // closed when the server is done: parked workers exit
	quitOnce sync.Once
	hook     atomic.Pointer[ReplyHook] // nil unless a benchmark installed one

	calls, failed atomic.Uint64
}

// NewServer returns a server with an empty method table.
func NewServer(opts ServerOptions) *Server {
	opts.fill()
	s := &Server{
		opts:      opts,
		listeners: map[Listener]struct{}{},
		sessions:  map[*serverSession]struct{}{},
		idle:      make(chan struct{}, 1),
		quit:      make(chan struct{}),
	}
	// Parked workers save an allocation per call and keep grown stacks.
	s.workers = workerpool.New((*serverCall).run, workerpool.Options{Done: s.quit, Idle: workerIdle})
	s.methods.Store(&methodTable{})
	return s
}

func (s *Server) register(name string, opts []MethodOption, fn handlerFunc) error {
	if err := checkMethodName(name); err != nil {
		return err
	}
	s.regMu.Lock()
	defer s.regMu.Unlock()
	old := *s.methods.Load()
	id := CallID(name)
	if m, ok := old[id]; ok {
		if m.name == name {
			return fmt.Errorf("rpcbench: method %q registered twice", name)
		}
		return fmt.Errorf("rpcbench: method %q has call ID %#08x, which %q already has", name, id, m.name)
	}
	table := make(methodTable, len(old)+1)
	for k, v := range old {
		table[k] = v
	}
	m := &method{name: name, id: id, fn: fn}
	for _, o := range opts {
		o(m)
	}
	table[id] = m
	s.methods.Store(&table)
	return nil
}

// Methods lists the registered method names.
func (s *Server) Methods() []string {
	var names []string
	for _, m := range *s.methods.Load() {
		names = append(names, m.name)
	}
	return names
}

// ServerStats are counters since the server started.
type ServerStats struct {
	Calls    uint64 // requests dispatched to a handler
	Failed   uint64 // of which answered with an error
	Inflight int64
}

// Stats returns the server's counters.
func (s *Server) Stats() ServerStats {
	return ServerStats{Calls: s.calls.Load(), Failed: s.failed.Load(), Inflight: s.inflight.Load()}
}

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("rpcbench: server closed")

// Serve serves calls from l until the server is shut down. It returns
// ErrServerClosed after Shutdown or Close.
func (s *Server) Serve(l Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	err := l.Serve(s)
	s.mu.Lock()
	delete(s.listeners, l)
	closed := s.closed
	s.mu.Unlock()
	if closed || errors.Is(err, net.ErrClosed) {
		return ErrServerClosed
	}
	return err
}

// Shutdown stops accepting connections, answers calls that arrive from now
// on with an unavailable error, waits for in-flight calls to finish, then
// closes every connection. If ctx ends first, connections are closed at
// once and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.closeListeners()
	var err error
	for s.inflight.Load() > 0 && err == nil {
		select {
		case <-s.idle:
		case <-time.After(5 * time.Millisecond): // a missed signal only delays us
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	s.closeSessions()
	s.stopWorkers()
	return err
}

// Close closes listeners and connections at once; in-flight calls are
// abandoned.
func (s *Server) Close() error {
	s.draining.Store(true)
	s.closeListeners()
	s.closeSessions()
	s.stopWorkers()
	return nil
}

func (s *Server) stopWorkers() { s.quitOnce.Do(func() { close(s.quit) }) }

// workerIdle is how long a worker stays parked before it exits.
const workerIdle = 20 * time.Second

func (s *Server) closeListeners() {
	s.mu.Lock()
	s.closed = true
	ls := make([]Listener, 0, len(s.listeners))
	for l := range s.listeners {
		ls = append(ls, l)
	}
	s.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
}

func (s *Server) closeSessions() {
	s.mu.Lock()
	s.done = true
	ss := make([]*serverSession, 0, len(s.sessions))
	for x := range s.sessions {
		ss = append(ss, x)
	}
	s.mu.Unlock()
	for _, x := range ss {
		x.conn.Close()
	}
}

// callDone counts a call out, waking Shutdown when the last one ends.
func (s *Server) callDone() {
	if s.inflight.Add(-1) == 0 && s.draining.Load() {
		select {
		case s.idle <- struct{}{}:
		default:
		}
	}
}
