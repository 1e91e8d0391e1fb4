//go:build !unix

package quic

import "net"

// recordBuffers is a no-op where socket options are not read back.
func recordBuffers(*net.UDPConn) {}
