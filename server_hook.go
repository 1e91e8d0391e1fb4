package rpcbench

// ReplyHook sees every successful reply of a server before it is sent.
// It exists for benchmarks, which slow or bloat replies on purpose to prove
// that their regression gate notices (package faults); a server without
// one pays a nil check per call. Its methods are called concurrently from
// the goroutines of all calls in flight.
type ReplyHook interface {
	// Reply returns the reply body to send in place of body; it may block,
	// and may return a new slice.
	Reply(body []byte) []byte
	// Blocks reports whether Reply may block at present. While it does,
	// calls of Inline methods run on workers instead of the connection's
	// reader, where one slow reply would hold up every other call.
	Blocks() bool
}

// SetReplyHook installs h for the calls that start from now on; nil
// removes it. It is safe to call while the server serves.
func (s *Server) SetReplyHook(h ReplyHook) {
	if h == nil {
		s.hook.Store(nil)
		return
	}
	s.hook.Store(&h)
}

// hookBlocks reports whether the reply hook may block now.
func (s *Server) hookBlocks() bool {
	h := s.hook.Load()
	return h != nil && (*h).Blocks()
}
