package spec

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"rpcbench/balancer"
	"rpcbench/peers"
)

// Scenario is a resilience run: Instances server processes announced in a
// registry, a cluster client (balancer, retry policy) driving one load
// through them, and a fault schedule applied on the way. It runs once per
// balancer × retry policy × repetition.
type Scenario struct {
	Name string `yaml:"name" json:"name"`
	// Instances is the number of server processes, numbered 1..Instances
	// in faults. Default 3.
	Instances int `yaml:"instances,omitempty" json:"instances"`
	// Transport, codec, payload and load as in the matrix (one each); load
	// is closed, open@RATE or poisson@RATE. Defaults tcp, proto, Small,
	// open@2000.
	Transport   string `yaml:"transport,omitempty" json:"transport"`
	Codec       string `yaml:"codec,omitempty" json:"codec"`
	Payload     string `yaml:"payload,omitempty" json:"payload"`
	Concurrency int    `yaml:"concurrency,omitempty" json:"concurrency"`
	Load        string `yaml:"load,omitempty" json:"load"`
	// Warmup runs before the timeline starts (default 500ms); Duration is
	// the timeline (default 12s).
	Warmup   Duration `yaml:"warmup,omitempty" json:"warmup"`
	Duration Duration `yaml:"duration,omitempty" json:"duration"`
	// Timeout is every call's deadline, retries included. Default 1s.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout"`
	// Bucket is the timeline's resolution (default 250ms). Settle is how
	// long a stretch without errors must last for the scenario to count as
	// error-free again after a fault (default 1s).
	Bucket Duration `yaml:"bucket,omitempty" json:"bucket"`
	Settle Duration `yaml:"settle,omitempty" json:"settle"`
	// Registry is where the instances announce themselves: "mem" (default:
	// an embedded registry the runner serves on loopback for its child
	// processes), or rpcbench://HOST:PORT or etcd://HOST:PORT[/prefix].
	Registry string `yaml:"registry,omitempty" json:"registry"`
	// RegistryTTL is the instances' lease TTL: a killed instance leaves
	// the registry this long after its last heartbeat. Default 1s.
	RegistryTTL Duration `yaml:"registry_ttl,omitempty" json:"registry_ttl"`
	// Balancers and Retries are crossed. Defaults [round_robin] and
	// [none, idempotent].
	Balancers []string `yaml:"balancers,omitempty" json:"balancers"`
	Retries   []string `yaml:"retries,omitempty" json:"retries"`
	// HedgeDelay is the hedging delay of the "hedged" retry policy.
	// Default 2ms.
	HedgeDelay Duration `yaml:"hedge_delay,omitempty" json:"hedge_delay"`
	// Repetitions of each combination, run one after another. Default 1.
	Repetitions int     `yaml:"repetitions,omitempty" json:"repetitions"`
	Faults      []Fault `yaml:"faults" json:"faults"`
}

// Fault is one event of a scenario's schedule.
type Fault struct {
	// At is the offset into the timeline.
	At Duration `yaml:"at" json:"at"`
	// Action is one of FaultActions.
	Action string `yaml:"action" json:"action"`
	// Instance is the instance's number, 1..Instances.
	Instance int `yaml:"instance" json:"instance"`
	// Delay (slow only) is added to every call the instance serves, until
	// Until if given, else to the end.
	Delay Duration `yaml:"delay,omitempty" json:"delay,omitempty"`
	Until Duration `yaml:"until,omitempty" json:"until,omitempty"`
}

// Label names the fault in a few words: "kill i1 @3s", "slow i2 @4s +20ms".
func (f Fault) Label() string {
	s := fmt.Sprintf("%s i%d @%v", f.Action, f.Instance, f.At.D())
	if f.Delay > 0 {
		s += " +" + f.Delay.D().String()
	}
	return s
}

// Describe is the fault in full: "kill i1 at 3s", "slow i2 at 4s (+20ms
// until 8s)".
func (f Fault) Describe() string {
	d := fmt.Sprintf("%s i%d at %v", f.Action, f.Instance, f.At.D())
	if f.Action == FaultSlow {
		d += fmt.Sprintf(" (+%v", f.Delay.D())
		if f.Until > 0 {
			d += fmt.Sprintf(" until %v", f.Until.D())
		}
		d += ")"
	}
	return d
}

// Fault actions.
const (
	// FaultKill sends SIGKILL: no deregistration, no draining; the
	// instance stays registered until its lease expires.
	FaultKill = "kill"
	// FaultStop ends the instance gracefully: it deregisters, then drains.
	FaultStop = "stop"
	// FaultRestart starts a killed or stopped instance again, on a new
	// port, under the same instance ID.
	FaultRestart = "restart"
	// FaultSlow adds Delay to every call the instance serves.
	FaultSlow = "slow"
)

// FaultActions are the valid actions.
var FaultActions = []string{FaultKill, FaultStop, FaultRestart, FaultSlow}

// Retry policies of the cluster client.
const (
	// RetryNone: one attempt per call, no failover.
	RetryNone = "none"
	// RetryFailover: up to three attempts, but only calls that provably
	// never reached a server move on (the method is not idempotent).
	RetryFailover = "failover"
	// RetryIdempotent: the echo method is declared idempotent, so any
	// unavailable attempt is retried on another instance, within the
	// retry budget.
	RetryIdempotent = "idempotent"
	// RetryHedged: idempotent, plus a hedged attempt after HedgeDelay.
	RetryHedged = "hedged"
)

// RetryPolicies are the valid retry policies.
var RetryPolicies = []string{RetryNone, RetryFailover, RetryIdempotent, RetryHedged}

// RegistryMem is the embedded registry.
const RegistryMem = "mem"

func (sc *Scenario) fill() {
	if sc.Instances == 0 {
		sc.Instances = 3
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&sc.Transport, "tcp")
	def(&sc.Codec, "proto")
	def(&sc.Payload, "Small")
	def(&sc.Load, "open@2000")
	def(&sc.Registry, RegistryMem)
	if sc.Concurrency == 0 {
		sc.Concurrency = 16
	}
	defd := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	defd(&sc.Warmup, 500*time.Millisecond)
	defd(&sc.Duration, 12*time.Second)
	defd(&sc.Timeout, time.Second)
	defd(&sc.Bucket, 250*time.Millisecond)
	defd(&sc.Settle, time.Second)
	defd(&sc.RegistryTTL, time.Second)
	defd(&sc.HedgeDelay, 2*time.Millisecond)
	if len(sc.Balancers) == 0 {
		sc.Balancers = []string{balancer.RoundRobin}
	}
	if len(sc.Retries) == 0 {
		sc.Retries = []string{RetryNone, RetryIdempotent}
	}
	if sc.Repetitions == 0 {
		sc.Repetitions = 1
	}
	if pl, err := CanonicalPayload(sc.Payload); err == nil {
		sc.Payload = pl
	}
	// Faults apply in time order; a stable sort keeps the written order
	// of events at the same instant.
	sort.SliceStable(sc.Faults, func(i, j int) bool { return sc.Faults[i].At < sc.Faults[j].At })
}

// check validates every setting and name of the scenario.
func (sc *Scenario) check() []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("scenario %s: "+format, append([]any{sc.Name}, args...)...))
	}
	if sc.Instances < 1 {
		bad("instances must be at least 1, got %d", sc.Instances)
	}
	if sc.Concurrency < 1 {
		bad("concurrency must be at least 1, got %d", sc.Concurrency)
	}
	if _, err := sc.ParsedTransport(); err != nil {
		bad("%v", err)
	}
	if err := checkCodec(sc.Codec); err != nil {
		bad("%v", err)
	}
	if _, err := CanonicalPayload(sc.Payload); err != nil || sc.Payload == "none" {
		bad("payload %q: want Small, Medium, Large or Bytes(n)", sc.Payload)
	}
	if l, err := ParseLoad(sc.Load); err != nil || l.Kind == "sweep" {
		bad("load %q: want closed, open@RATE or poisson@RATE", sc.Load)
	}
	if err := checkRegistry(sc.Registry); err != nil {
		bad("%v", err)
	}
	if sc.Bucket.D() > sc.Duration.D()/4 {
		bad("bucket %v: want at most a quarter of the duration %v", sc.Bucket.D(), sc.Duration.D())
	}
	if sc.Repetitions < 1 {
		bad("repetitions must be at least 1")
	}
	for _, b := range sc.Balancers {
		if !slices.Contains(balancer.Names(), b) {
			bad("unknown balancer %q (valid: %s)", b, strings.Join(balancer.Names(), ", "))
		}
	}
	for _, r := range sc.Retries {
		if !slices.Contains(RetryPolicies, r) {
			bad("unknown retry policy %q (valid: %s)", r, strings.Join(RetryPolicies, ", "))
		}
	}
	if dup := duplicates(sc.Balancers); dup != "" {
		bad("balancer %q listed twice", dup)
	}
	if dup := duplicates(sc.Retries); dup != "" {
		bad("retry policy %q listed twice", dup)
	}
	if len(sc.Faults) == 0 {
		bad("no faults: give at least one (actions: %s)", strings.Join(FaultActions, ", "))
	}
	// Walk the schedule: each instance must be up to be killed, stopped
	// or slowed, and down to be restarted.
	down := map[int]bool{}
	for i, f := range sc.Faults {
		where := fmt.Sprintf("fault %d (%s at %v)", i+1, f.Action, f.At.D())
		if !slices.Contains(FaultActions, f.Action) {
			bad("%s: unknown action %q (valid: %s)", where, f.Action, strings.Join(FaultActions, ", "))
			continue
		}
		if f.Instance < 1 || f.Instance > sc.Instances {
			bad("%s: instance %d: want 1..%d", where, f.Instance, sc.Instances)
			continue
		}
		if f.At >= sc.Duration {
			bad("%s: after the end of the %v timeline", where, sc.Duration.D())
		}
		if f.Action != FaultSlow && (f.Delay != 0 || f.Until != 0) {
			bad("%s: delay and until are for slow only", where)
		}
		switch f.Action {
		case FaultKill, FaultStop:
			if down[f.Instance] {
				bad("%s: instance %d is already down", where, f.Instance)
			}
			down[f.Instance] = true
		case FaultRestart:
			if !down[f.Instance] {
				bad("%s: instance %d is not down (kill or stop it first)", where, f.Instance)
			}
			down[f.Instance] = false
		case FaultSlow:
			if f.Delay <= 0 {
				bad("%s: slow needs a delay, e.g. 5ms", where)
			}
			if f.Until != 0 && f.Until <= f.At {
				bad("%s: until %v is not after at", where, f.Until.D())
			}
			if down[f.Instance] {
				bad("%s: instance %d is down", where, f.Instance)
			}
		}
	}
	return errs
}

func duplicates(list []string) string {
	for i, s := range list {
		if slices.Contains(list[:i], s) {
			return s
		}
	}
	return ""
}

// checkRegistry accepts mem and the URL forms of the discovery backends
// that serve other processes.
func checkRegistry(r string) error {
	if r == RegistryMem {
		return nil
	}
	u, err := url.Parse(r)
	if err == nil && (u.Scheme == "rpcbench" || u.Scheme == "etcd") && u.Host != "" {
		return nil
	}
	return fmt.Errorf("registry %q: want mem (the runner's embedded registry), rpcbench://HOST:PORT or etcd://HOST:PORT[/prefix]", r)
}

// ParsedTransport returns the scenario's transport; it must be one of
// rpcbench's own (the instances announce themselves and the cluster
// client dials them), not a peer or noop.
func (sc *Scenario) ParsedTransport() (Transport, error) {
	ts, errs, _ := expandTransports("transport", []string{sc.Transport})
	for i, err := range errs {
		if ke, ok := err.(*keyError); ok {
			errs[i] = ke.err // the scenario's errors name their keys themselves
		}
	}
	if len(errs) > 0 {
		return Transport{}, errors.Join(errs...)
	}
	if len(ts) != 1 || ts[0].Name == NoopTransport || slices.Contains(peers.Names(), ts[0].Name) {
		return Transport{}, fmt.Errorf("transport %q: want one rpcbench transport with its options, e.g. tcp or tcp+gnet", sc.Transport)
	}
	return ts[0], nil
}

// ParsedLoad returns the scenario's load, checked by Parse.
func (sc *Scenario) ParsedLoad() Load {
	l, _ := ParseLoad(sc.Load)
	return l
}

// FaultWindow is the part of the timeline under fault: from the first
// event to the moment the last one is undone (a restart, the end of a
// slow), or to the end of the timeline if one never is. Latency before,
// during and after it is reported apart.
func (sc *Scenario) FaultWindow() (start, end time.Duration) {
	if len(sc.Faults) == 0 {
		return 0, 0
	}
	start = sc.Faults[0].At.D()
	downSince := map[int]bool{}
	for _, f := range sc.Faults {
		switch f.Action {
		case FaultKill, FaultStop:
			downSince[f.Instance] = true
		case FaultRestart:
			downSince[f.Instance] = false
			end = max(end, f.At.D())
		case FaultSlow:
			if f.Until == 0 {
				return start, sc.Duration.D()
			}
			end = max(end, f.Until.D())
		}
	}
	for _, down := range downSince {
		if down {
			return start, sc.Duration.D()
		}
	}
	return start, min(end, sc.Duration.D())
}

// Combination is one run of a scenario.
type Combination struct {
	Balancer, Retries string
	Rep               int
}

// Combinations lists the scenario's runs in order: each repetition of
// every balancer × retry policy.
func (sc *Scenario) Combinations() []Combination {
	var out []Combination
	for rep := range sc.Repetitions {
		for _, b := range sc.Balancers {
			for _, r := range sc.Retries {
				out = append(out, Combination{b, r, rep})
			}
		}
	}
	return out
}
