package netem

import "fmt"

// Relay is a running emulator on one address: clients dial Addr instead
// of the target and their traffic crosses the profile's impairments.
// Methods are safe for concurrent use.
type Relay interface {
	// Addr is where clients connect ("127.0.0.1:port").
	Addr() string
	// Stats counts what the relay has done so far.
	Stats() Stats
	// Close stops the relay and every flow through it and waits for its
	// goroutines.
	Close() error
}

// Config sets up a relay. Zero values select the defaults.
type Config struct {
	// Target is the server's address.
	Target string
	// Profile is what the path does to traffic.
	Profile Profile
	// Listen is the relay's own address; default "127.0.0.1:0".
	Listen string
	// Seed makes the random fates of a run repeatable; default 1.
	Seed uint64
}

func (c *Config) fill() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:0"
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
}

// Listen starts a relay for network "tcp" or "udp" (QUIC runs on "udp").
func Listen(network string, c Config) (Relay, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
		return ListenTCP(c)
	case "udp", "udp4", "udp6":
		return ListenUDP(c)
	}
	return nil, fmt.Errorf("netem: no relay for network %q (valid: tcp, udp)", network)
}

var (
	_ Relay = (*TCPRelay)(nil)
	_ Relay = (*UDPRelay)(nil)
)
