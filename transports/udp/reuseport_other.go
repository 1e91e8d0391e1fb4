//go:build !unix

package udp

import (
	"errors"
	"net"
)

func listenReusePort(*net.UDPAddr) (net.PacketConn, error) {
	return nil, errors.New("the gnet engine needs SO_REUSEPORT (use engine net)")
}
