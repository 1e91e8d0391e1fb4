package rpcbench_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"rpcbench"
	"rpcbench/transports/tcp"
)

// listenTCP serves srv over TCP on a free loopback port and returns the
// transport and the address to dial.
func listenTCP(srv *rpcbench.Server) (rpcbench.Transport, string) {
	tr, err := tcp.New(tcp.Options{})
	if err != nil {
		log.Fatal(err)
	}
	l, err := tr.Listen("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(l)
	return tr, l.Addr().String()
}

type Args struct{ A, B int }

type Sum struct{ N int }

// A server maps "Service.Method" names to typed handlers; a client calls
// them over a transport, here TCP on a free loopback port.
func Example() {
	srv := rpcbench.NewServer(rpcbench.ServerOptions{})
	err := rpcbench.Handle(srv, "Arith.Add", func(ctx context.Context, a *Args) (*Sum, error) {
		return &Sum{N: a.A + a.B}, nil
	})
	if err != nil {
		log.Fatal(err)
	}
	tr, addr := listenTCP(srv)
	defer srv.Shutdown(context.Background())

	ctx := context.Background()
	c, err := rpcbench.Dial(ctx, tr, addr, rpcbench.ClientOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	var sum Sum
	if err := c.Call(ctx, "Arith.Add", &Args{A: 1, B: 2}, &sum); err != nil {
		log.Fatal(err)
	}
	fmt.Println(sum.N)

	// Failures carry a code that errors.Is matches.
	err = c.Call(ctx, "Arith.Mul", &Args{A: 1, B: 2}, &sum)
	fmt.Println(errors.Is(err, rpcbench.ErrUnknownMethod))
	// Output:
	// 3
	// true
}

// Arith's exported methods of the net/rpc form become "Arith.Add" and so on.
type Arith struct{}

func (Arith) Add(a *Args, s *Sum) error { s.N = a.A + a.B; return nil }

func (Arith) Mul(ctx context.Context, a *Args, s *Sum) error { s.N = a.A * a.B; return nil }

// Register publishes a receiver's methods in the manner of net/rpc; Go
// starts calls without waiting, and Wait collects each one's reply.
func ExampleClient_Go() {
	srv := rpcbench.NewServer(rpcbench.ServerOptions{})
	if err := srv.Register(Arith{}); err != nil {
		log.Fatal(err)
	}
	tr, addr := listenTCP(srv)
	defer srv.Shutdown(context.Background())

	ctx := context.Background()
	c, err := rpcbench.Dial(ctx, tr, addr, rpcbench.ClientOptions{Codec: "msgpack"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	var sum, product Sum
	add := c.Go(ctx, "Arith.Add", &Args{A: 6, B: 7}, &sum)
	mul := c.Go(ctx, "Arith.Mul", &Args{A: 6, B: 7}, &product)
	if err := errors.Join(add.Wait(), mul.Wait()); err != nil {
		log.Fatal(err)
	}
	fmt.Println(sum.N, product.N)
	// Output: 13 42
}
