package rpcbench_test

import (
	"io"
	"net"
)

// newSilentServer accepts connections and reads everything, answering
// nothing: a peer that hangs.
func newSilentServer() (net.Listener, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	return l, nil
}
