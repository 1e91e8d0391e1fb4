//go:build !linux

package udp

import (
	"net"
	"net/netip"
)

// batchReader reads one datagram at a time where recvmmsg(2) is missing.
type batchReader struct {
	uc   *net.UDPConn
	buf  []byte
	n    int
	from netip.AddrPort
}

func newBatchReader(uc *net.UDPConn, _, size int) (*batchReader, error) {
	return &batchReader{uc: uc, buf: make([]byte, size)}, nil
}

func (r *batchReader) read() (int, error) {
	n, from, err := r.uc.ReadFromUDPAddrPort(r.buf)
	if err != nil {
		return 0, err
	}
	r.n, r.from = n, from
	return 1, nil
}

func (r *batchReader) datagram(int) ([]byte, netip.AddrPort) { return r.buf[:r.n], r.from }

// batchWriter writes each datagram at once where sendmmsg(2) is missing.
type batchWriter struct {
	uc        *net.UDPConn
	connected bool
}

func newBatchWriter(uc *net.UDPConn, connected bool) (*batchWriter, error) {
	return &batchWriter{uc: uc, connected: connected}, nil
}

func (w *batchWriter) write(b []byte, to netip.AddrPort) error {
	var err error
	if w.connected {
		_, err = w.uc.Write(b)
	} else {
		_, err = w.uc.WriteToUDPAddrPort(b, to)
	}
	return err
}

func (w *batchWriter) cork() bool { return false }
func (w *batchWriter) uncork()    {}
