package netem

import (
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// tcpEcho serves TCP echo on loopback until the test ends.
func tcpEcho(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { io.Copy(c, c); c.Close() })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// udpServer runs handle on every datagram a loopback socket receives
// until the test ends.
func udpServer(t *testing.T, handle func(pc *net.UDPConn, b []byte, from *net.UDPAddr)) string {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	setBuffers(pc)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, datagramSize)
		for {
			n, from, err := pc.ReadFromUDP(buf)
			if err != nil {
				return
			}
			handle(pc, buf[:n], from)
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return pc.LocalAddr().String()
}

func udpEcho(t *testing.T) string {
	return udpServer(t, func(pc *net.UDPConn, b []byte, from *net.UDPAddr) { pc.WriteToUDP(b, from) })
}

// relay starts a relay of network to target and closes it with the test.
func relay(t *testing.T, network, target string, p Profile) Relay {
	r, err := Listen(network, Config{Target: target, Profile: p})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func mustParse(t testing.TB, settings string) Profile {
	p, err := Parse(settings, settings)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// medianRTT pings addr over network n times with 64 bytes and returns the
// median round trip.
func medianRTT(t *testing.T, network, addr string, n int) time.Duration {
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg, buf := make([]byte, 64), make([]byte, 64)
	rtts := make([]time.Duration, 0, n)
	for i := 0; i < n+3; i++ { // the first few warm the path up
		c.SetDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		if i >= 3 {
			rtts = append(rtts, time.Since(start))
		}
	}
	slices.Sort(rtts)
	return rtts[len(rtts)/2]
}

func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && !errors.Is(err, io.EOF)
}
