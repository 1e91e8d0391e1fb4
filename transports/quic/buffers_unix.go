//go:build unix

package quic

import (
	"net"
	"syscall"
)

// recordBuffers notes what the kernel granted, after quic-go's own attempts.
func recordBuffers(c *net.UDPConn) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		if v, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF); err == nil {
			grantedRcv.Store(int64(v))
		}
		if v, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF); err == nil {
			grantedSnd.Store(int64(v))
		}
	})
}
