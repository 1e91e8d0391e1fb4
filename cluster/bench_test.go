package cluster_test

import (
	"context"
	"testing"

	"rpcbench"
	"rpcbench/cluster"
	"rpcbench/transports/tcp"
)

// BenchmarkCall compares a call through the cluster client (pick, breaker,
// budget, counters) with the same call on a plain rpcbench.Client to one
// instance.
func BenchmarkCall(b *testing.B) {
	_, ps, c := setup(b, 1, cluster.Options{Idempotent: []string{"Test.Add"}})
	tr, _ := tcp.New(tcp.Options{})
	direct, err := rpcbench.Dial(context.Background(), tr, ps[0].addr, rpcbench.ClientOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer direct.Close()
	ctx := context.Background()
	args := &AddArgs{A: 1, B: 2}
	for _, bc := range []struct {
		name string
		call func(*AddReply) error
	}{
		{"direct", func(r *AddReply) error { return direct.Call(ctx, "Test.Add", args, r) }},
		{"cluster", func(r *AddReply) error { return c.Call(ctx, "Test.Add", args, r) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var r AddReply
				for pb.Next() {
					if err := bc.call(&r); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
