// Package protopayload makes a user's protobuf message the payload of
// benchmark cells. A spec names it as
//
//	proto(FILE:pkg.Msg, DATA)
//
// FILE is a .proto file (compiled in process, its directory the import
// path) or a protoset (any other extension); DATA is a file holding the
// message in protobuf's JSON mapping (without it, the empty message).
// Relative paths are relative to the working directory, as for an
// external target's files.
//
// The proto codec carries the message as a dynamic protobuf message
// (dynamicpb); the generic codecs carry its generic form (codecs/bench's
// ProtoSubject); the server learns the type from a protoset the runner
// writes (services/protoecho).
package protopayload

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"rpcbench/codecs"
	"rpcbench/codecs/bench"
	"rpcbench/protoload"
	"rpcbench/services/protoecho"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Prefix starts every proto payload.
const Prefix = "proto("

// Ref is a parsed proto payload.
type Ref struct {
	File    string // .proto or protoset file
	Message string // full name, pkg.Msg
	Data    string // JSON file; empty for the empty message
}

// Is reports whether s is written as a proto payload (well formed or not).
func Is(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), Prefix) }

// Parse reads "proto(FILE:pkg.Msg, DATA)" (DATA optional).
func Parse(s string) (Ref, error) {
	const form = "want proto(FILE:pkg.Msg, DATA), e.g. proto(api/greet.proto:greet.v1.HelloRequest, hello.json)"
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, Prefix) {
		return Ref{}, fmt.Errorf("payload %q: %s", s, form)
	}
	if !strings.HasSuffix(s, ")") {
		if !strings.Contains(s, ",") {
			// A YAML flow list ([a, b]) splits an unquoted value at its comma.
			return Ref{}, fmt.Errorf("payload %q has no closing parenthesis: a YAML list [a, b] splits a value at its comma, so quote it: \"proto(FILE:pkg.Msg, DATA)\"", s)
		}
		return Ref{}, fmt.Errorf("payload %q has no closing parenthesis: %s", s, form)
	}
	body := s[len(Prefix) : len(s)-1]
	typ, data, _ := strings.Cut(body, ",")
	i := strings.LastIndex(typ, ":")
	if i < 0 {
		return Ref{}, fmt.Errorf("payload %q names no message: %s", s, form)
	}
	r := Ref{File: strings.TrimSpace(typ[:i]), Message: strings.TrimSpace(typ[i+1:]), Data: strings.TrimSpace(data)}
	switch {
	case r.File == "":
		return Ref{}, fmt.Errorf("payload %q names no file: %s", s, form)
	case r.Message == "" || strings.ContainsAny(r.Message, " /()"):
		return Ref{}, fmt.Errorf("payload %q: message %q is not a full name such as pkg.Msg: %s", s, r.Message, form)
	case strings.ContainsAny(r.Data, ",()"):
		return Ref{}, fmt.Errorf("payload %q: DATA is one file name: %s", s, form)
	}
	return r, nil
}

// String is the canonical form of r.
func (r Ref) String() string {
	if r.Data == "" {
		return Prefix + r.File + ":" + r.Message + ")"
	}
	return Prefix + r.File + ":" + r.Message + ", " + r.Data + ")"
}

// Label is how cells name r: the file names without their directories, so
// that cell keys keep "/" as the separator of their dimensions and no
// space ("proto(greet.proto:greet.v1.HelloRequest,hello.json)").
func (r Ref) Label() string {
	l := Prefix + filepath.Base(r.File) + ":" + r.Message
	if r.Data != "" {
		l += "," + filepath.Base(r.Data)
	}
	return l + ")"
}

// Message is a loaded proto payload.
type Message struct {
	Ref
	Desc    protoreflect.MessageDescriptor
	subject *bench.Subject
}

var (
	cacheMu sync.Mutex
	cache   = map[Ref]*Message{}
)

// Load compiles or reads r's descriptors, finds the message and builds it
// from its data. Loaded payloads are kept for the life of the process, so
// that expanding a spec again costs nothing.
func Load(r Ref) (*Message, error) {
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if m := cache[r]; m != nil {
		return m, nil
	}
	files, err := protoload.ReadFile(r.File)
	if err != nil {
		return nil, err
	}
	md, err := protoload.Message(files, r.Message)
	if err != nil {
		return nil, err
	}
	js := []byte("{}")
	if r.Data != "" {
		if js, err = os.ReadFile(r.Data); err != nil {
			return nil, fmt.Errorf("protopayload: data: %w", err)
		}
	}
	if _, err := protoload.FromJSON(md, js); err != nil {
		return nil, fmt.Errorf("protopayload: %s %v", r.Data, err)
	}
	sub, err := bench.ProtoSubject(md, js)
	if err != nil {
		return nil, err
	}
	m := &Message{Ref: r, Desc: md, subject: sub}
	cache[r] = m
	return m, nil
}

// Form is the value codec carries, with a decode target maker and an
// equality for checking echoes; an error says why codec cannot carry the
// message.
func (m *Message) Form(codec string) (bench.Form, error) {
	f, err := m.subject.FormFor(codec)
	if err != nil {
		return f, err
	}
	c, err := codecs.ByName(codec)
	if err != nil {
		return f, err
	}
	b, err := c.Marshal(nil, f.Value)
	if err != nil {
		return f, fmt.Errorf("%s cannot encode %s: %v", codec, m.Message, err)
	}
	z := f.Zero()
	if err := c.Unmarshal(b, z); err != nil {
		return f, fmt.Errorf("%s cannot decode %s: %v", codec, m.Message, err)
	}
	if !f.Equal(f.Value, z) {
		return f, fmt.Errorf("%s does not round-trip %s", codec, m.Message)
	}
	return f, nil
}

// Method is the echo method that carries the message in codec.
func (m *Message) Method(codec string) string {
	if codec == "proto" {
		return protoecho.Method(m.Desc.FullName())
	}
	return protoecho.MethodGeneric
}

// Note says, for the run's manifest, what the payload called name is and
// how each codec carries it.
func (m *Message) Note(name string) string {
	var generic, na []string
	for _, name := range codecs.Names() {
		if name == "proto" {
			continue
		}
		if _, err := m.Form(name); err == nil {
			generic = append(generic, name)
		} else {
			na = append(na, name)
		}
	}
	return fmt.Sprintf("payload %s is %s from %s, data %s: proto carries it as a dynamic protobuf message (dynamicpb), "+
		"which the server decodes and re-encodes as a typed handler does; %s carry its generic form (its protobuf JSON mapping as map[string]any); "+
		"not applicable: %s",
		name, m.Message, m.File, orNone(m.Data, "none (the empty message)"), strings.Join(generic, ", "), strings.Join(na, ", "))
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

// WriteProtoset writes the descriptors the server needs (the message's
// file and its imports) into dir and returns the file's path.
func (m *Message) WriteProtoset(dir string) (string, error) {
	if dir == "" {
		return "", errors.New("protopayload: no directory for the protoset")
	}
	path := filepath.Join(dir, strings.ReplaceAll(string(m.Desc.FullName()), ".", "_")+".protoset")
	return path, protoload.WriteProtoset(path, m.Desc.ParentFile())
}
