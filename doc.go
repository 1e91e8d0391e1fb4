// Package rpcbench is an RPC framework whose core — call IDs, the method
// table, client and server stubs, deadlines and errors — runs unchanged over
// interchangeable transports (TCP and Unix sockets, UDP, HTTP/1.1, QUIC).
//
// A server maps "Service.Method" names to handlers; names travel as 32-bit
// call IDs (CallID). A client multiplexes many concurrent calls over one
// connection, matching replies to callers by request ID.
//
//	srv := rpcbench.NewServer(rpcbench.ServerOptions{})
//	rpcbench.Handle(srv, "Arith.Add", func(ctx context.Context, a *Args) (*Sum, error) {
//		return &Sum{N: a.A + a.B}, nil
//	})
//	l, _ := tcp.New(tcp.Options{}).Listen("127.0.0.1:7000")
//	go srv.Serve(l)
//
//	c, _ := rpcbench.Dial(ctx, tcp.New(tcp.Options{}), "127.0.0.1:7000", rpcbench.ClientOptions{})
//	var sum Sum
//	err := c.Call(ctx, "Arith.Add", &Args{A: 1, B: 2}, &sum)
package rpcbench
