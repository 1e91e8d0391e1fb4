package codecs

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"reflect"
	"sync"
)

// Gob is encoding/gob in its per-message form: every Marshal starts a new
// gob stream, so every message carries its type definitions and every
// Unmarshal compiles them again. That works on every transport (out of
// order, lost or duplicated frames are all fine) and it is expensive: this
// codec measures what gob costs when nothing is shared between messages.
// The RPC core uses this form.
//
// NewSession returns the streaming form net/rpc uses (type definitions sent
// once per connection), which is much cheaper but correct only when one
// session's messages are decoded in exactly the order they were encoded.
//
// encoding/gob sizes a map from the count in the data without checking it
// against the input (a 70-byte message asked for 13 GiB here), so before
// decoding, nil maps reachable from v through struct fields are made
// empty, and types with a map below a pointer, slice, array, map or
// interface are refused.
type Gob struct{}

func init() { Register(Gob{}) }

// Name implements Codec.
func (Gob) Name() string { return "gob" }

// ID implements Codec.
func (Gob) ID() uint8 { return 9 }

// Describe implements Describer.
func (Gob) Describe() string { return "encoding/gob (stdlib), new stream per message" }

// Marshal implements Codec.
func (Gob) Marshal(dst []byte, v any) ([]byte, error) {
	w := sliceWriter{b: dst}
	if err := gob.NewEncoder(&w).Encode(v); err != nil {
		return dst, err
	}
	return w.b, nil
}

// Unmarshal implements Codec.
func (Gob) Unmarshal(data []byte, v any) error {
	if err := gobPrepare(v); err != nil {
		return err
	}
	if err := gobCheckFraming(data); err != nil {
		return err
	}
	r := bytes.NewReader(data) // an io.ByteReader, so gob adds no buffering
	if err := gob.NewDecoder(r).Decode(v); err != nil {
		return err
	}
	return gobCheckRest(r)
}

// gobCheckFraming checks that data is a sequence of gob messages whose
// length prefixes fit in data. encoding/gob would otherwise read a claimed
// length in 10 MiB steps before noticing the input ended.
func gobCheckFraming(data []byte) error {
	for len(data) > 0 {
		n, size := gobUint(data)
		if size == 0 || n > uint64(len(data)-size) {
			return fmt.Errorf("codecs: gob: message length exceeds the input")
		}
		data = data[size+int(n):]
	}
	return nil
}

// gobUint decodes gob's unsigned integer: one byte below 0x80, else the
// negated count of big-endian bytes that follow. size 0 means malformed.
func gobUint(b []byte) (v uint64, size int) {
	if b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	n := 256 - int(b[0]) // 0xff: 1 byte, 0xf8: 8 bytes
	if n > 8 || n >= len(b) {
		return 0, 0
	}
	for _, c := range b[1 : 1+n] {
		v = v<<8 | uint64(c)
	}
	return v, 1 + n
}

func gobCheckRest(r *bytes.Reader) error {
	if r.Len() != 0 {
		return fmt.Errorf("codecs: gob: %d bytes after the message", r.Len())
	}
	return nil
}

// NewSession implements Session.
func (Gob) NewSession() Codec {
	s := &gobSession{}
	s.enc = gob.NewEncoder(&s.w)
	s.dec = gob.NewDecoder(&s.r)
	return s
}

// gobSession is one connection's pair of gob streams: the encoder sends
// each type's definition once, the decoder remembers the definitions it
// has read. Marshal and Unmarshal are each serialised by a mutex; the
// caller must put messages on the wire in Marshal order and feed them to
// the peer's Unmarshal in that same order. After any error the session is
// unusable, because the two ends no longer agree on what was sent.
type gobSession struct {
	encMu  sync.Mutex
	w      sliceWriter
	enc    *gob.Encoder
	encErr error

	decMu  sync.Mutex
	r      bytes.Reader
	dec    *gob.Decoder
	decErr error
}

var errGobSessionBroken = errors.New("codecs: gob session unusable after an earlier error")

func (s *gobSession) Name() string { return Gob{}.Name() }
func (s *gobSession) ID() uint8    { return Gob{}.ID() }

// Describe implements Describer.
func (s *gobSession) Describe() string { return "encoding/gob (stdlib), one stream per connection" }

func (s *gobSession) Marshal(dst []byte, v any) ([]byte, error) {
	s.encMu.Lock()
	defer s.encMu.Unlock()
	if s.encErr != nil {
		return dst, errGobSessionBroken
	}
	s.w.b = dst
	err := s.enc.Encode(v)
	out := s.w.b
	s.w.b = nil
	if err != nil {
		s.encErr = err
		return dst, err
	}
	return out, nil
}

func (s *gobSession) Unmarshal(data []byte, v any) error {
	s.decMu.Lock()
	defer s.decMu.Unlock()
	if s.decErr != nil {
		return errGobSessionBroken
	}
	if err := gobPrepare(v); err != nil {
		return err // nothing was read: the stream is intact
	}
	if err := gobCheckFraming(data); err != nil {
		return err // nothing was read: the stream is intact
	}
	s.r.Reset(data)
	err := s.dec.Decode(v)
	if err == nil {
		err = gobCheckRest(&s.r)
	}
	s.r.Reset(nil)
	s.decErr = err
	return err
}

// gobMapPaths caches, per type, the field index paths of the maps gob
// would otherwise size from untrusted counts (or an error for a type whose
// maps cannot be reached that way).
var gobMapPaths sync.Map // reflect.Type -> gobPlan

type gobPlan struct {
	paths [][]int
	err   error
}

// gobPrepare makes the nil maps in v empty, so that gob fills them instead
// of allocating them with an unchecked size hint.
func gobPrepare(v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("codecs: gob: cannot unmarshal into %T (want a non-nil pointer)", v)
	}
	p, ok := gobMapPaths.Load(rv.Type())
	if !ok {
		p, _ = gobMapPaths.LoadOrStore(rv.Type(), planGobMaps(rv.Type().Elem()))
	}
	plan := p.(gobPlan)
	if plan.err != nil {
		return plan.err
	}
	for _, path := range plan.paths {
		if f := rv.Elem().FieldByIndex(path); f.IsNil() {
			f.Set(reflect.MakeMap(f.Type()))
		}
	}
	return nil
}

func planGobMaps(t reflect.Type) gobPlan {
	var plan gobPlan
	var walk func(t reflect.Type, path []int)
	walk = func(t reflect.Type, path []int) {
		switch t.Kind() {
		case reflect.Map:
			if len(path) == 0 { // *map[K]V: the root itself
				plan.err = fmt.Errorf("codecs: gob: top-level map %v is not supported (wrap it in a struct)", t)
				return
			}
			plan.paths = append(plan.paths, append([]int(nil), path...))
			if hasMap(t.Key(), nil) || hasMap(t.Elem(), nil) {
				plan.err = fmt.Errorf("codecs: gob: %v nests a map inside a map", t)
			}
		case reflect.Struct:
			for i := range t.NumField() {
				if f := t.Field(i); f.IsExported() {
					walk(f.Type, append(path, i))
				}
			}
		default:
			if hasMap(t, nil) {
				plan.err = fmt.Errorf("codecs: gob: %v holds a map below a pointer, slice, array or interface, which gob would size from untrusted input", t)
			}
		}
	}
	walk(t, nil)
	return plan
}

// hasMap reports whether values of t can contain a map (or an interface,
// which could hold one).
func hasMap(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	if seen == nil {
		seen = map[reflect.Type]bool{}
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Map, reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return hasMap(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && hasMap(f.Type, seen) {
				return true
			}
		}
	}
	return false
}
