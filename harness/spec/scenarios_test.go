package spec

import (
	"strings"
	"testing"
	"time"
)

const scenarioOnly = `
name: res
scenarios:
  - name: kill-restart
    instances: 3
    load: open@1500
    duration: 10s
    balancers: [round_robin, p2c]
    retries: [none, idempotent]
    faults:
      - {at: 7s, action: restart, instance: 1}
      - {at: 3s, action: kill, instance: 1}
      - {at: 4s, action: slow, instance: 2, delay: 5ms, until: 8s}
`

func TestScenarioParse(t *testing.T) {
	s, err := Parse([]byte(scenarioOnly))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Groups) != 0 || len(s.Scenarios) != 1 {
		t.Fatalf("groups %d, scenarios %d", len(s.Groups), len(s.Scenarios))
	}
	p, err := s.Expand()
	if err != nil || len(p.Cells) != 0 {
		t.Fatalf("a spec of scenarios only expands to no cells: %v, %d cells", err, len(p.Cells))
	}
	sc := s.Scenarios[0]
	if sc.Transport != "tcp" || sc.Codec != "proto" || sc.Payload != "Small" || sc.Concurrency != 16 ||
		sc.Bucket.D() != 250*time.Millisecond || sc.Registry != RegistryMem || sc.RegistryTTL.D() != time.Second || sc.Repetitions != 1 {
		t.Fatalf("defaults: %+v", sc)
	}
	// Faults are put in time order.
	var order []string
	for _, f := range sc.Faults {
		order = append(order, f.Action)
	}
	if got := strings.Join(order, ","); got != "kill,slow,restart" {
		t.Fatalf("fault order %s", got)
	}
	if l := sc.ParsedLoad(); l.Kind != "open" || l.Rate != 1500 {
		t.Fatalf("load %+v", l)
	}
	// From the kill (3s) to the later of the restart (7s) and the slow's end (8s).
	if start, end := sc.FaultWindow(); start != 3*time.Second || end != 8*time.Second {
		t.Fatalf("fault window %v..%v", start, end)
	}
	if n := len(sc.Combinations()); n != 4 {
		t.Fatalf("%d combinations, want 4", n)
	}
}

func TestScenarioFaultWindowOpenEnded(t *testing.T) {
	sc := Scenario{Duration: Duration(5 * time.Second), Faults: []Fault{{At: Duration(time.Second), Action: FaultKill, Instance: 1}}}
	if start, end := sc.FaultWindow(); start != time.Second || end != 5*time.Second {
		t.Fatalf("a kill never undone lasts to the end: %v..%v", start, end)
	}
}

func TestScenarioErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"names", `
    balancers: [round_robin, nosuch]
    retries: [none, always]
    faults: [{at: 1s, action: explode, instance: 1}]`,
			[]string{`unknown balancer "nosuch" (valid: `, "p2c", `unknown retry policy "always" (valid: none, failover, idempotent, hedged)`,
				`unknown action "explode" (valid: kill, stop, restart, slow)`}},
		{"schedule", `
    instances: 2
    duration: 4s
    faults:
      - {at: 1s, action: restart, instance: 1}
      - {at: 2s, action: kill, instance: 3}
      - {at: 5s, action: kill, instance: 2}
      - {at: 3s, action: slow, instance: 1}
      - {at: 3s, action: kill, instance: 1, delay: 1ms}`,
			[]string{"instance 1 is not down", "instance 3: want 1..2", "after the end of the 4s timeline", "slow needs a delay", "delay and until are for slow only"}},
		{"settings", `
    transport: noop
    codec: nosuch
    load: sweep
    registry: zookeeper://x
    faults: [{at: 1s, action: kill, instance: 1}, {at: 2s, action: kill, instance: 1}]`,
			[]string{`transport "noop": want one rpcbench transport`, `unknown codec`, `load "sweep": want closed, open@RATE or poisson@RATE`,
				`registry "zookeeper://x": want mem`, "instance 1 is already down"}},
		{"no faults", `
    faults: []`, []string{"no faults: give at least one (actions: kill, stop, restart, slow)"}},
		{"unknown key", `
    flavour: x
    faults: [{at: 1s, action: kill, instance: 1}]`, []string{"valid keys here: name, instances"}},
		{"unknown fault key", `
    faults: [{at: 1s, action: kill, instance: 1, signal: 9}]`, []string{"valid keys here: at, action, instance, delay, until"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte("scenarios:\n  - name: x" + tc.body + "\n"))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestScenarioNamesRequiredAndUnique(t *testing.T) {
	_, err := Parse([]byte(`
scenarios:
  - {name: a, faults: [{at: 1s, action: kill, instance: 1}]}
  - {name: a, faults: [{at: 1s, action: kill, instance: 1}]}
  - {faults: [{at: 1s, action: kill, instance: 1}]}
`))
	if err == nil || !strings.Contains(err.Error(), `duplicate scenario name "a"`) || !strings.Contains(err.Error(), "scenario 3 has no name") {
		t.Fatalf("got %v", err)
	}
}
