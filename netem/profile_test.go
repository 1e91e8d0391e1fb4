package netem

import (
	"strings"
	"testing"
	"time"
)

func TestLookup(t *testing.T) {
	custom := map[string]Profile{}
	my, err := Define("mylink", map[string]string{"rtt": "50ms", "jitter": "5ms", "loss": "0.5%", "rate": "20Mbit"})
	if err != nil {
		t.Fatal(err)
	}
	custom["mylink"] = my
	tests := []struct {
		name     string
		rtt      time.Duration
		rate     float64
		loss     float64
		settings string
	}{
		{"direct", 0, 0, 0, ""},
		{"relay", 0, 0, 0, ""},
		{"lan", 200 * time.Microsecond, 1e9, 0, "rtt=200µs,rate=1Gbit"},
		{"wan", 30 * time.Millisecond, 100e6, 0, "rtt=30ms,rate=100Mbit"},
		{"lossy", 20 * time.Millisecond, 0, 0.01, "rtt=20ms,loss=1%"},
		{"mobile", 60 * time.Millisecond, 10e6, 0.02, "rtt=60ms,jitter=5ms,rate=10Mbit,loss=2%,loss_burst=2"},
		{"mylink", 50 * time.Millisecond, 20e6, 0.005, "rtt=50ms,jitter=5ms,rate=20Mbit,loss=0.5%"},
		{"rtt=10ms,rate=500kbit", 10 * time.Millisecond, 500e3, 0, "rtt=10ms,rate=500kbit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Lookup(tc.name, custom)
			if err != nil {
				t.Fatal(err)
			}
			if p.RTT() != tc.rtt || p.Up.Rate != tc.rate || p.Down.Loss != tc.loss || p.Settings != tc.settings || p.Name != tc.name {
				t.Errorf("got %+v", p)
			}
			if (tc.name == "direct") != p.Direct {
				t.Errorf("Direct = %v", p.Direct)
			}
			if p.Up.Loss > 0 && p.Up.Recovery != max(2*p.RTT(), minRecovery) {
				t.Errorf("recovery %v for rtt %v", p.Up.Recovery, p.RTT())
			}
		})
	}
}

func TestLookupErrors(t *testing.T) {
	for in, want := range map[string]string{
		"wna":               "valid: direct, relay, lan, wan, lossy, mobile",
		"rtt=fast":          `rtt="fast"`,
		"loss=150%":         "probability",
		"rate=20Mbyte":      "bits per second",
		"rtt=1ms,delay=1ms": "rtt or delay",
		"color=red":         "unknown setting",
		"loss_burst=0.5":    "burst",
	} {
		_, err := Lookup(in, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Lookup(%q) = %v, want an error with %q", in, err, want)
		}
	}
	if _, err := Define("wan", map[string]string{"rtt": "1ms"}); err == nil {
		t.Error("redefining a built-in profile was accepted")
	}
}

// FuzzParseProfile: any input gives a profile or an error, never a panic,
// and a profile's canonical settings parse back to the same links.
func FuzzParseProfile(f *testing.F) {
	for _, s := range []string{"rtt=30ms,rate=100Mbit", "rtt=60ms,jitter=5ms,loss=2%,loss_burst=2,rate=10Mbit", "delay=1ms,duplicate=1%,reorder=0.5%,queue=20ms,rate=1Gbit", "loss=0.01", ",,", "rate=1e3kbit", "loss_burst=1", "loss=1%,loss_burst=1.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse("fuzz", s)
		if err != nil {
			return
		}
		q, err := Parse("fuzz", p.Settings)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", p.Settings, s, err)
		}
		if q.Up != p.Up || q.Down != p.Down {
			t.Fatalf("%q → %q: %+v != %+v", s, p.Settings, q.Up, p.Up)
		}
	})
}
