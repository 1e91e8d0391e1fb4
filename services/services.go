// Package services holds the built-in methods that `rpcbench serve` offers
// and the harness calls: byte echo, arithmetic, and echo of the benchmark
// messages through any codec. Register adds them together with the
// administrative methods of services/admin, which hold the harness's wire
// format for a server's counters.
package services

import (
	"context"

	"rpcbench"
	"rpcbench/services/admin"
)

// AddArgs and AddReply are Arith.Add's messages.
type AddArgs struct {
	A int64 `json:"a"`
	B int64 `json:"b"`
}

// AddReply is the sum.
type AddReply struct {
	Sum int64 `json:"sum"`
}

// Register adds the built-in services to srv:
//
//	Echo.Echo   raw bytes back as they came
//	Arith.Add   {"a":1,"b":2} -> {"sum":3}
//	Bench.Echo{Small,Medium,Large,Blob}   benchmark messages back, through any codec
//	Admin.*     the process's cost counters, GC and host (package admin),
//	            and Admin.Describe: every method and its message types
func Register(srv *rpcbench.Server) error { return RegisterServing(srv, nil) }

// RegisterServing is Register for a server whose Admin.Host reports the
// listeners in serving.
func RegisterServing(srv *rpcbench.Server, serving *admin.Serving) error {
	if err := RegisterBench(srv); err != nil {
		return err
	}
	if err := admin.Register(srv, serving); err != nil {
		return err
	}
	if err := admin.RegisterDescribe(srv); err != nil {
		return err
	}
	if err := srv.HandleRaw(MethodEchoRaw, func(_ context.Context, b []byte) ([]byte, error) { return b, nil }, rpcbench.Inline()); err != nil {
		return err
	}
	return rpcbench.Handle(srv, "Arith.Add", func(_ context.Context, a *AddArgs) (*AddReply, error) {
		return &AddReply{Sum: a.A + a.B}, nil
	}, rpcbench.Inline())
}
