// Package cluster is the consumer side of rpcbench's service addressing: a
// client for a service name rather than an address. It follows the
// service's instances in a registry (package discovery), spreads calls
// over them with a balancer policy, and adds fault tolerance around each
// call:
//
//   - retries with exponential backoff and jitter, only for methods
//     declared idempotent, bounded by a retry budget so that retries cannot
//     multiply the load on a struggling service;
//   - failover: a retry goes to an instance the call has not tried yet, and
//     a call that provably never reached a server (the dial failed, the
//     server was shutting down) fails over whatever its method;
//   - a circuit breaker per instance, which opens after consecutive
//     failures, keeps calls away for a cooldown, then lets one probe call
//     through (half-open) to decide whether to close again;
//   - optional hedged requests for idempotent calls: a second attempt to
//     another instance when the first has not answered within a delay.
//
// Every call ends in a reply or an error that says what happened (see
// CallError); none is dropped. Per-instance counters (Instances) let a
// harness plot traffic per instance over time.
//
//	reg, _ := discovery.Open(ctx, "rpcbench://127.0.0.1:7100")
//	c, _ := cluster.Dial(ctx, reg, "Arith", cluster.Options{
//		Balancer:   balancer.P2C,
//		Idempotent: []string{"Arith.Add"},
//	})
//	defer c.Close()
//	err := c.Call(ctx, "Arith.Add", &args, &sum)
package cluster
