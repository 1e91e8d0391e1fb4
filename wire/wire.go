// Package wire is rpcbench's one frame format. Every transport that carries a
// byte stream (TCP, Unix sockets, QUIC streams) and every datagram transport
// moves these frames; nothing else in the module knows the layout.
//
// A frame is a fixed 28-byte header followed by the payload. Integers are
// big-endian.
//
//	offset  size  field
//	0       1     magic 0xB7
//	1       1     version (1)
//	2       1     kind: 1 request, 2 response, 3 error, 4 ping, 5 pong, 6 cancel
//	3       1     codec ID (see package codecs; 0 for frames without a body)
//	4       1     flags (bit 0: fragment, bit 1: last fragment, bit 2: address
//	              cookie; others must be 0)
//	5       1     compression ID (0 none; see package codecs)
//	6       2     reserved, must be 0
//	8       4     call ID (FNV-1a of "Service.Method")
//	12      8     request ID (chosen by the client, echoed by the server)
//	20      4     time budget in microseconds (0: no deadline)
//	24      4     payload length
//	28      n     payload
//
// A ping or pong with request ID 0 and the address-cookie flag carries in
// its payload a cookie a datagram server gave the client's address, and that
// the client echoes to prove it receives what is sent there (package udp).
//
// An error frame's payload is a 2-byte code followed by a UTF-8 message
// (AppendError, ParseError). Parse never panics on any input, and checks the
// payload length against a limit before anything is allocated.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

const (
	// Magic is the first byte of every frame.
	Magic = 0xB7
	// Version is the frame-format version this package speaks.
	Version = 1
	// HeaderLen is the size of the fixed header.
	HeaderLen = 28
	// DefaultMaxPayload is the payload limit used when none is configured.
	DefaultMaxPayload = 16 << 20
)

// Kind says what a frame is for.
type Kind uint8

// Frame kinds.
const (
	KindRequest Kind = iota + 1
	KindResponse
	KindError
	KindPing
	KindPong
	KindCancel
	kindEnd
)

var kindNames = [...]string{"invalid", "request", "response", "error", "ping", "pong", "cancel"}

func (k Kind) String() string {
	if k < kindEnd {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Flags modify how a payload is to be read.
type Flags uint8

// Frame flags.
const (
	// FlagFragment marks one piece of a payload split over several frames
	// (datagram transports).
	FlagFragment Flags = 1 << iota
	// FlagLastFragment marks the final piece.
	FlagLastFragment
	// FlagCookie marks a ping or pong whose payload is an address cookie
	// (datagram transports' source-address validation).
	FlagCookie
	flagsKnown = FlagFragment | FlagLastFragment | FlagCookie
)

// Frame is one decoded frame: the header's fields and the payload, nothing
// that is not on the wire. Payload aliases the buffer it was parsed from.
type Frame struct {
	Kind        Kind
	Codec       uint8
	Flags       Flags
	Compression uint8
	CallID      uint32
	RequestID   uint64
	// BudgetMicros is the caller's remaining time budget; 0 means none.
	BudgetMicros uint32
	Payload      []byte
}

// Budget converts a remaining time into the header's microsecond field,
// saturating at the largest value and rounding a positive remainder up so
// that "almost expired" never reads as "no deadline".
func Budget(d time.Duration) uint32 {
	if d <= 0 {
		return 1
	}
	us := (d + time.Microsecond - 1) / time.Microsecond
	if us > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(us)
}

// Errors returned by Parse. ErrTooLarge and the malformed-header errors mean
// the stream cannot be resynchronised: the connection must be dropped.
var (
	ErrBadMagic   = errors.New("wire: bad magic byte")
	ErrBadVersion = errors.New("wire: unsupported version")
	ErrBadKind    = errors.New("wire: unknown frame kind")
	ErrBadHeader  = errors.New("wire: reserved header bits set")
	ErrTooLarge   = errors.New("wire: payload length over limit")
)

// Append encodes f after dst and returns the extended slice.
func Append(dst []byte, f *Frame) []byte {
	dst = AppendHeader(dst, f, len(f.Payload))
	return append(dst, f.Payload...)
}

// AppendHeader encodes f's header with the given payload length, for callers
// that write the payload themselves (vectored writes, in-place marshalling).
func AppendHeader(dst []byte, f *Frame, payloadLen int) []byte {
	var h [HeaderLen]byte
	h[0] = Magic
	h[1] = Version
	h[2] = byte(f.Kind)
	h[3] = f.Codec
	h[4] = byte(f.Flags)
	h[5] = f.Compression
	binary.BigEndian.PutUint32(h[8:], f.CallID)
	binary.BigEndian.PutUint64(h[12:], f.RequestID)
	binary.BigEndian.PutUint32(h[20:], f.BudgetMicros)
	binary.BigEndian.PutUint32(h[24:], uint32(payloadLen))
	return append(dst, h[:]...)
}

// PutPayloadLen rewrites the length field of a header already appended at
// buf[start:], for callers that marshal a payload in place after it.
func PutPayloadLen(buf []byte, start, payloadLen int) {
	binary.BigEndian.PutUint32(buf[start+24:], uint32(payloadLen))
}

// ParseHeader decodes the header at the start of buf, which must hold at
// least HeaderLen bytes, and returns the frame (without payload) and the
// payload length, already checked against maxPayload.
func ParseHeader(buf []byte, maxPayload int) (Frame, int, error) {
	var f Frame
	if len(buf) < HeaderLen {
		return f, 0, fmt.Errorf("wire: header needs %d bytes, have %d", HeaderLen, len(buf))
	}
	if buf[0] != Magic {
		return f, 0, fmt.Errorf("%w: 0x%02x", ErrBadMagic, buf[0])
	}
	if buf[1] != Version {
		return f, 0, fmt.Errorf("%w: %d", ErrBadVersion, buf[1])
	}
	f.Kind = Kind(buf[2])
	if f.Kind == 0 || f.Kind >= kindEnd {
		return f, 0, fmt.Errorf("%w: %d", ErrBadKind, buf[2])
	}
	f.Codec = buf[3]
	f.Flags = Flags(buf[4])
	f.Compression = buf[5]
	if f.Flags&^flagsKnown != 0 || buf[6] != 0 || buf[7] != 0 {
		return f, 0, ErrBadHeader
	}
	f.CallID = binary.BigEndian.Uint32(buf[8:])
	f.RequestID = binary.BigEndian.Uint64(buf[12:])
	f.BudgetMicros = binary.BigEndian.Uint32(buf[20:])
	n := binary.BigEndian.Uint32(buf[24:])
	if maxPayload <= 0 {
		maxPayload = DefaultMaxPayload
	}
	if uint64(n) > uint64(maxPayload) {
		return f, 0, fmt.Errorf("%w: %d > %d bytes", ErrTooLarge, n, maxPayload)
	}
	return f, int(n), nil
}

// Parse decodes the first frame in buf. It returns the frame and the number
// of bytes it used; n == 0 with a nil error means buf does not yet hold a
// whole frame. The frame's Payload aliases buf.
func Parse(buf []byte, maxPayload int) (f Frame, n int, err error) {
	if len(buf) < HeaderLen {
		if len(buf) > 0 && buf[0] != Magic {
			return f, 0, fmt.Errorf("%w: 0x%02x", ErrBadMagic, buf[0])
		}
		return f, 0, nil
	}
	f, plen, err := ParseHeader(buf, maxPayload)
	if err != nil {
		return f, 0, err
	}
	if len(buf)-HeaderLen < plen {
		return f, 0, nil
	}
	f.Payload = buf[HeaderLen : HeaderLen+plen : HeaderLen+plen]
	return f, HeaderLen + plen, nil
}

// ParseDatagram decodes a buffer that must hold exactly one frame.
func ParseDatagram(buf []byte, maxPayload int) (Frame, error) {
	f, n, err := Parse(buf, maxPayload)
	if err != nil {
		return f, err
	}
	if n == 0 {
		return f, fmt.Errorf("wire: truncated frame (%d bytes)", len(buf))
	}
	if n != len(buf) {
		return f, fmt.Errorf("wire: %d trailing bytes after frame", len(buf)-n)
	}
	return f, nil
}

// AppendError encodes an error frame's payload: code, then message.
func AppendError(dst []byte, code uint16, msg string) []byte {
	dst = binary.BigEndian.AppendUint16(dst, code)
	return append(dst, msg...)
}

// ParseError decodes an error frame's payload.
func ParseError(p []byte) (code uint16, msg string, err error) {
	if len(p) < 2 {
		return 0, "", fmt.Errorf("wire: error payload of %d bytes", len(p))
	}
	return binary.BigEndian.Uint16(p), string(p[2:]), nil
}
