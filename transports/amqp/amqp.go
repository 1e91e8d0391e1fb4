// Package amqp is rpcbench's brokered transport over AMQP 0-9-1 with the
// RabbitMQ RPC pattern (see package brokered for how frames become
// messages):
//
//   - a request queue per service, named by the address's service; every
//     server of the service consumes it, so they share its load. It is
//     declared auto-delete: when its last server stops it goes, and a
//     request then comes back to its client as unroutable (published
//     mandatory), which fails the call with unavailable at once instead
//     of letting it wait for a server that is not there;
//   - an exclusive, server-named reply queue per client connection;
//   - correlation_id = the request ID (hex), reply_to = the reply queue,
//     expiration = the call's remaining time budget, so that the broker
//     drops a request whose caller has given up before a server takes it.
//
// Servers consume with automatic acknowledgement: a request is delivered
// at most once, as over the direct transports; a broker that redelivered
// the requests of a server that died would run them twice.
//
// Publisher confirms are off by default (mode "noconfirm"): the reply
// already tells the caller, end to end, that the broker carried the
// request, and a confirm would add a round trip to the broker before
// every call could go on. Mode "confirm" turns them on for every publish
// (requests and replies), to measure what they cost.
//
// The broker is RabbitMQ (package internal/rabbitmq starts a throwaway
// node for tests and benchmarks). Addresses are
// amqp://USER:PASSWORD@HOST:PORT[/QUEUE] (default queue "rpcbench", the
// default virtual host).
package amqp

import (
	"context"
	"fmt"
	"strings"

	"rpcbench"
	"rpcbench/transports/brokered"
)

// Modes lists the publish modes.
var Modes = []string{"noconfirm", "confirm"}

// Options configure the transport. Zero values select the defaults.
type Options struct {
	// Broker is the RabbitMQ node, amqp://USER:PASSWORD@HOST:PORT[/QUEUE],
	// for listeners given no URL of their own.
	Broker string
	// Mode is "noconfirm" (default) or "confirm": see the package doc.
	Mode string
	brokered.Settings
}

// Transport is RPC through RabbitMQ.
type Transport struct{ opts Options }

var _ rpcbench.Transport = (*Transport)(nil)

// New returns a transport with opts.
func New(opts Options) (*Transport, error) {
	switch opts.Mode {
	case "":
		opts.Mode = "noconfirm"
	case "noconfirm", "confirm":
	default:
		return nil, fmt.Errorf("amqp: unknown mode %q (valid: %s)", opts.Mode, strings.Join(Modes, ", "))
	}
	if opts.Broker != "" {
		if _, err := brokered.ParseAddr(opts.Broker, "amqp"); err != nil {
			return nil, err
		}
	}
	return &Transport{opts: opts}, nil
}

// Name implements rpcbench.Transport.
func (t *Transport) Name() string { return "amqp" }

func (t *Transport) confirm() bool { return t.opts.Mode == "confirm" }

// Dial implements rpcbench.Transport.
func (t *Transport) Dial(ctx context.Context, s string) (rpcbench.ClientConn, error) {
	a, err := brokered.ParseAddr(s, "amqp")
	if err != nil {
		return nil, err
	}
	return brokered.Dial("amqp", t.opts.MaxPayload, func(r brokered.Replies) (brokered.Link, error) {
		return dialClient(ctx, a, t.confirm(), r)
	})
}

// Listen implements rpcbench.Transport. s is the broker's URL, or, with
// Options.Broker set, anything else (a host:port a harness passes).
func (t *Transport) Listen(s string) (rpcbench.Listener, error) {
	if !strings.HasPrefix(s, "amqp://") {
		if t.opts.Broker == "" {
			return nil, fmt.Errorf("amqp: %q is not a broker: listen on amqp://USER:PASSWORD@HOST:PORT[/QUEUE] or give --broker (the benchmark runner starts a RabbitMQ node for amqp cells)", s)
		}
		s = t.opts.Broker
	}
	a, err := brokered.ParseAddr(s, "amqp")
	if err != nil {
		return nil, err
	}
	opts := brokered.ListenerOptions{Name: "amqp", Settings: t.opts.Settings}
	return brokered.Listen(opts, func(brokered.Requests) (brokered.ServerLink, error) {
		return dialServer(a, t.confirm())
	})
}
