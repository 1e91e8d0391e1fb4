package cluster

import (
	"time"

	"rpcbench"
	"rpcbench/transports"
)

// Options configure a Client. Zero values select the documented defaults.
type Options struct {
	// Balancer names the policy (see package balancer). Default
	// round_robin.
	Balancer string
	// Client configures the connection to each instance. An empty Codec
	// means the instance's advertised codec, else json. A zero
	// HeartbeatInterval means 1s here, so that a dead peer is noticed
	// within seconds.
	Client rpcbench.ClientOptions
	// Transport builds the transport an instance names. Default:
	// transports.New(name, TransportOptions), which knows the transports
	// whose packages the program links (transports/tcp, ..., or all of
	// them with transports/all); this package links none.
	Transport func(name string) (rpcbench.Transport, error)
	// TransportOptions are used by the default Transport.
	TransportOptions transports.Options
	// Idempotent lists the methods ("Arith.Add") that are safe to run more
	// than once: only they are retried after a failure that may have
	// reached a server, and hedged. The Idempotent call option declares a
	// single call.
	Idempotent []string
	Retry      RetryPolicy
	Budget     BudgetOptions
	Breaker    BreakerOptions
	Hedge      HedgePolicy
	// MinInstances makes Dial wait until the service has at least this
	// many instances (or its context ends). Default 0: do not wait.
	MinInstances int
	// OnAttempt, if set, is called when an attempt ends, with the ID of
	// the instance it went to and its error (nil: that instance answered).
	// It runs on the goroutine that made the attempt, so it must be quick
	// and safe for concurrent use. A harness counts traffic per instance
	// over time with it.
	OnAttempt func(instance string, err error)
}

// RetryPolicy governs attempts after a failure.
type RetryPolicy struct {
	// MaxAttempts bounds the attempts of one call, the first, retries and
	// hedges included. Default 3; 1 disables retries and hedging.
	MaxAttempts int
	// InitialBackoff is the pause before retrying once every instance
	// has been tried in this call; it doubles each round up to MaxBackoff.
	// (A retry that can go to an untried instance goes at once.) Defaults
	// 10ms and 1s.
	InitialBackoff, MaxBackoff time.Duration
	// Jitter is the fraction of each pause drawn at random, so that
	// clients that failed together do not retry together. Default 0.5;
	// negative for none.
	Jitter float64
	// RetryOn lists the codes worth another attempt. Default: unavailable
	// and resource exhausted.
	RetryOn []rpcbench.Code
}

// BudgetOptions bound retries and hedges to a fraction of the calls, so
// that a failing service does not receive several times its normal load.
// The budget is a token bucket: every call adds Ratio tokens, time adds
// MinPerSecond per second, each retry or hedge takes one.
type BudgetOptions struct {
	// Ratio of extra attempts to calls. Default 0.2; negative: no retries
	// beyond MinPerSecond.
	Ratio float64
	// MinPerSecond lets a lightly loaded client retry at all. Default 10;
	// negative: none.
	MinPerSecond float64
	// Burst caps the tokens saved up. Default 10 + MinPerSecond.
	Burst float64
}

// BreakerOptions configure the per-instance circuit breaker. Failures are
// attempts that end unavailable or resource exhausted; a success resets
// the count. Other errors (application errors, the caller's deadline)
// say nothing about the instance's health.
type BreakerOptions struct {
	// Failures in a row that open the breaker. Default 5; negative
	// disables breakers.
	Failures int
	// Cooldown is how long an open breaker keeps calls away before it lets
	// probes through. Default 1s.
	Cooldown time.Duration
	// Probes is how many calls a half-open breaker lets through at once.
	// Default 1.
	Probes int
}

// HedgePolicy configures hedged requests for idempotent calls.
type HedgePolicy struct {
	// Delay after which a call with no reply yet is sent again to another
	// instance, and again after each further Delay, up to
	// Retry.MaxAttempts attempts in all. The first reply wins; the others
	// are cancelled. Zero disables hedging. A good value is the method's
	// p95 latency.
	Delay time.Duration
}

func (o *Options) fill() {
	if o.Client.HeartbeatInterval == 0 {
		o.Client.HeartbeatInterval = time.Second
	}
	if o.Transport == nil {
		to := o.TransportOptions
		o.Transport = func(name string) (rpcbench.Transport, error) { return transports.New(name, to) }
	}
	r := &o.Retry
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 3
	}
	if r.InitialBackoff <= 0 {
		r.InitialBackoff = 10 * time.Millisecond
	}
	if r.MaxBackoff <= 0 {
		r.MaxBackoff = time.Second
	}
	if r.Jitter == 0 {
		r.Jitter = 0.5
	}
	r.Jitter = min(max(r.Jitter, 0), 1)
	if r.RetryOn == nil {
		r.RetryOn = []rpcbench.Code{rpcbench.CodeUnavailable, rpcbench.CodeResourceExhausted}
	}
	b := &o.Budget
	if b.Ratio == 0 {
		b.Ratio = 0.2
	}
	if b.MinPerSecond == 0 {
		b.MinPerSecond = 10
	}
	b.Ratio, b.MinPerSecond = max(b.Ratio, 0), max(b.MinPerSecond, 0)
	if b.Burst <= 0 {
		b.Burst = 10 + b.MinPerSecond
	}
	k := &o.Breaker
	if k.Failures == 0 {
		k.Failures = 5
	}
	if k.Cooldown <= 0 {
		k.Cooldown = time.Second
	}
	if k.Probes <= 0 {
		k.Probes = 1
	}
}

// CallOption adjusts one call.
type CallOption func(*callOptions)

type callOptions struct {
	idempotent bool
	key        string
	hedge      time.Duration // <0: off for this call
}

// Idempotent declares this call safe to run more than once.
func Idempotent() CallOption { return func(o *callOptions) { o.idempotent = true } }

// Key sets the call's affinity key for the consistent_hash balancer.
func Key(key string) CallOption { return func(o *callOptions) { o.key = key } }

// HedgeAfter overrides Options.Hedge.Delay for this call; 0 or negative
// disables hedging for it.
func HedgeAfter(d time.Duration) CallOption {
	return func(o *callOptions) {
		o.hedge = d
		if d <= 0 {
			o.hedge = -1
		}
	}
}
