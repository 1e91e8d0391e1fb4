package framing

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"rpcbench/wire"
	"rpcbench/wire/wiretest"
)

// chunkReader hands out its bytes at most n at a time, as a socket might.
type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[k:]
	return k, nil
}

// FuzzReader: the stream reader yields exactly the frames wire.Parse finds
// in the whole stream, however the bytes are split, then the same error,
// or ErrUnexpectedEOF for a frame cut short, or EOF.
func FuzzReader(f *testing.F) {
	wiretest.AddSeeds(f)
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		const limit = wiretest.Limit
		want := wiretest.Read(stream, limit)
		r := NewReader(&chunkReader{b: stream, n: int(chunk) + 1}, limit)
		for i := 0; ; i++ {
			fr, err := r.Next()
			if err != nil {
				if i != len(want.Frames) {
					t.Fatalf("error %v after %d frames, want %d", err, i, len(want.Frames))
				}
				switch {
				case want.Err != nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)):
					t.Fatalf("got %v, want the parse error %v", err, want.Err)
				case want.Err == nil && want.Rest > 0 && !errors.Is(err, io.ErrUnexpectedEOF):
					t.Fatalf("got %v with %d bytes of a frame left, want ErrUnexpectedEOF", err, want.Rest)
				case want.Err == nil && want.Rest == 0 && err != io.EOF:
					t.Fatalf("got %v at a clean end, want EOF", err)
				}
				return
			}
			if i >= len(want.Frames) {
				t.Fatalf("frame %d beyond the %d in the stream", i, len(want.Frames))
			}
			if got := wire.Append(nil, &fr); !bytes.Equal(got, want.Frames[i]) {
				t.Fatalf("frame %d:\n%x\nwant\n%x", i, got, want.Frames[i])
			}
		}
	})
}
