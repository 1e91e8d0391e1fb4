package regserver

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"rpcbench/discovery"
	"rpcbench/discovery/memreg"
)

// FuzzRequests: any JSON body of any registry method is refused or
// answered, never a panic, and whatever it registers is a normalized
// instance (Instance.Normalize holds on what it accepts).
func FuzzRequests(f *testing.F) {
	owner := `"owner":"0123456789abcdef0123456789abcdef"`
	for _, s := range []string{
		`{"ttl_ms":1000,` + owner + `}`,
		`{"ttl_ms":9000000000000,` + owner + `}`,
		`{"lease":1,"instance":{"service":"S","addr":"a:1","weight":-3,"metadata":{"k":"v"}},` + owner + `}`,
		`{"lease":1,"instance":{"service":"a/b","addr":""}}`,
		`{"service":"S","epoch":1,"revision":2,"wait_ms":-5}`,
		`{"token":"x","lease":-1}`,
		`[]`, `null`, `{"ttl_ms":"1"}`,
	} {
		for m := range uint8(6) {
			f.Add(m, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, method uint8, body []byte) {
		reg := memreg.New()
		defer reg.Close()
		s := NewService(reg, Options{})
		defer s.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		// A lease to register with, so that Register gets past the lease.
		lease, _ := reg.Owned("0123456789abcdef0123456789abcdef").Grant(ctx, time.Minute)
		switch method % 6 {
		case 0:
			call(t, body, guard(s, true, s.grant))
		case 1:
			var a registerArgs
			if json.Unmarshal(body, &a) == nil {
				a.Lease = lease
				b, _ := json.Marshal(a)
				call(t, b, guard(s, true, s.register))
			}
		case 2:
			call(t, body, guard(s, true, s.keepAlive))
		case 3:
			call(t, body, guard(s, true, s.deregister))
		case 4:
			call(t, body, guard(s, false, s.resolve))
		case 5:
			call(t, body, guard(s, false, s.watch))
		}
		var a registerArgs
		if json.Unmarshal(body, &a) == nil {
			insts, _ := reg.Resolve(ctx, a.Instance.Service)
			for _, in := range insts {
				if n, err := in.Normalize(); err != nil || !n.Equal(in) {
					t.Fatalf("registered %+v is not normalized: %+v, %v", in, n, err)
				}
			}
		}
	})
}

// call decodes body as the server's JSON codec would and runs h.
func call[Req, Resp any](t *testing.T, body []byte, h func(context.Context, *Req) (*Resp, error)) {
	var req Req
	if json.Unmarshal(body, &req) != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	h(ctx, &req) //nolint:errcheck // refusing is fine; panicking is not
}

// FuzzNormalize: Normalize accepts or refuses any instance, and what it
// accepts is a fixed point.
func FuzzNormalize(f *testing.F) {
	f.Add("S", "", "a:1", "", 0)
	f.Add("Arith", "id", "/run/s.sock", "unix", 5)
	f.Add("a/b", "x", "", "tcp", -1)
	f.Fuzz(func(t *testing.T, service, id, addr, transport string, weight int) {
		in := discovery.Instance{Service: service, ID: id, Addr: addr, Transport: transport, Weight: weight}
		n, err := in.Normalize()
		if err != nil {
			return
		}
		if n.Service == "" || n.Addr == "" || n.ID == "" || n.Transport == "" || n.Weight < 1 {
			t.Fatalf("normalized %+v to %+v", in, n)
		}
		if again, err := n.Normalize(); err != nil || !again.Equal(n) {
			t.Fatalf("normalizing %+v again: %+v, %v", n, again, err)
		}
	})
}
