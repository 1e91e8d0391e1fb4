package codecs

import (
	"runtime/debug"
	"sync"
)

// sliceWriter is an io.Writer (and io.ByteWriter, io.StringWriter) that
// appends to b, so stream encoders write straight into the caller's dst.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *sliceWriter) WriteByte(c byte) error {
	w.b = append(w.b, c)
	return nil
}

func (w *sliceWriter) WriteString(s string) (int, error) {
	w.b = append(w.b, s...)
	return len(s), nil
}

// Describer is implemented by codecs and compressors that can say which
// library, version and mode produce their numbers, for benchmark manifests.
type Describer interface {
	Describe() string
}

// Describe returns x's Describe() if it has one, else "".
func Describe(x any) string {
	if d, ok := x.(Describer); ok {
		return d.Describe()
	}
	return ""
}

var buildDeps = sync.OnceValue(func() map[string]string {
	deps := map[string]string{}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Replace != nil {
				d = d.Replace
			}
			deps[d.Path] = d.Version
		}
	}
	return deps
})

// ModuleVersion returns "path@version" as linked into this binary, for
// codecs registered from other packages to describe themselves.
func ModuleVersion(path string) string { return moduleVersion(path) }

// moduleVersion returns "path@version" as linked into this binary.
func moduleVersion(path string) string {
	if v := buildDeps()[path]; v != "" {
		return path + "@" + v
	}
	return path
}

// encoderPool keeps stream encoders each bound to its own sliceWriter, so a
// Marshal reuses one instead of building an encoder per message.
type encoderPool[E any] struct {
	p sync.Pool
}

type boundEncoder[E any] struct {
	w   sliceWriter
	enc E
}

func newEncoderPool[E any](bind func(w *sliceWriter) E) *encoderPool[E] {
	ep := &encoderPool[E]{}
	ep.p.New = func() any {
		be := &boundEncoder[E]{}
		be.enc = bind(&be.w)
		return be
	}
	return ep
}

// encode runs fn with an encoder whose writer appends to dst and returns
// the extended dst. An encoder that failed is dropped, since its internal
// state may be half-written.
func (ep *encoderPool[E]) encode(dst []byte, fn func(E) error) ([]byte, error) {
	be := ep.p.Get().(*boundEncoder[E])
	be.w.b = dst
	err := fn(be.enc)
	out := be.w.b
	be.w.b = nil
	if err != nil {
		return dst, err
	}
	ep.p.Put(be)
	return out, nil
}
