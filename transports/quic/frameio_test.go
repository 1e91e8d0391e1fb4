package quic

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"rpcbench/internal/bufpool"
	"rpcbench/wire"
)

func frameBytes(payload string) []byte {
	return wire.Append(nil, &wire.Frame{Kind: wire.KindRequest, Codec: 1, CallID: 7, RequestID: 9, Payload: []byte(payload)})
}

func TestReadFrame(t *testing.T) {
	big := string(bytes.Repeat([]byte("x"), 3000)) // grows the buffer
	oversize := frameBytes("")
	binary.BigEndian.PutUint32(oversize[24:], 1<<20)
	cases := []struct {
		name    string
		in      []byte
		payload string
		err     error // nil: any error when wantErr
		wantErr bool
	}{
		{name: "small", in: frameBytes("hello"), payload: "hello"},
		{name: "empty payload", in: frameBytes(""), payload: ""},
		{name: "grows", in: frameBytes(big), payload: big},
		{name: "no frame", in: nil, err: errNoFrame, wantErr: true},
		{name: "short header", in: frameBytes("x")[:10], err: io.ErrUnexpectedEOF, wantErr: true},
		{name: "short payload", in: frameBytes("hello")[:30], err: io.ErrUnexpectedEOF, wantErr: true},
		{name: "trailing bytes", in: append(frameBytes("hi"), 0), wantErr: true},
		{name: "two frames", in: append(frameBytes("a"), frameBytes("b")...), wantErr: true},
		{name: "oversize", in: oversize, err: wire.ErrTooLarge, wantErr: true},
		{name: "garbage", in: []byte("GET / HTTP/1.0\r\n\r\nthis is not a frame at all"), err: wire.ErrBadMagic, wantErr: true},
	}
	for _, tc := range cases {
		for _, chunked := range []bool{false, true} {
			name := tc.name
			var r io.Reader = bytes.NewReader(tc.in)
			if chunked {
				name += "/one byte reads"
				r = iotest.OneByteReader(r)
			}
			t.Run(name, func(t *testing.T) {
				buf := bufpool.Get()
				defer bufpool.Put(buf)
				f, err := readFrame(r, buf, 4096, nil)
				if tc.wantErr {
					if err == nil || tc.err != nil && !errors.Is(err, tc.err) {
						t.Fatalf("got %v, want error %v", err, tc.err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if string(f.Payload) != tc.payload || f.RequestID != 9 || f.CallID != 7 {
					t.Fatalf("got %+v", f)
				}
			})
		}
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add(frameBytes("hello"), uint8(0))
	f.Add(frameBytes(""), uint8(3))
	f.Add(append(frameBytes("a"), 1, 2), uint8(1))
	f.Add([]byte("garbage"), uint8(0))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		var r io.Reader = bytes.NewReader(in)
		if chunk%2 == 1 {
			r = iotest.OneByteReader(r)
		}
		buf := bufpool.Get()
		defer bufpool.Put(buf)
		fr, err := readFrame(r, buf, 1<<16, nil)
		if err != nil {
			return
		}
		if out := wire.Append(nil, &fr); !bytes.Equal(out, in) {
			t.Fatalf("accepted %x but it re-encodes as %x", in, out)
		}
	})
}
