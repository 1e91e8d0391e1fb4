package services_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/services"
	"rpcbench/services/admin"
	"rpcbench/transports"
	_ "rpcbench/transports/all" // the tests reach servers by transport name
)

// TestAdminDoor checks, over real sockets on every transport an admin
// call can take, that the admin methods are off unless registered, and
// then answer only the token they were registered with.
func TestAdminDoor(t *testing.T) {
	const token = "0123456789abcdef"
	for _, name := range []string{"tcp", "udp", "http1"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			plain := dialServer(t, name, func(srv *rpcbench.Server) error { return services.Register(srv) })
			var host admin.Host
			err := plain.Call(ctx, admin.MethodHost, &admin.Args{Token: token}, &host)
			if !errors.Is(err, &rpcbench.Error{Code: rpcbench.CodeUnknownMethod}) {
				t.Fatalf("admin methods off by default: Admin.Host gave %v, want unknown method", err)
			}

			locked := dialServer(t, name, func(srv *rpcbench.Server) error {
				if err := services.Register(srv); err != nil {
					return err
				}
				return admin.Register(srv, nil, token)
			})
			for _, m := range []string{admin.MethodHost, admin.MethodStats, admin.MethodGC} {
				for _, bad := range []string{"", token[:15], token + "0", "x" + token[1:]} {
					var out map[string]any
					err := locked.Call(ctx, m, &admin.Args{Token: bad}, &out)
					if err == nil || !strings.Contains(err.Error(), "wrong or missing admin token") {
						t.Errorf("%s with token %q: %v, %v; want refused", m, bad, out, err)
					}
					if len(out) != 0 {
						t.Errorf("%s with token %q leaked %v", m, bad, out)
					}
				}
			}
			if err := locked.Call(ctx, admin.MethodHost, &admin.Args{Token: token}, &host); err != nil || host.PID == 0 || host.Hostname == "" {
				t.Fatalf("Admin.Host with the token: %+v, %v", host, err)
			}
			var st admin.Stats
			if err := locked.Call(ctx, admin.MethodStats, &admin.Args{Token: token}, &st); err != nil || st.Calls == 0 {
				t.Fatalf("Admin.Stats with the token: %+v, %v", st, err)
			}
			if err := locked.Call(ctx, admin.MethodGC, &admin.Args{Token: token}, &admin.OK{}); err != nil {
				t.Fatalf("Admin.GC with the token: %v", err)
			}
		})
	}
}

func TestAdminNeedsToken(t *testing.T) {
	srv := rpcbench.NewServer(rpcbench.ServerOptions{})
	if err := admin.Register(srv, nil, ""); err == nil {
		t.Fatal("admin methods registered without a token")
	}
	a, err := admin.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := admin.NewToken()
	if len(a) != 32 || a == b {
		t.Fatalf("tokens %q, %q: want 32 hex digits, fresh each time", a, b)
	}
}

// dialServer serves what register adds on a new server over transport
// name on loopback, and returns a client of it in the admin codec.
func dialServer(t *testing.T, name string, register func(*rpcbench.Server) error) *rpcbench.Client {
	t.Helper()
	tr, err := transports.New(name, transports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := rpcbench.NewServer(rpcbench.ServerOptions{Logf: func(string, ...any) {}})
	if err := register(srv); err != nil {
		t.Fatal(err)
	}
	l, err := tr.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := rpcbench.Dial(ctx, tr, l.Addr().String(), rpcbench.ClientOptions{Codec: admin.Codec, HeartbeatInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestHandlerPanicOverTheWire: a handler that panics costs its caller an
// internal error and nothing more: the server and the same connection go
// on serving.
func TestHandlerPanicOverTheWire(t *testing.T) {
	for _, name := range []string{"tcp", "udp", "http1"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c := dialServer(t, name, func(srv *rpcbench.Server) error {
				if err := services.Register(srv); err != nil {
					return err
				}
				// Registered only here, in a test.
				return rpcbench.Handle(srv, "Test.Panic", func(context.Context, *services.AddArgs) (*services.AddReply, error) {
					panic("test handler panics")
				})
			})
			for i := range 3 {
				var r services.AddReply
				err := c.Call(ctx, "Test.Panic", &services.AddArgs{A: 1}, &r)
				if !errors.Is(err, &rpcbench.Error{Code: rpcbench.CodeInternal}) {
					t.Fatalf("call %d to a panicking handler: %v, want internal", i, err)
				}
				if err := c.Call(ctx, "Arith.Add", &services.AddArgs{A: 2, B: 3}, &r); err != nil || r.Sum != 5 {
					t.Fatalf("after panic %d: Arith.Add = %d, %v", i, r.Sum, err)
				}
			}
		})
	}
}
