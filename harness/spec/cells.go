package spec

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"rpcbench/codecs"
	"rpcbench/codecs/benchmsg"
	"rpcbench/harness/protopayload"
	"rpcbench/netem"
	"rpcbench/peers"
	"rpcbench/targets"
	"rpcbench/transports"
	_ "rpcbench/transports/all" // transports are chosen by name here
)

// DimensionNames are the dimensions in key order.
var DimensionNames = []string{"transport", "codec", "compression", "payload", "concurrency", "connections", "load", "profile", "target"}

// NoopTransport is the generator-ceiling target's transport name.
const NoopTransport = "noop"

// PacerLoad is the load kind of the pacer-ceiling cell the runner adds:
// open loop on the no-op target at the run's highest open-loop rate. Specs
// cannot ask for it.
const PacerLoad = "pacer"

// Transport is one entry of the transport dimension.
type Transport struct {
	Name   string `json:"name"`
	Engine string `json:"engine,omitempty"`
	Mode   string `json:"mode,omitempty"`
	TLS    bool   `json:"tls,omitempty"`
	// Workers makes the server run every call on a worker goroutine, even
	// the benchmark's echo methods, which are declared rpcbench.Inline.
	Workers bool `json:"workers,omitempty"`
}

// Short forms of engine and mode options.
var (
	engineAliases = []string{"net", "gnet"}
	modeAliases   = []string{"stream", "mux"}
)

// String is the canonical form: name, then engine, mode and tls, e.g.
// "tcp+gnet", "quic+mux", "tcp+tls".
func (t Transport) String() string {
	s := t.Name
	if t.Engine != "" {
		if slices.Contains(engineAliases, t.Engine) {
			s += "+" + t.Engine
		} else {
			s += "+engine=" + t.Engine
		}
	}
	if t.Mode != "" {
		if slices.Contains(modeAliases, t.Mode) {
			s += "+" + t.Mode
		} else {
			s += "+mode=" + t.Mode
		}
	}
	if t.TLS {
		s += "+tls"
	}
	if t.Workers {
		s += "+workers"
	}
	return s
}

// Served is t as a server sees it, for telling whether a server started
// for one variant serves another: the mode is a client's choice (a QUIC
// server speaks both), and the engine "net" is the default one.
func (t Transport) Served() Transport {
	t.Mode = ""
	if t.Engine == "net" {
		t.Engine = ""
	}
	return t
}

// Options returns the registry options for t.
func (t Transport) Options() transports.Options {
	return transports.Options{Engine: t.Engine, Mode: t.Mode, TLS: t.TLS}
}

// ParseTransport reads "name[+option...]". It checks the syntax only.
func ParseTransport(s string) (Transport, error) {
	parts := strings.Split(strings.TrimSpace(s), "+")
	t := Transport{Name: parts[0]}
	if t.Name == "" {
		return t, fmt.Errorf("transport %q: empty name", s)
	}
	for _, p := range parts[1:] {
		k, v, hasValue := strings.Cut(p, "=")
		switch {
		case p == "tls":
			t.TLS = true
		case p == "workers":
			t.Workers = true
		case hasValue && k == "engine" && v != "":
			t.Engine = v
		case hasValue && k == "mode" && v != "":
			t.Mode = v
		case !hasValue && slices.Contains(engineAliases, p):
			t.Engine = p
		case !hasValue && slices.Contains(modeAliases, p):
			t.Mode = p
		default:
			return t, fmt.Errorf("transport %q: unknown option %q (valid: tls, workers, engine=NAME, mode=NAME, %s, %s)",
				s, p, strings.Join(engineAliases, ", "), strings.Join(modeAliases, ", "))
		}
	}
	return t, nil
}

// ValidTransports lists the names the transport dimension accepts: "all",
// the registered transports, the registered peers, and noop.
func ValidTransports() []string {
	v := append([]string{"all"}, transports.Names()...)
	v = append(v, peers.Names()...)
	return append(v, NoopTransport)
}

func validCodecs() []string { return append([]string{"all"}, codecs.Names()...) }

// Load is one entry of the load dimension.
type Load struct {
	// Kind is "closed", "open", "sweep" or PacerLoad.
	Kind string `json:"kind"`
	// Rate is the open-loop target in calls per second.
	Rate float64 `json:"rate,omitempty"`
	// Poisson spaces open-loop arrivals exponentially.
	Poisson bool `json:"poisson,omitempty"`
}

// String is the canonical form: closed, open@RATE, poisson@RATE, sweep.
func (l Load) String() string {
	switch l.Kind {
	case "open":
		name := "open"
		if l.Poisson {
			name = "poisson"
		}
		return name + "@" + strconv.FormatFloat(l.Rate, 'f', -1, 64)
	default:
		return l.Kind
	}
}

// ParseLoad reads a load entry.
func ParseLoad(s string) (Load, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "closed", "sweep":
		return Load{Kind: s}, nil
	}
	kind, rate, ok := strings.Cut(s, "@")
	if ok && (kind == "open" || kind == "poisson") {
		r, err := strconv.ParseFloat(rate, 64)
		if err == nil && r > 0 {
			return Load{Kind: "open", Rate: r, Poisson: kind == "poisson"}, nil
		}
	}
	return Load{}, fmt.Errorf("load %q: want closed, open@RATE, poisson@RATE or sweep (RATE in calls per second)", s)
}

// Cell is one combination of the matrix.
type Cell struct {
	// Key identifies the cell across runs: every dimension as key=value,
	// in DimensionNames order, joined by "/".
	Key   string `json:"key"`
	Group string `json:"group"`
	// AlsoIn names later groups that produced the same cell: it runs once
	// and is reported in each.
	AlsoIn      []string  `json:"also_in,omitempty"`
	Transport   Transport `json:"transport"`
	Codec       string    `json:"codec"`
	Compression string    `json:"compression"`
	Payload     string    `json:"payload"`
	Concurrency int       `json:"concurrency"`
	Connections int       `json:"connections"`
	Load        Load      `json:"load"`
	// Profile is the network profile the cell's traffic crosses, with all
	// its settings; nil is direct (no relay).
	Profile *netem.Profile `json:"profile,omitempty"`
	// Target names an external target of the spec's targets map; its
	// Transport and Codec then record the target's protocol and
	// encoding (grpc/proto, http/json, rpcbench+tcp/CODEC), and
	// Compression and Payload are "-".
	Target string `json:"target,omitempty"`
}

// NotApplicable is the compression and payload value of target cells.
const NotApplicable = "-"

// ProfileName is the cell's network profile name ("direct" for none).
func (c *Cell) ProfileName() string {
	if c.Profile == nil {
		return netem.NameDirect
	}
	return c.Profile.Name
}

// Values returns the cell's dimension values in DimensionNames order.
func (c *Cell) Values() []string {
	return []string{c.Transport.String(), c.Codec, c.Compression, c.Payload,
		strconv.Itoa(c.Concurrency), strconv.Itoa(c.Connections), c.Load.String(), c.ProfileName(), c.Target}
}

// keyNames are the short names used in keys.
var keyNames = []string{"transport", "codec", "compression", "payload", "conc", "conns", "load", "profile", "target"}

// KeyOf builds the key from the cell's values. A direct cell's key has no
// profile part, so keys from before profiles existed still match. A
// target cell's key starts with its target, which stands for transport,
// codec, compression and payload: target=NAME/conc=N/conns=N/load=L.
func (c *Cell) KeyOf() string {
	v := c.Values()
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7}
	if c.Target != "" {
		idx = []int{8, 4, 5, 6, 7}
	}
	var parts []string
	for _, i := range idx {
		if i == 7 && c.Profile == nil {
			continue
		}
		parts = append(parts, keyNames[i]+"="+v[i])
	}
	return strings.Join(parts, "/")
}

// Plan is the expanded matrix.
type Plan struct {
	Cells []Cell
	// Notes record optional entries skipped because their transport is not
	// built in.
	Notes []string
}

// Expand crosses every group's dimensions, drops excluded and duplicate
// cells, and checks every name against the registries. All problems are
// reported at once.
func (s *Spec) Expand() (*Plan, error) {
	p := &Plan{}
	var errs []error
	seen := map[string]int{} // key -> index in p.Cells
	excl := func(g Group, c *Cell) bool {
		for _, e := range append(slices.Clone(s.Excludes), g.Excludes...) {
			if e.matches(c) {
				return true
			}
		}
		return false
	}
	for i, e := range s.Excludes {
		errs = append(errs, e.check(index("excludes", i))...)
	}
	custom, perrs := s.customProfiles()
	errs = append(errs, perrs...)
	errs = append(errs, s.checkPayloads()...)
	for _, g := range s.Groups {
		for i, e := range g.Excludes {
			errs = append(errs, e.check(index(sub(g.path, "excludes"), i))...)
		}
		d := g.Dimensions
		ts, terrs, notes := expandTransports(g.dim("transport"), d.Transport)
		errs = append(errs, terrs...)
		p.Notes = append(p.Notes, notes...)
		cs, cerrs := expandNames(g.dim("codec"), d.Codec, codecs.Names(), checkCodec)
		errs = append(errs, cerrs...)
		zs, zerrs := expandNames(g.dim("compression"), d.Compression, codecs.CompressorNames(), checkCompression)
		errs = append(errs, zerrs...)
		// A target group crosses targets instead of transport, codec,
		// compression and payload: one "transport" per target, each with
		// its own codec.
		var tnames []string
		if len(d.Target) > 0 {
			ts, cs, zs = nil, []string{""}, []string{NotApplicable}
			d.Payload = []string{NotApplicable}
			for i, name := range d.Target {
				def, ok := s.Targets[name]
				if !ok {
					errs = append(errs, keyf(index(g.dim("target"), i), "unknown target %q (targets: %s)", name, strings.Join(slices.Sorted(maps.Keys(s.Targets)), ", ")))
					continue
				}
				if _, err := targets.KindOf(def); err != nil {
					errs = append(errs, atKey(sub(sub("targets", name), "url"), err))
					continue
				}
				tnames = append(tnames, name)
				ts = append(ts, Transport{})
			}
		}
		var payloads []string
		for i, name := range d.Payload {
			if name == NotApplicable && len(d.Target) > 0 {
				payloads = append(payloads, name)
				continue
			}
			pl, err := s.payloadName(name)
			if err != nil {
				errs = append(errs, atKey(index(g.dim("payload"), i), err))
				continue
			}
			payloads = append(payloads, pl)
		}
		var loads []Load
		for i, name := range d.Load {
			l, err := ParseLoad(name)
			if err != nil {
				errs = append(errs, atKey(index(g.dim("load"), i), err))
				continue
			}
			loads = append(loads, l)
		}
		var profiles []*netem.Profile
		if len(d.Profile) == 0 { // specs built in code, not by Parse
			d.Profile = []string{netem.NameDirect}
		}
		for i, name := range d.Profile {
			pr, err := netem.Lookup(name, custom)
			if err != nil {
				errs = append(errs, atKey(index(g.dim("profile"), i), err))
				continue
			}
			if pr.Direct {
				profiles = append(profiles, nil)
			} else {
				profiles = append(profiles, &pr)
			}
		}
		for i, n := range d.Concurrency {
			if n < 1 {
				errs = append(errs, keyf(index(g.dim("concurrency"), i), "must be at least 1, got %d", n))
			}
		}
		for i, n := range d.Connections {
			if n < 1 {
				errs = append(errs, keyf(index(g.dim("connections"), i), "must be at least 1, got %d", n))
			}
		}
		for ti, t := range ts {
			for _, codec := range cs {
				for _, comp := range zs {
					for _, pl := range payloads {
						for _, conc := range d.Concurrency {
							for _, conns := range d.Connections {
								for _, l := range loads {
									for _, pr := range profiles {
										c := Cell{Group: g.Name, Transport: t, Codec: codec, Compression: comp, Payload: pl,
											Concurrency: conc, Connections: conns, Load: l, Profile: pr}
										if tnames != nil {
											k, _ := targets.KindOf(s.Targets[tnames[ti]])
											c.Target, c.Transport, c.Codec = tnames[ti], Transport{Name: k.Transport}, k.Codec
										}
										c.Key = c.KeyOf()
										if excl(g, &c) || conc < 1 || conns < 1 {
											continue
										}
										if i, dup := seen[c.Key]; dup {
											if first := &p.Cells[i]; first.Group != g.Name && !slices.Contains(first.AlsoIn, g.Name) {
												first.AlsoIn = append(first.AlsoIn, g.Name)
											}
											continue
										}
										seen[c.Key] = len(p.Cells)
										p.Cells = append(p.Cells, c)
									}
								}
							}
						}
					}
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, s.src.locate(errs)
	}
	if len(p.Cells) == 0 && len(s.Groups) > 0 {
		return nil, s.src.locate([]error{errors.New("every cell is excluded")})
	}
	if err := s.checkReference(p.Cells); err != nil {
		return nil, s.src.locate([]error{err})
	}
	p.Notes = append(p.Notes, s.payloadNotes(p.Cells)...)
	return p, nil
}

// checkReference checks that the reference names one cell, by its key or
// a fragment of exactly one key, as the runner will look it up.
func (s *Spec) checkReference(cells []Cell) error {
	if s.Reference == "" {
		return nil
	}
	var hits []string
	for _, c := range cells {
		if c.Key == s.Reference {
			return nil
		}
		if strings.Contains(c.Key, s.Reference) {
			hits = append(hits, c.Key)
		}
	}
	switch len(hits) {
	case 1:
		return nil
	case 0:
		return keyf("reference", "%q matches no cell of the spec (run 'rpcbench bench --dry-run --matrix FILE' to list the cell keys)", s.Reference)
	}
	return keyf("reference", "%q matches %d cells (%s, ...): give a longer fragment or a whole key", s.Reference, len(hits), hits[0])
}

// customProfiles builds the spec's profiles section.
func (s *Spec) customProfiles() (map[string]netem.Profile, []error) {
	custom := map[string]netem.Profile{}
	var errs []error
	for name, settings := range s.Profiles {
		p, err := netem.Define(name, settings)
		if err != nil {
			errs = append(errs, atKey(sub("profiles", name), err))
			continue
		}
		custom[name] = p
	}
	return custom, errs
}

// expandTransports resolves "all", optional entries and options, and
// checks each against the registry by building it.
func expandTransports(path string, entries []string) (out []Transport, errs []error, notes []string) {
	registered := transports.Names()
	direct := transports.DirectNames()
	add := func(t Transport) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	for i, e := range entries {
		at := index(path, i)
		if e == "all" { // the brokered ones need a broker: ask for them by name
			for _, n := range direct {
				add(Transport{Name: n})
			}
			continue
		}
		optional := strings.HasSuffix(e, "?")
		t, err := ParseTransport(strings.TrimSuffix(e, "?"))
		if err != nil {
			errs = append(errs, atKey(at, err))
			continue
		}
		if t.Name == NoopTransport || slices.Contains(peers.Names(), t.Name) {
			if t != (Transport{Name: t.Name}) {
				errs = append(errs, keyf(at, "transport %s: %s takes no options", t, t.Name))
				continue
			}
			add(t)
			continue
		}
		if !slices.Contains(registered, t.Name) {
			if optional {
				notes = append(notes, fmt.Sprintf("transport %s skipped: %q is not built in (registered: %s)", t, t.Name, strings.Join(registered, ", ")))
				continue
			}
			errs = append(errs, keyf(at, "unknown transport %q (valid: %s; add ? to skip one that is not built in)", t.Name, strings.Join(ValidTransports(), ", ")))
			continue
		}
		if _, err := transports.New(t.Name, t.Options()); err != nil {
			errs = append(errs, keyf(at, "transport %s: %v", t, err))
			continue
		}
		add(t)
	}
	return out, errs, notes
}

func checkCodec(n string) error {
	_, err := codecs.ByName(n)
	return err
}

func checkCompression(n string) error {
	_, err := codecs.CompressorByName(n)
	return err
}

// expandNames resolves "all" and checks each name.
func expandNames(path string, entries, all []string, check func(string) error) (out []string, errs []error) {
	for i, e := range entries {
		names := []string{e}
		if e == "all" {
			names = all
		} else if e == "none" && strings.HasSuffix(path, "codec") {
			names = []string{"none"} // only meaningful for noop cells
		} else if err := check(e); err != nil {
			errs = append(errs, atKey(index(path, i), err))
			continue
		}
		for _, n := range names {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out, errs
}

// CanonicalPayload checks a payload name and returns its canonical form:
// Small, Medium, Large or Bytes(n).
func CanonicalPayload(name string) (string, error) {
	if name == "none" {
		return name, nil
	}
	v, err := benchmsg.New(name, 1)
	if err != nil {
		return "", err
	}
	switch m := v.(type) {
	case *benchmsg.Blob:
		return fmt.Sprintf("Bytes(%d)", len(m.GetData())), nil
	default:
		for _, k := range []string{benchmsg.NameSmall, benchmsg.NameMedium, benchmsg.NameLarge} {
			if strings.EqualFold(k, name) {
				return k, nil
			}
		}
	}
	return name, nil
}

// matches reports whether the exclude entry covers c.
func (e Exclude) matches(c *Cell) bool {
	vals := c.Values()
	for dim, list := range e {
		i := slices.Index(DimensionNames, dim)
		if i < 0 {
			return false
		}
		alts := []string{vals[i]}
		switch dim {
		case "transport":
			alts = append(alts, c.Transport.Name)
		case "load":
			alts = append(alts, c.Load.Kind)
		}
		hit := false
		for _, want := range list {
			if dim == "payload" {
				if cp, err := CanonicalPayload(want); err == nil {
					want = cp
				} else if r, err := protopayload.Parse(want); err == nil {
					want = r.Label()
				}
			}
			if slices.Contains(alts, want) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return len(e) > 0
}

func (e Exclude) check(path string) []error {
	var errs []error
	for dim := range e {
		if !slices.Contains(DimensionNames, dim) {
			errs = append(errs, keyf(sub(path, dim), "unknown dimension %q (valid: %s)", dim, strings.Join(DimensionNames, ", ")))
		}
	}
	if len(e) == 0 {
		errs = append(errs, keyf(path, "empty entry: name at least one dimension"))
	}
	return errs
}
