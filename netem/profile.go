package netem

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Profile is a path's impairments, one Link per direction.
type Profile struct {
	// Name is the profile's name: a built-in one, a spec's custom one, or
	// the inline form itself.
	Name string `json:"name"`
	// Direct means no relay at all: the client dials the server.
	Direct bool `json:"direct,omitempty"`
	// Up is client to server, Down server to client.
	Up   Link `json:"up"`
	Down Link `json:"down"`
	// Settings is the canonical inline form ("rtt=30ms,rate=100Mbit").
	Settings string `json:"settings"`
}

// Link is one direction's impairments. The zero Link passes packets
// through unchanged (but still through the relay).
type Link struct {
	// Delay is the one-way propagation delay.
	Delay time.Duration `json:"delay_ns"`
	// Jitter is the standard deviation of a normal variation added to
	// Delay (cut at zero total delay). It never reorders: a packet never
	// leaves before the one ahead of it on the same flow.
	Jitter time.Duration `json:"jitter_ns,omitempty"`
	// Rate is the bottleneck's capacity in bits per second (0: none):
	// packets are serialized one after another, size×8/Rate each.
	Rate float64 `json:"rate_bps,omitempty"`
	// Queue is how long the bottleneck may buffer at Rate before it drops
	// datagrams (UDP) or stops reading (TCP: the sender's window closes).
	Queue time.Duration `json:"queue_ns,omitempty"`
	// Loss is the probability that a packet is lost. With LossBurst > 1
	// losses come in bursts of that mean length (Gilbert–Elliott) at the
	// same average rate.
	Loss      float64 `json:"loss,omitempty"`
	LossBurst float64 `json:"loss_burst,omitempty"`
	// Duplicate is the probability that a datagram arrives twice (UDP).
	Duplicate float64 `json:"duplicate,omitempty"`
	// Reorder is the probability that a datagram skips the delay and
	// overtakes the ones ahead of it (UDP).
	Reorder float64 `json:"reorder,omitempty"`
	// Recovery is the extra delay of a TCP segment the path "loses": the
	// time real TCP takes to detect and retransmit it (see the package
	// doc). Computed from the round trip when the profile is built.
	Recovery time.Duration `json:"tcp_recovery_ns,omitempty"`
}

// Model says in a sentence what a profile does to traffic, for manifests
// and reports; the package doc says why.
const Model = "per direction, a bottleneck (rate, a queue of 50 ms at that rate unless given, shared by a relay's flows), then delay with normal jitter that never reorders; " +
	"datagrams (UDP, QUIC): loss random or bursty (Gilbert–Elliott), duplication, reordering by skipping the delay; " +
	"TCP: a stream cannot lose bytes in a user-space relay, so each 1448-byte segment drawn as lost delays its chunk, and everything behind it on that connection, " +
	"by 2×RTT (at least 10 ms: Linux's tail loss probe) — TCP's head-of-line blocking; the 200 ms RTO path and congestion-window cuts are not modelled; " +
	"a full TCP queue stops the relay reading instead of dropping"

// DefaultQueue is the bottleneck's buffer when a profile gives none.
const DefaultQueue = 50 * time.Millisecond

// Minimum tail-loss-probe timeout, as in Linux.
const minRecovery = 10 * time.Millisecond

// Names of the profiles every spec may use.
const (
	NameDirect = "direct"
	NameRelay  = "relay"
)

// builtin are the named profiles, in inline form.
var builtin = []struct{ name, settings string }{
	{NameDirect, ""},
	{NameRelay, ""},
	{"lan", "rtt=200us,rate=1Gbit"},
	{"wan", "rtt=30ms,rate=100Mbit"},
	{"lossy", "rtt=20ms,loss=1%"},
	{"mobile", "rtt=60ms,jitter=5ms,loss=2%,loss_burst=2,rate=10Mbit"},
}

// Names lists the built-in profiles.
func Names() []string {
	out := make([]string, len(builtin))
	for i, b := range builtin {
		out[i] = b.name
	}
	return out
}

// Keys are the settings a custom or inline profile may give.
var Keys = []string{"rtt", "delay", "jitter", "rate", "queue", "loss", "loss_burst", "duplicate", "reorder"}

// Lookup returns a built-in profile, a custom one from custom, or an
// inline one ("rtt=50ms,loss=0.5%"); the error lists the valid names.
func Lookup(name string, custom map[string]Profile) (Profile, error) {
	name = strings.TrimSpace(name)
	for _, b := range builtin {
		if b.name == name {
			if name == NameDirect {
				return Profile{Name: name, Direct: true}, nil
			}
			return parse(name, b.settings)
		}
	}
	if p, ok := custom[name]; ok {
		return p, nil
	}
	if strings.Contains(name, "=") {
		return Parse(name, name)
	}
	valid := Names()
	for n := range custom {
		valid = append(valid, n)
	}
	sort.Strings(valid[len(builtin):])
	return Profile{}, fmt.Errorf("netem: unknown profile %q (valid: %s, or inline %s=VALUE,...)", name, strings.Join(valid, ", "), strings.Join(Keys, "|"))
}

// Parse builds the profile name from its inline form: comma-separated
// key=value settings (see Keys). Times are Go durations; rtt is split
// evenly between the directions, delay and jitter apply to each; rate is
// bits per second with an optional k/M/G prefix and "bit" or "bps"
// ("20Mbit"); probabilities are percentages ("0.5%") or fractions.
func Parse(name, settings string) (Profile, error) {
	if err := notBuiltin(name); err != nil {
		return Profile{}, err
	}
	return parse(name, settings)
}

func notBuiltin(name string) error {
	if slices.Contains(Names(), name) {
		return fmt.Errorf("netem: profile %q is built in and cannot be redefined", name)
	}
	return nil
}

func parse(name, settings string) (Profile, error) {
	kv := map[string]string{}
	for part := range strings.SplitSeq(settings, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return Profile{}, fmt.Errorf("netem: profile %q: setting %q is not key=value", name, part)
		}
		kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return define(name, kv)
}

// Define builds the profile name from settings given as a map (a spec's
// profiles section).
func Define(name string, settings map[string]string) (Profile, error) {
	if err := notBuiltin(name); err != nil {
		return Profile{}, err
	}
	return define(name, settings)
}

func define(name string, settings map[string]string) (Profile, error) {
	var l Link
	var rtt, delay time.Duration
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := settings[k]
		var err error
		switch k {
		case "rtt":
			rtt, err = parseDuration(v, 2*maxDelay)
		case "delay":
			delay, err = parseDuration(v, maxDelay)
		case "jitter":
			l.Jitter, err = parseDuration(v, maxDelay)
		case "queue":
			l.Queue, err = parseDuration(v, maxDelay)
		case "rate":
			l.Rate, err = ParseRate(v)
		case "loss":
			l.Loss, err = parseProbability(v)
		case "loss_burst":
			l.LossBurst, err = strconv.ParseFloat(v, 64)
			if err == nil && (l.LossBurst < 1 || l.LossBurst > 1e6 || math.IsNaN(l.LossBurst)) {
				err = fmt.Errorf("want a mean burst length from 1 to 1e6 packets")
			}
		case "duplicate":
			l.Duplicate, err = parseProbability(v)
		case "reorder":
			l.Reorder, err = parseProbability(v)
		default:
			return Profile{}, fmt.Errorf("netem: profile %q: unknown setting %q (valid: %s)", name, k, strings.Join(Keys, ", "))
		}
		if err != nil {
			return Profile{}, fmt.Errorf("netem: profile %q: %s=%q: %v", name, k, v, err)
		}
	}
	if rtt != 0 && delay != 0 {
		return Profile{}, fmt.Errorf("netem: profile %q: give rtt or delay, not both", name)
	}
	l.Delay = delay
	if rtt != 0 {
		l.Delay = rtt / 2
	}
	switch {
	case l.Rate == 0:
		l.Queue = 0 // no bottleneck, no queue
	case l.Queue == 0:
		l.Queue = DefaultQueue
	}
	if l.Loss > 0 {
		l.Recovery = max(4*l.Delay, minRecovery) // 2 × RTT
	}
	if l.LossBurst == 1 {
		l.LossBurst = 0 // bursts of one are independent losses, the default
	}
	p := Profile{Name: name, Up: l, Down: l}
	p.Settings = p.Up.settings()
	return p, nil
}

// settings is l's canonical inline form, for both directions.
func (l Link) settings() string {
	var s []string
	add := func(k, v string) { s = append(s, k+"="+v) }
	if l.Delay > 0 {
		add("rtt", (2 * l.Delay).String())
	}
	if l.Jitter > 0 {
		add("jitter", l.Jitter.String())
	}
	if l.Rate > 0 {
		add("rate", FormatRate(l.Rate))
		if l.Queue != DefaultQueue {
			add("queue", l.Queue.String())
		}
	}
	if l.Loss > 0 {
		add("loss", formatProbability(l.Loss))
	}
	if l.LossBurst > 1 {
		add("loss_burst", strconv.FormatFloat(l.LossBurst, 'g', -1, 64))
	}
	if l.Duplicate > 0 {
		add("duplicate", formatProbability(l.Duplicate))
	}
	if l.Reorder > 0 {
		add("reorder", formatProbability(l.Reorder))
	}
	return strings.Join(s, ",")
}

// RTT is the profile's base round trip (without jitter or queueing).
func (p Profile) RTT() time.Duration { return p.Up.Delay + p.Down.Delay }

// maxDelay bounds one-way times: beyond it a profile is a mistake.
const maxDelay = time.Minute

func parseDuration(v string, most time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("want a duration like 20ms")
	}
	if d < 0 || d > most {
		return 0, fmt.Errorf("want a duration from 0 to %v", most)
	}
	return d, nil
}

func parseProbability(v string) (float64, error) {
	t, pct := strings.CutSuffix(v, "%")
	f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if pct {
		f /= 100
	}
	if err != nil || !(f >= 0 && f <= 1) {
		return 0, fmt.Errorf("want a probability like 0.5%% or 0.005")
	}
	return f, nil
}

// formatProbability writes f as a percentage where that reads back
// exactly, else as a plain number, so that a canonical form parses back to
// the same profile.
func formatProbability(f float64) string {
	pct := strconv.FormatFloat(f*100, 'g', 6, 64) + "%"
	if g, err := parseProbability(pct); err == nil && g == f {
		return pct
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

var ratePrefixes = []struct {
	prefix string
	mult   float64
}{{"G", 1e9}, {"M", 1e6}, {"k", 1e3}, {"K", 1e3}, {"", 1}}

// ParseRate reads a rate in bits per second: "20Mbit", "1Gbit", "500kbps",
// "64000".
func ParseRate(v string) (float64, error) {
	t := strings.TrimSpace(v)
	for _, unit := range []string{"bit", "bps", "b"} {
		if s, ok := strings.CutSuffix(t, unit); ok {
			t = s
			break
		}
	}
	for _, p := range ratePrefixes {
		if s, ok := strings.CutSuffix(t, p.prefix); ok && s != "" {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || !(f > 0) || f*p.mult > 1e12 {
				break
			}
			return f * p.mult, nil
		}
	}
	return 0, fmt.Errorf("want bits per second like 20Mbit, 1Gbit or 500kbit (at most 1Tbit)")
}

// FormatRate writes bits per second as ParseRate reads them.
// The short form is used only where it reads back exactly, so that a
// profile's canonical form parses back to the same profile.
func FormatRate(r float64) string {
	for _, p := range ratePrefixes {
		if r >= p.mult && p.mult > 1 {
			s := strconv.FormatFloat(r/p.mult, 'g', 6, 64) + p.prefix + "bit"
			if back, err := ParseRate(s); err == nil && back == r {
				return s
			}
			break
		}
	}
	return strconv.FormatFloat(r, 'g', -1, 64) + "bit"
}
