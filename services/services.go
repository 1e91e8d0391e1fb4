// Package services holds the built-in methods that `rpcbench serve` offers
// and the harness calls: byte echo, arithmetic, and echo of the benchmark
// messages through any codec. The administrative methods are in
// services/admin, registered only where they are wanted, behind a token.
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
//	Admin.Describe   every method and its message types (package admin)
//
// The other admin methods (Admin.Stats, Admin.GC, Admin.Host) are not
// among them: admin.Register adds them, behind a token, where they are
// wanted.
func Register(srv *rpcbench.Server) error {
	if err := RegisterBench(srv); err != nil {
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
