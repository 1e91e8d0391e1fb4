package brokered

import (
	"net"
	"time"
)

// Request is one request message as a client publishes it.
type Request struct {
	// Body is one encoded frame; the link does not retain it after
	// Publish returns.
	Body []byte
	// Corr is the correlation ID: the frame's request ID.
	Corr uint64
	// TTL is how long the broker may hold the message before it is
	// delivered (0: no expiry): the call's remaining time budget.
	TTL time.Duration
}

// Link is one client connection to a broker, with a reply address of its
// own. Publish is safe for concurrent use; Close may be called while
// Publish runs, once or more.
type Link interface {
	// Publish sends a request to the service, asking for its replies at
	// the link's reply address.
	Publish(r Request) error
	// MaxBody is the largest message the broker accepts.
	MaxBody() int
	Close() error
}

// Replies is where a Link delivers what arrives for its client: Conn
// implements it. The link calls Reply from one goroutine at a time; body
// is the link's to give away (the Conn keeps it until the next Recv).
// Undeliverable and Lost may be called from any goroutine.
type Replies interface {
	// Reply is a message that arrived at the reply address.
	Reply(body []byte)
	// Undeliverable reports that the broker found no consumer for the
	// request with correlation ID corr.
	Undeliverable(corr uint64, why string)
	// Lost reports that the connection to the broker ended.
	Lost(err error)
}

// ServerLink is a server's connection to a broker. Reply is safe for
// concurrent use, also with StopConsuming and Close; Close may be called
// more than once.
type ServerLink interface {
	// Consume starts delivering the service's requests to reqs.
	Consume(reqs Requests) error
	// StopConsuming stops taking requests; replies still go out.
	StopConsuming() error
	// Reply publishes body to the client whose reply address is to, with
	// correlation ID corr.
	Reply(to string, corr uint64, body []byte) error
	// MaxBody is the largest message the broker accepts.
	MaxBody() int
	// Addr is what clients dial.
	Addr() net.Addr
	Close() error
}

// Requests is where a ServerLink delivers the service's messages:
// Listener implements it. The link calls Request from one goroutine at a
// time; body is the link's to give away. Lost may be called from any
// goroutine; a link that reconnects by itself keeps calling Request
// afterwards.
type Requests interface {
	// Request is a message from the client whose reply address is from.
	Request(from string, body []byte)
	// Lost reports that the connection to the broker ended: every session
	// ends with it, as a TCP server's connections end with the network.
	Lost(err error)
}
