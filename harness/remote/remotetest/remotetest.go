// Package remotetest runs, inside a test, a server as "rpcbench serve
// --admin" runs one: the built-in services and the admin methods.
package remotetest

import (
	"testing"

	"rpcbench"
	"rpcbench/services"
	"rpcbench/services/admin"
	"rpcbench/transports"
)

// Serve runs the server on transport at addr with the admin token, until
// the test ends, and returns the listener's address.
func Serve(t testing.TB, transport, addr, token string) string {
	t.Helper()
	tr, err := transports.New(transport, transports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := rpcbench.NewServer(rpcbench.ServerOptions{Logf: func(string, ...any) {}})
	serving := &admin.Serving{}
	if err := services.Register(srv); err != nil {
		t.Fatal(err)
	}
	if err := admin.Register(srv, serving, token); err != nil {
		t.Fatal(err)
	}
	l, err := tr.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	serving.Add(transport, l.Addr().String())
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}
