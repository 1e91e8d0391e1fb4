// Package spec reads the harness's matrix specs: YAML files naming the
// dimensions to cross (transport with its options, codec, compression,
// payload, concurrency, connections, load model), the combinations to
// exclude, and how long and how often to run each cell.
//
//	name: quick
//	repetitions: 3
//	warmup: 500ms              # or warmup_calls: 2000
//	duration: 2s               # or calls: 100000
//	groups:                    # or one top-level dimensions/excludes pair
//	  - name: transports
//	    dimensions:
//	      transport: [all, tcp+gnet, quic+mux?]
//	      codec: [proto]
//	      payload: [Small]
//	      concurrency: [1, 64]
//	      profile: [direct, wan, mylink]   # network profiles (default direct)
//	profiles:                  # custom network profiles (see package netem)
//	  mylink: {rtt: 50ms, jitter: 5ms, loss: 0.5%, rate: 20Mbit}
//	excludes:                  # apply to every group
//	  - {codec: raw, payload: [Small, Medium, Large]}
//
// Transports are written name[+option...]: options are tls, engine=X,
// mode=X, and the short forms net/gnet (engines) and stream/mux (modes):
// tcp, tcp+gnet, tcp+tls, quic+mux. "all" is every registered direct
// transport with its default options (not the brokered nats and amqp,
// which are named on their own), and a trailing "?" marks an entry to skip,
// with a note, when that transport is not built in. "noop" is the
// generator-ceiling target. Codecs and compressions accept "all" too.
//
// Network profiles put a user-space relay (package netem) between the
// client and the server: built-in names (direct, relay, lan, wan, lossy,
// mobile), the spec's custom ones, or an inline form
// ("rtt=50ms,loss=0.5%"). "direct" is no relay; "relay" is a relay that
// impairs nothing, to measure the relay's own cost.
//
// Load models are closed, open@RATE (constant spacing), poisson@RATE and
// sweep (open-loop steps set by the spec's sweep section).
//
// A spec may also hold resilience scenarios (with or without a matrix):
// K server processes announced in a registry, a cluster client with a
// balancer and a retry policy, one load, and a fault schedule. Each runs
// once per balancer × retry policy, after the matrix's cells:
//
//	scenarios:
//	  - name: kill-restart
//	    instances: 3               # server processes, numbered 1..3 in faults
//	    transport: tcp             # one rpcbench transport, options as above
//	    codec: proto
//	    payload: Small
//	    concurrency: 16
//	    load: open@2000            # closed, open@RATE or poisson@RATE
//	    warmup: 500ms              # before the timeline (default 500ms)
//	    duration: 12s              # the timeline (default 12s)
//	    timeout: 1s                # each call's deadline, retries included
//	    bucket: 250ms              # timeline resolution (default 250ms)
//	    settle: 1s                 # error-free stretch that counts as recovered
//	    registry: mem              # mem (embedded, served to the children),
//	                               # rpcbench://HOST:PORT, etcd://HOST:PORT[/prefix]
//	    registry_ttl: 1s           # lease TTL: a killed instance leaves after it
//	    balancers: [round_robin, p2c]
//	    retries: [none, idempotent]  # none, failover, idempotent, hedged
//	    hedge_delay: 2ms           # for hedged
//	    repetitions: 1
//	    faults:
//	      - {at: 3s, action: kill, instance: 1}      # SIGKILL
//	      - {at: 7s, action: restart, instance: 1}   # new port, same instance ID
//	      - {at: 4s, action: slow, instance: 2, delay: 5ms, until: 8s}
//	      - {at: 9s, action: stop, instance: 3}      # graceful: deregister, drain
//
// External targets — a gRPC service, an HTTP endpoint, rpcbench's
// services on a server the user runs (package targets) — are named in a
// top-level targets map and crossed by the target dimension instead of
// transport and codec (their protocol and encoding come from the URL):
//
//	targets:
//	  greeter-grpc: {url: "grpc://127.0.0.1:50051", call: greet.v1.Greeter/SayHello, data: '{"name":"x"}'}
//	  greeter-http: {url: "http://127.0.0.1:8080/v1/hello", data: '{"name":"x"}', headers: {Content-Type: application/json}}
//	dimensions:
//	  target: [greeter-grpc, greeter-http]
//	  concurrency: [1, 16]
//	  profile: [direct, wan]   # the relay goes in front of the target
//
// Every name is checked before anything runs; an unknown one is an error
// that lists the valid names.
package spec

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"rpcbench/netem"
	"rpcbench/targets"
)

// Spec is a parsed matrix spec. Zero values select the documented
// defaults, filled in by Parse.
type Spec struct {
	// Name names the run's directory and reports. Default: the file's base
	// name.
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Server is "process" (default: the server runs as its own process,
	// started and stopped around each cell) or "inprocess" (for debugging:
	// client and server share a process, so their costs cannot be told
	// apart).
	Server string `yaml:"server,omitempty" json:"server"`
	// Pin is "auto" (default: client and server on separate halves of the
	// machine's CPUs, GOMAXPROCS to match, where there are two or more) or
	// "off".
	Pin string `yaml:"pin,omitempty" json:"pin"`
	// Repetitions of every cell, run interleaved: A B C, A B C, ...
	// Default 3.
	Repetitions int `yaml:"repetitions,omitempty" json:"repetitions"`
	// Warm-up before each measured window, by time or by call count;
	// default 500ms. Histograms and counters start after it.
	Warmup      Duration `yaml:"warmup,omitempty" json:"warmup"`
	WarmupCalls int64    `yaml:"warmup_calls,omitempty" json:"warmup_calls,omitempty"`
	// Measured window per cell, by time or by call count; default 2s.
	Duration Duration `yaml:"duration,omitempty" json:"duration"`
	Calls    int64    `yaml:"calls,omitempty" json:"calls,omitempty"`
	// Grace is how long outstanding calls may take after the window before
	// they are cancelled and counted as errors. Default 10s.
	Grace Duration `yaml:"grace,omitempty" json:"grace"`
	// Seed for payloads and Poisson arrivals. Default 1.
	Seed int64 `yaml:"seed,omitempty" json:"seed"`
	// Reference is the key (or a unique key fragment) of the cell whose
	// figures the reports divide by. Default: the first cell.
	Reference string `yaml:"reference,omitempty" json:"reference,omitempty"`
	// GeneratorCeiling adds a no-op cell at the highest concurrency to
	// check that the load generator is far faster than any real cell.
	// Default true.
	GeneratorCeiling *bool `yaml:"generator_ceiling,omitempty" json:"generator_ceiling"`
	// Sweep configures cells whose load is "sweep".
	Sweep Sweep `yaml:"sweep,omitempty" json:"sweep"`

	// Profiles defines custom network profiles by name: settings as
	// package netem's Keys.
	Profiles map[string]map[string]string `yaml:"profiles,omitempty" json:"profiles,omitempty"`

	// Targets are external targets by name, for the target dimension.
	Targets map[string]targets.Def `yaml:"targets,omitempty" json:"targets,omitempty"`

	// Payloads names users' protobuf messages for the payload dimension:
	// name -> "proto(FILE:pkg.Msg, DATA)" (package protopayload). A proto
	// payload written inline in a dimension is added here by Expand under
	// its label, so that the recorded spec can name it again.
	Payloads map[string]string `yaml:"payloads,omitempty" json:"payloads,omitempty"`

	Dimensions *Dimensions `yaml:"dimensions,omitempty" json:"dimensions,omitempty"`
	Excludes   []Exclude   `yaml:"excludes,omitempty" json:"excludes,omitempty"`
	Groups     []Group     `yaml:"groups,omitempty" json:"groups,omitempty"`
	// Scenarios are resilience runs (see Scenario), run after the cells.
	Scenarios []Scenario `yaml:"scenarios,omitempty" json:"scenarios,omitempty"`

	src source // where errors point
}

// Group is one sub-matrix; cells are crossed within a group only.
type Group struct {
	Name       string     `yaml:"name" json:"name"`
	Dimensions Dimensions `yaml:"dimensions" json:"dimensions"`
	Excludes   []Exclude  `yaml:"excludes,omitempty" json:"excludes,omitempty"`

	path string // key path in the spec: "groups[2]", or "" for top-level dimensions
}

// Dimensions are the values crossed in a group. An empty dimension takes
// its default: compression none, payload Small, concurrency 1, connections
// 1, load closed, profile direct. Transport and codec must be given, or
// else target (names in the spec's targets map), which replaces
// transport, codec, compression and payload.
type Dimensions struct {
	Transport   []string `yaml:"transport,omitempty" json:"transport,omitempty"`
	Codec       []string `yaml:"codec,omitempty" json:"codec,omitempty"`
	Compression []string `yaml:"compression,omitempty" json:"compression,omitempty"`
	Payload     []string `yaml:"payload,omitempty" json:"payload,omitempty"`
	Concurrency []int    `yaml:"concurrency,omitempty" json:"concurrency,omitempty"`
	Connections []int    `yaml:"connections,omitempty" json:"connections,omitempty"`
	Load        []string `yaml:"load,omitempty" json:"load,omitempty"`
	Profile     []string `yaml:"profile,omitempty" json:"profile,omitempty"`
	Target      []string `yaml:"target,omitempty" json:"target,omitempty"`
}

// Exclude drops every cell whose value in each named dimension is one of
// the listed values. Transports match by their full form (tcp+gnet) or
// base name (tcp); loads by their full form or kind (open).
type Exclude map[string]StringList

// StringList accepts a YAML scalar or a sequence of scalars.
type StringList []string

// UnmarshalYAML implements yaml.Unmarshaler.
func (l *StringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = StringList{n.Value}
		return nil
	}
	var s []string
	if err := n.Decode(&s); err != nil {
		return err
	}
	*l = s
	return nil
}

// Sweep configures rate sweeps: open-loop steps at rising rates, up to
// and past saturation, to draw latency against throughput and find the
// highest rate a cell sustains with its p99 under P99Bound.
type Sweep struct {
	// Rates are calls per second ("20000") or percentages of the cell's
	// closed-loop throughput at the same concurrency, measured by a probe
	// first ("50%"). Default 10% 25% 50% 70% 85% 100% 115%.
	Rates []string `yaml:"rates,omitempty" json:"rates"`
	// P99Bound is the corrected p99 a step must stay under to count as
	// sustained. Default 5ms.
	P99Bound Duration `yaml:"p99_bound,omitempty" json:"p99_bound"`
	// Arrival is "constant" (default) or "poisson".
	Arrival string `yaml:"arrival,omitempty" json:"arrival"`
	// StepWarmup and StepDuration time each step (default 300ms and 1s);
	// Probe times the closed-loop probe (default 1s).
	StepWarmup   Duration `yaml:"step_warmup,omitempty" json:"step_warmup"`
	StepDuration Duration `yaml:"step_duration,omitempty" json:"step_duration"`
	Probe        Duration `yaml:"probe,omitempty" json:"probe"`
	// StopAfter ends a sweep after this many consecutive steps that did not
	// hold (default 1: the first step past saturation is the last).
	StopAfter int `yaml:"stop_after,omitempty" json:"stop_after"`
}

// Duration is a time.Duration written as "500ms" in YAML and JSON.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: bad duration %q (want e.g. 500ms, 2s)", n.Line, n.Value)
	}
	if v < 0 {
		return fmt.Errorf("line %d: negative duration %q", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// MarshalText implements encoding.TextMarshaler (for JSON).
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// ReadFile reads and parses a spec file. Its errors, and Expand's, name
// the file, line, column and key path.
func ReadFile(path string) (*Spec, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	s, err := parse(path, b)
	if err != nil {
		return nil, nil, err
	}
	if s.Name == "" {
		base := path[strings.LastIndexAny(path, `/\`)+1:]
		s.Name = strings.TrimSuffix(strings.TrimSuffix(base, ".yaml"), ".yml")
	}
	return s, b, nil
}

// Parse decodes a spec, fills its defaults and checks it: unknown fields,
// bad values and unknown names are errors, all reported at once.
func Parse(b []byte) (*Spec, error) { return parse("", b) }

func parse(file string, b []byte) (*Spec, error) {
	src := source{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, errors.Join(src.yamlErrors(err)...)
	}
	if len(doc.Content) == 0 {
		return nil, src.locate([]error{errors.New("the spec is empty: give dimensions, groups or scenarios (see specs/README.md)")})
	}
	if src.root = doc.Content[0]; src.root.Kind != yaml.MappingNode {
		return nil, src.locate([]error{errors.New("a spec is a map of keys such as name, dimensions and groups (see specs/README.md)")})
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, errors.Join(src.yamlErrors(err)...)
	}
	s.src = src
	s.fill()
	if errs := s.check(); len(errs) > 0 {
		return nil, s.src.locate(errs)
	}
	return &s, nil
}

func (s *Spec) fill() {
	if s.Server == "" {
		s.Server = "process"
	}
	if s.Pin == "" {
		s.Pin = "auto"
	}
	if s.Repetitions == 0 {
		s.Repetitions = 3
	}
	if s.Warmup == 0 && s.WarmupCalls == 0 {
		s.Warmup = Duration(500 * time.Millisecond)
	}
	if s.Duration == 0 && s.Calls == 0 {
		s.Duration = Duration(2 * time.Second)
	}
	if s.Grace == 0 {
		s.Grace = Duration(10 * time.Second)
	}
	if s.Seed == 0 {
		s.Seed = 1
	}
	if s.GeneratorCeiling == nil {
		t := true
		s.GeneratorCeiling = &t
	}
	w := &s.Sweep
	if len(w.Rates) == 0 {
		w.Rates = []string{"10%", "25%", "50%", "70%", "85%", "100%", "115%"}
	}
	if w.P99Bound == 0 {
		w.P99Bound = Duration(5 * time.Millisecond)
	}
	if w.Arrival == "" {
		w.Arrival = "constant"
	}
	if w.StepWarmup == 0 {
		w.StepWarmup = Duration(300 * time.Millisecond)
	}
	if w.StepDuration == 0 {
		w.StepDuration = Duration(time.Second)
	}
	if w.Probe == 0 {
		w.Probe = Duration(time.Second)
	}
	if w.StopAfter == 0 {
		w.StopAfter = 1
	}
	for i := range s.Scenarios {
		s.Scenarios[i].fill()
	}
	for i := range s.Groups {
		s.Groups[i].path = index("groups", i)
	}
	if s.Dimensions != nil {
		s.Groups = append([]Group{{Name: "main", Dimensions: *s.Dimensions}}, s.Groups...)
		s.Dimensions = nil
	}
	for i := range s.Groups {
		g := &s.Groups[i]
		if g.Name == "" {
			g.Name = fmt.Sprintf("group%d", i+1)
		}
		d := &g.Dimensions
		if len(d.Compression) == 0 && len(d.Target) == 0 {
			d.Compression = []string{"none"}
		}
		if len(d.Payload) == 0 && len(d.Target) == 0 {
			d.Payload = []string{"Small"}
		}
		if len(d.Concurrency) == 0 {
			d.Concurrency = []int{1}
		}
		if len(d.Connections) == 0 {
			d.Connections = []int{1}
		}
		if len(d.Load) == 0 {
			d.Load = []string{"closed"}
		}
		if len(d.Profile) == 0 {
			d.Profile = []string{netem.NameDirect}
		}
	}
}

// check validates the settings; names are checked when cells are built.
func (s *Spec) check() []error {
	var errs []error
	bad := func(path, format string, args ...any) { errs = append(errs, keyf(path, format, args...)) }
	switch s.Server {
	case "process", "inprocess":
	default:
		bad("server", "%q: want process or inprocess", s.Server)
	}
	switch s.Pin {
	case "auto", "off":
	default:
		bad("pin", "%q: want auto or off", s.Pin)
	}
	if s.Repetitions < 1 {
		bad("repetitions", "must be at least 1, got %d", s.Repetitions)
	}
	if s.Warmup != 0 && s.WarmupCalls != 0 {
		bad("warmup_calls", "give warmup or warmup_calls, not both")
	}
	if s.Duration != 0 && s.Calls != 0 {
		bad("calls", "give duration or calls, not both")
	}
	if s.WarmupCalls < 0 {
		bad("warmup_calls", "must not be negative")
	}
	if s.Calls < 0 {
		bad("calls", "must not be negative")
	}
	switch s.Sweep.Arrival {
	case "constant", "poisson":
	default:
		bad("sweep.arrival", "%q: want constant or poisson", s.Sweep.Arrival)
	}
	if s.Sweep.StopAfter < 1 {
		bad("sweep.stop_after", "must be at least 1")
	}
	for i, r := range s.Sweep.Rates {
		if _, _, err := ParseRate(r); err != nil {
			errs = append(errs, atKey(index("sweep.rates", i), err))
		}
	}
	if len(s.Groups) == 0 && len(s.Scenarios) == 0 {
		errs = append(errs, errors.New("no dimensions: give dimensions, groups or scenarios"))
	}
	names := map[string]bool{}
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		at := index("scenarios", i)
		switch {
		case sc.Name == "":
			bad(at, "scenario %d has no name", i+1)
		case names[sc.Name]:
			bad(sub(at, "name"), "duplicate scenario name %q", sc.Name)
		}
		names[sc.Name] = true
		for _, err := range sc.check() {
			errs = append(errs, atKey(at, err))
		}
	}
	seen := map[string]bool{}
	for _, g := range s.Groups {
		if seen[g.Name] {
			bad(sub(g.path, "name"), "duplicate group name %q", g.Name)
		}
		seen[g.Name] = true
		if d := g.Dimensions; len(d.Target) > 0 {
			if len(d.Transport) > 0 || len(d.Codec) > 0 || len(d.Compression) > 0 || len(d.Payload) > 0 {
				bad(g.dim("target"), "a target dimension replaces transport, codec, compression and payload (the targets map describes each target); give one or the other")
			}
			continue
		}
		if len(g.Dimensions.Transport) == 0 {
			bad(g.dim("transport"), "no transport given (valid: %s; or a target dimension)", strings.Join(ValidTransports(), ", "))
		}
		if len(g.Dimensions.Codec) == 0 {
			bad(g.dim("codec"), "no codec given; every group needs one (valid: %s)", strings.Join(validCodecs(), ", "))
		}
	}
	return errs
}

// dim is the key path of one of the group's dimensions.
func (g *Group) dim(name string) string { return sub(sub(g.path, "dimensions"), name) }

// ParseRate reads a sweep rate: calls per second, or a percentage of the
// probed closed-loop throughput.
func ParseRate(s string) (v float64, percent bool, err error) {
	t := strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(t, "%"); ok {
		t, percent = p, true
	}
	v, err = strconv.ParseFloat(t, 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return 0, false, fmt.Errorf("bad rate %q (want calls per second like 20000, or a percentage like 80%%)", s)
	}
	return v, percent, nil
}
