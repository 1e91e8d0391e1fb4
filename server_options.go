package rpcbench

import (
	"log"

	"rpcbench/wire"
)

// ServerOptions configures a Server. Zero values select the documented
// defaults.
type ServerOptions struct {
	// MaxInflightPerConn caps concurrent calls on one connection; calls over
	// the cap get a resource-exhausted error. Default 4096.
	MaxInflightPerConn int
	// MaxPayload caps a request's decoded payload. Default 16 MiB.
	MaxPayload int
	// CompressThreshold: replies shorter than this go uncompressed even when
	// the request was compressed. Default 256 bytes.
	CompressThreshold int
	// NoInline runs every call on a worker goroutine, including those of
	// methods declared Inline: to measure what Inline saves, or to keep a
	// connection's reader free whatever its handlers do.
	NoInline bool
	// Logf receives connection-level problems; default log.Printf. Set it
	// to a no-op to silence the server.
	Logf func(format string, args ...any)
}

func (o *ServerOptions) fill() {
	if o.MaxInflightPerConn <= 0 {
		o.MaxInflightPerConn = 4096
	}
	if o.MaxPayload <= 0 {
		o.MaxPayload = wire.DefaultMaxPayload
	}
	if o.CompressThreshold <= 0 {
		o.CompressThreshold = 256
	}
	if o.Logf == nil {
		o.Logf = log.Printf
	}
}
