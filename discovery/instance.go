package discovery

import (
	"fmt"
	"maps"
	"strings"
)

// Instance is one provider of a service at one address.
type Instance struct {
	// Service is the name consumers resolve ("Arith"). Required; no "/".
	Service string `json:"service"`
	// ID tells the service's instances apart; registering an ID again
	// replaces the instance. Default: Transport + "://" + Addr.
	ID string `json:"id,omitempty"`
	// Addr is what the transport dials ("127.0.0.1:7000", a socket path).
	Addr string `json:"addr"`
	// Transport is the transport's registry name. Default "tcp".
	Transport string `json:"transport,omitempty"`
	// Codec is the codec the provider prefers; consumers may use another
	// (servers accept every codec). Empty: no preference.
	Codec string `json:"codec,omitempty"`
	// Weight is the instance's share of traffic relative to the others
	// for weighted balancers. Default 1.
	Weight int `json:"weight,omitempty"`
	// Metadata is free-form (zone, version, ...).
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Normalize fills in the defaults and checks the required fields.
func (in Instance) Normalize() (Instance, error) {
	switch {
	case in.Service == "":
		return in, fmt.Errorf("discovery: instance at %q has no service name", in.Addr)
	case strings.ContainsAny(in.Service, "/ \t\n"):
		return in, fmt.Errorf("discovery: service name %q contains '/' or white space", in.Service)
	case in.Addr == "":
		return in, fmt.Errorf("discovery: instance of %q has no address", in.Service)
	}
	if in.Transport == "" {
		in.Transport = "tcp"
	}
	if in.ID == "" {
		in.ID = in.Transport + "://" + in.Addr
	}
	if in.Weight <= 0 {
		in.Weight = 1
	}
	in.Metadata = maps.Clone(in.Metadata)
	return in, nil
}

// Equal reports whether two instances are identical.
func (in Instance) Equal(o Instance) bool {
	return in.Service == o.Service && in.ID == o.ID && in.Addr == o.Addr && in.Transport == o.Transport &&
		in.Codec == o.Codec && in.Weight == o.Weight && maps.Equal(in.Metadata, o.Metadata)
}

func (in Instance) String() string {
	return fmt.Sprintf("%s@%s", in.Service, in.ID)
}
