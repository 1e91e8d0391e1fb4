package spec

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"rpcbench/peers"
	_ "rpcbench/targets/grpctarget"
	_ "rpcbench/targets/httptarget"
)

const good = `
name: t
repetitions: 2
warmup: 100ms
duration: 300ms
sweep:
  rates: ["1000", "50%"]
  p99_bound: 2ms
groups:
  - name: a
    dimensions:
      transport: [tcp, tcp+gnet, "nosuch?"]
      codec: [proto, raw]
      payload: [Small, bytes:64]
      concurrency: [1, 8]
    excludes:
      - {codec: raw, payload: Small}
  - name: b
    dimensions:
      transport: [unix]
      codec: [json]
      load: [closed, "poisson@2000", sweep]
excludes:
  - {transport: tcp, codec: proto, payload: "Bytes(64)", concurrency: "8"}
`

func TestParseAndExpand(t *testing.T) {
	s, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if s.Repetitions != 2 || s.Warmup.D() != 100*time.Millisecond || s.Duration.D() != 300*time.Millisecond || s.Server != "process" || s.Pin != "auto" || !*s.GeneratorCeiling {
		t.Fatalf("settings: %+v", s)
	}
	p, err := s.Expand()
	if err != nil {
		t.Fatal(err)
	}
	// Group a: 2 transports × (proto: Small, Bytes(64); raw: Bytes(64)) × 2 concurrencies = 12,
	// minus proto/Bytes(64)/c=8 on tcp and tcp+gnet (an exclude's "tcp"
	// matches every tcp variant) = 10. Group b: 3 loads.
	if len(p.Cells) != 13 {
		for _, c := range p.Cells {
			t.Log(c.Key)
		}
		t.Fatalf("%d cells, want 13", len(p.Cells))
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "nosuch") {
		t.Fatalf("notes %q", p.Notes)
	}
	want := "transport=tcp+gnet/codec=raw/compression=none/payload=Bytes(64)/conc=8/conns=1/load=closed"
	found := false
	for _, c := range p.Cells {
		found = found || c.Key == want
		if c.Codec == "raw" && c.Payload == "Small" {
			t.Errorf("excluded cell present: %s", c.Key)
		}
	}
	if !found {
		t.Errorf("missing %s", want)
	}
	last := p.Cells[len(p.Cells)-1]
	if last.Key != "transport=unix/codec=json/compression=none/payload=Small/conc=1/conns=1/load=sweep" {
		t.Errorf("last cell %s", last.Key)
	}
	if l := p.Cells[len(p.Cells)-2].Load; l.Kind != "open" || l.Rate != 2000 || !l.Poisson {
		t.Errorf("poisson load parsed as %+v", l)
	}
}

func TestAllExpandsRegistries(t *testing.T) {
	s, err := Parse([]byte("dimensions:\n  transport: [all]\n  codec: [all]\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Expand()
	if err != nil {
		t.Fatal(err)
	}
	ts, cs := map[string]bool{}, map[string]bool{}
	for _, c := range p.Cells {
		ts[c.Transport.Name], cs[c.Codec] = true, true
	}
	if !ts["tcp"] || !ts["unix"] || !cs["json"] || !cs["raw"] || len(p.Cells) != len(ts)*len(cs) {
		t.Fatalf("transports %v codecs %v cells %d", ts, cs, len(p.Cells))
	}
	if ts["nats"] || ts["amqp"] {
		t.Errorf("\"all\" expanded to brokered transports: %v", ts)
	}
}

// TestBrokeredByName: the brokered transports are in a spec when named,
// and a mode amqp does not have is an error that lists its modes.
func TestBrokeredByName(t *testing.T) {
	s, err := Parse([]byte("dimensions:\n  transport: [nats, amqp, amqp+mode=confirm]\n  codec: [proto]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := s.Expand(); err != nil || len(p.Cells) != 3 {
		t.Fatalf("expand: %v", err)
	}
	s, err = Parse([]byte("dimensions:\n  transport: [amqp+mode=sync]\n  codec: [proto]\n"))
	if err == nil {
		_, err = s.Expand()
	}
	if err == nil || !strings.Contains(err.Error(), "valid: noconfirm, confirm") {
		t.Fatalf("got %v, want the amqp modes listed", err)
	}
}

// TestErrors checks that every spec error names the line, column and key
// path of the value at fault, in the spec's terms.
func TestErrors(t *testing.T) {
	const tc = "dimensions:\n  transport: [tcp]\n  codec: [json]\n"
	for _, c := range []struct{ name, yaml, want string }{
		{"unknown transport", "dimensions:\n  transport: [tcp, tcpx]\n  codec: [json]\n", `2:20: dimensions.transport[1]: unknown transport "tcpx" (valid: all,`},
		{"unknown codec", "dimensions:\n  transport: [tcp]\n  codec: [jsonx]\n", `3:11: dimensions.codec[0]: codecs: unknown codec "jsonx" (valid:`},
		{"unknown codec in a group", "groups:\n  - name: a\n    dimensions: {transport: [tcp], codec: [json]}\n  - name: b\n    dimensions:\n      transport: [tcp]\n      codec: [json, jsno]\n", `7:21: groups[1].dimensions.codec[1]: codecs: unknown codec "jsno"`},
		{"unknown compression", tc + "  compression: [zip]\n", `4:17: dimensions.compression[0]: codecs: unknown compression "zip" (valid: none`},
		{"unknown payload", tc + "  payload: [Small, Huge]\n", `4:20: dimensions.payload[1]:`},
		{"unknown profile", tc + "  profile: [moon]\n", `4:13: dimensions.profile[0]:`},
		{"bad engine", "dimensions:\n  transport: [tcp+engine=turbo]\n  codec: [json]\n", `2:15: dimensions.transport[0]: transport tcp+engine=turbo:`},
		{"bad option", "dimensions:\n  transport: [tcp+fast]\n  codec: [json]\n", `2:15: dimensions.transport[0]: transport "tcp+fast": unknown option "fast"`},
		{"unknown dimension", tc + "  payloads: [Small]\n", `4:3: dimensions.payloads: unknown key "payloads" (valid keys here: transport, codec`},
		{"unknown key", "name: x\nrepetition: 3\n" + tc, `2:1: repetition: unknown key "repetition" (valid keys here: name,`},
		{"not a number", "repetitions: three\n" + tc, `1:14: repetitions: must be a whole number, got "three"`},
		{"not a list", "dimensions:\n  transport: {tcp: 1}\n  codec: [json]\n", `2:14: dimensions.transport: must be a list, got a map`},
		{"bad duration", "duration: 3 seconds\n" + tc, `1:11: duration: bad duration "3 seconds"`},
		{"bad load", tc + "  load: [closed, open]\n", `4:18: dimensions.load[1]: load "open": want closed, open@RATE`},
		{"bad exclude", tc + "excludes:\n  - {codecs: json}\n", `5:14: excludes[0].codecs: unknown dimension "codecs"`},
		{"no dimensions", "name: x\n", "1:1: no dimensions"},
		{"empty", "", "the spec is empty"},
		{"only a comment", "# nothing yet\n", "the spec is empty"},
		{"not a map", "- tcp\n", "1:1: a spec is a map of keys"},
		{"no codec", "dimensions:\n  transport: [tcp]\n", "2:3: dimensions.codec: no codec given; every group needs one (valid: all,"},
		{"server", "server: remote\n" + tc, `1:9: server: "remote": want process or inprocess`},
		{"both", "duration: 1s\ncalls: 10\n" + tc, "2:8: calls: give duration or calls, not both"},
		{"rate", "sweep:\n  rates: [fast]\n" + tc, `2:11: sweep.rates[0]: bad rate "fast"`},
		{"concurrency", tc + "  concurrency: [1, 0]\n", "4:20: dimensions.concurrency[1]: must be at least 1, got 0"},
		{"all excluded", tc + "excludes:\n  - {codec: json}\n", "1:1: every cell is excluded"},
		{"reference", "reference: codec=xml\n" + tc, `1:12: reference: "codec=xml" matches no cell`},
		{"scenario", "scenarios:\n  - {name: s, instances: 0, transport: tcp, codec: json}\n", "2:5: scenarios[0]: scenario s:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse([]byte(c.yaml))
			if err == nil {
				_, err = s.Expand()
			}
			if err == nil || !strings.HasPrefix(err.Error(), c.want) && !strings.Contains(err.Error(), "\n"+c.want) {
				t.Fatalf("error %v\nwant a line starting %q", err, c.want)
			}
			if strings.Contains(err.Error(), "!!") || strings.Contains(err.Error(), "spec.") {
				t.Errorf("error speaks Go or YAML types: %v", err)
			}
		})
	}
}

// TestErrorsNameTheFile checks that errors of a spec read from a file,
// Expand's included, start with the file's name.
func TestErrorsNameTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(path, []byte("dimensions:\n  transport: [tcp]\n  codec: [json, jsno]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Expand()
	if want := path + ":3:17: dimensions.codec[1]: "; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %v, want it to start %q", err, want)
	}
	if err := os.WriteFile(path, []byte("name: x\nrepetitions: [3]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err = ReadFile(path); err == nil || !strings.HasPrefix(err.Error(), path+":2:14: repetitions: must be a whole number, got a list") {
		t.Fatalf("error %v", err)
	}
}

func TestManyErrorsAtOnce(t *testing.T) {
	s, err := Parse([]byte("dimensions:\n  transport: [tcpx, tcp]\n  codec: [jsonx, protox]\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Expand()
	if err == nil || strings.Count(err.Error(), "\n") < 2 {
		t.Fatalf("want three errors reported together, got %v", err)
	}
}

func TestTransportForms(t *testing.T) {
	for in, want := range map[string]Transport{
		"tcp":               {Name: "tcp"},
		"tcp+gnet":          {Name: "tcp", Engine: "gnet"},
		"quic+mux":          {Name: "quic", Mode: "mux"},
		"tcp+tls+gnet":      {Name: "tcp", Engine: "gnet", TLS: true},
		"x+engine=e+mode=m": {Name: "x", Engine: "e", Mode: "m"},
		"tcp+workers+gnet":  {Name: "tcp", Engine: "gnet", Workers: true},
	} {
		got, err := ParseTransport(in)
		if err != nil || got != want {
			t.Errorf("%s: %+v %v", in, got, err)
		}
		back, _ := ParseTransport(got.String())
		if back != got {
			t.Errorf("%s: canonical %s does not parse back", in, got)
		}
	}
	if (Transport{Name: "tcp", Engine: "gnet", TLS: true, Workers: true}).String() != "tcp+gnet+tls+workers" {
		t.Error("canonical order")
	}
}

func TestCanonicalPayload(t *testing.T) {
	for in, want := range map[string]string{"small": "Small", "LARGE": "Large", "Bytes(64)": "Bytes(64)", "bytes:1024": "Bytes(1024)"} {
		if got, err := CanonicalPayload(in); err != nil || got != want {
			t.Errorf("%s: %s %v", in, got, err)
		}
	}
}

func TestSharedCellsRunOnce(t *testing.T) {
	s, err := Parse([]byte(`
groups:
  - name: a
    dimensions: {transport: [tcp], codec: [proto, json]}
  - name: b
    dimensions: {transport: [tcp, unix], codec: [proto]}
`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Cells) != 3 || p.Cells[0].Codec != "proto" || len(p.Cells[0].AlsoIn) != 1 || p.Cells[0].AlsoIn[0] != "b" {
		t.Fatalf("cells %+v", p.Cells)
	}
}

// Every peer is a value of the transport dimension, whatever else the
// program links (this test binary links only what spec imports), and
// takes no options.
func TestPeersAreTransports(t *testing.T) {
	names := peers.Names()
	if len(names) == 0 {
		t.Fatal("peers.Names() is empty")
	}
	s, err := Parse([]byte("dimensions:\n  transport: [" + strings.Join(names, ", ") + "]\n  codec: [proto]\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Expand()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range p.Cells {
		got = append(got, c.Transport.Name)
	}
	if !slices.Equal(got, names) {
		t.Errorf("cells of transports %v, want %v", got, names)
	}
	for _, n := range names {
		if !slices.Contains(ValidTransports(), n) {
			t.Errorf("ValidTransports() lacks peer %s", n)
		}
	}
	s, _ = Parse([]byte("dimensions:\n  transport: [grpc+tls]\n  codec: [proto]\n"))
	if _, err := s.Expand(); err == nil || !strings.Contains(err.Error(), "takes no options") {
		t.Errorf("peer with options: %v", err)
	}
}

// A target group crosses the targets map's entries: keys start with the
// target, the cell records its protocol and codec, and names are checked.
func TestTargetDimension(t *testing.T) {
	s, err := Parse([]byte(`
name: t
targets:
  g: {url: "grpc://127.0.0.1:1", call: a.B/C}
  h: {url: "http://127.0.0.1:2/x"}
dimensions:
  target: [g, h]
  concurrency: [1, 8]
  profile: [direct, lan]
excludes:
  - {target: h, profile: lan}
`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Expand()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range p.Cells {
		keys = append(keys, c.Key)
		if c.Target == "g" && (c.Transport.Name != "grpc" || c.Codec != "proto") || c.Target == "h" && c.Transport.Name != "http" {
			t.Errorf("%s: transport %s codec %s", c.Key, c.Transport, c.Codec)
		}
	}
	want := "target=g/conc=1/conns=1/load=closed target=g/conc=1/conns=1/load=closed/profile=lan target=g/conc=8/conns=1/load=closed target=g/conc=8/conns=1/load=closed/profile=lan target=h/conc=1/conns=1/load=closed target=h/conc=8/conns=1/load=closed"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("keys\n%s\nwant\n%s", got, want)
	}
	for y, msg := range map[string]string{
		"targets: {g: {url: \"grpc://h:1\"}}\ndimensions: {target: [x]}":                 `unknown target "x" (targets: g)`,
		"targets: {g: {url: \"ftp://h:1\"}}\ndimensions: {target: [g]}":                  `unknown scheme "ftp"`,
		"targets: {g: {url: \"grpc://h:1\"}}\ndimensions: {target: [g], codec: [proto]}": "replaces transport, codec",
		"targets: {g: {url: \"grpc://h:1\", prot: x}}\ndimensions: {target: [g]}":        "valid keys here: url, call",
	} {
		s, err := Parse([]byte("name: x\n" + y))
		if err == nil {
			_, err = s.Expand()
		}
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: err %v, want %q", y, err, msg)
		}
	}
}
