// Package rpcbench is an RPC framework whose core — call IDs, the method
// table, client and server stubs, deadlines and errors — runs unchanged over
// interchangeable transports (TCP and Unix sockets, UDP, HTTP/1.1, QUIC).
//
// A server maps "Service.Method" names to handlers (Handle, HandleRaw,
// Server.Register); names travel as 32-bit call IDs (CallID). A client
// multiplexes many concurrent calls over one connection, matching replies
// to callers by request ID: Call waits for its reply, Go returns a Future.
// The package examples (Example, ExampleClient_Go) serve and call over TCP;
// go test compiles and runs them.
//
// Files, one concept each: transport.go (the contracts a transport meets,
// and its optional capabilities), server.go (a server's life: serving,
// shutdown), server_options.go, server_hook.go (the benchmark's reply
// hook), server_session.go (one connection's calls), server_call.go (one
// call: decode, handler, reply), methods.go (the method table), client.go
// and client_go.go (calls and asynchronous calls), pending.go (the table
// of calls in flight), callctx.go (a handler's context), errors.go.
package rpcbench
