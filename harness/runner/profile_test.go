package runner

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A cell with a network profile runs through a relay of the transport's
// kind: its latency carries the profile's round trip, its key and results
// name the profile, and direct cells keep their old keys.
func TestProfileCells(t *testing.T) {
	sp := mustSpec(t, `
name: profiles
server: inprocess
pin: "off"
repetitions: 1
warmup: 20ms
duration: 200ms
generator_ceiling: false
profiles:
  slow: {delay: 5ms}
dimensions:
  transport: [tcp, udp, unix]
  codec: [proto]
  profile: [direct, slow]
`)
	run, _, err := Run(context.Background(), Options{Spec: sp, NoWrite: true})
	if err != nil {
		t.Fatal(err)
	}
	if run.Manifest.Profiles["slow"] == nil || run.Manifest.ProfileModel == "" {
		t.Errorf("manifest profiles %v, model %q", run.Manifest.Profiles, run.Manifest.ProfileModel)
	}
	for _, c := range run.Cells {
		p := c.Params
		switch {
		case p.Profile == nil:
			if strings.Contains(c.Key, "profile") || !c.Ran() {
				t.Errorf("direct cell %s: status %s", c.Key, c.Status)
			}
		case p.Transport.Name == "unix":
			if c.Status != "skipped" {
				t.Errorf("%s: status %s, want skipped", c.Key, c.Status)
			}
		default:
			if !strings.HasSuffix(c.Key, "/profile=slow") || !c.Ran() {
				t.Fatalf("%s: status %s %v", c.Key, c.Status, c.Failures)
			}
			p50, relay := time.Duration(c.Merged.Latency.P50), c.Reps[0].Relay
			t.Logf("%s: p50 %v, relay %+v", c.Key, p50, relay)
			if p50 < 10*time.Millisecond || p50 > 15*time.Millisecond || relay == nil || relay.Packets == 0 {
				t.Errorf("%s: p50 %v through a 5 ms one-way relay; relay stats %+v", c.Key, p50, relay)
			}
		}
	}
}
