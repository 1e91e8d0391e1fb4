package tcp

import (
	"context"
	"strings"

	"rpcbench"
)

// unixTransport lets "unix" be chosen by name with plain socket paths as
// addresses.
type unixTransport struct{ rpcbench.Transport }

func unixAddr(addr string) string {
	if strings.HasPrefix(addr, "unix:") {
		return addr
	}
	return "unix://" + addr
}

func (u unixTransport) Name() string { return "unix" }

// Network is the kind of socket under the transport.
func (u unixTransport) Network() string { return "unix" }

func (u unixTransport) Listen(addr string) (rpcbench.Listener, error) {
	return u.Transport.Listen(unixAddr(addr))
}

func (u unixTransport) Dial(ctx context.Context, addr string) (rpcbench.ClientConn, error) {
	return u.Transport.Dial(ctx, unixAddr(addr))
}
