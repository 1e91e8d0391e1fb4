package targets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync/atomic"
	"text/template"
	"time"
)

// Data is a target's request data: JSON documents sent in turn, one per
// call, each possibly a template in ghz's dialect:
//
//	{{.RequestNumber}}  the call's number in the run, from 0, across workers
//	{{.WorkerID}}       the worker making the call, from 0
//	{{.TimestampUnix}}  {{.TimestampUnixMilli}}  {{.TimestampUnixNano}}
//	{{randomString 8}}  8 random letters and digits ({{randomString 0}}: 2–16)
//	{{randomInt 1 100}} a random integer in [1, 100)
//
// A document is rendered per call only if it contains "{{"; the others are
// encoded once, before the run, so calls that use no template pay nothing
// for templates.
type Data struct {
	docs []doc
	// calls numbers calls across workers for {{.RequestNumber}}.
	calls atomic.Int64
}

type doc struct {
	text []byte
	tmpl *template.Template
}

// ParseData reads s: JSON, or @FILE holding one JSON document per line or
// a JSON array of documents. Empty s is one empty document (no request
// body; "{}" for a message).
func ParseData(s string) (*Data, error) {
	var docs [][]byte
	switch {
	case strings.HasPrefix(s, "@"):
		b, err := os.ReadFile(s[1:])
		if err != nil {
			return nil, fmt.Errorf("targets: data: %w", err)
		}
		if docs, err = splitDocs(b); err != nil {
			return nil, fmt.Errorf("targets: data %s: %w", s[1:], err)
		}
		if len(docs) == 0 {
			return nil, fmt.Errorf("targets: data %s: no JSON document in the file", s[1:])
		}
	default:
		docs = [][]byte{[]byte(s)}
	}
	d := &Data{}
	for i, text := range docs {
		dc := doc{text: text}
		if bytes.Contains(text, []byte("{{")) {
			t, err := template.New(fmt.Sprint("data line ", i+1)).Funcs(templateFuncs).Option("missingkey=error").Parse(string(text))
			if err != nil {
				return nil, fmt.Errorf("targets: %v", err)
			}
			dc.tmpl = t
		}
		d.docs = append(d.docs, dc)
	}
	return d, nil
}

// splitDocs splits a file into JSON documents: the elements of a
// top-level array, or one per non-empty line.
func splitDocs(b []byte) ([][]byte, error) {
	t := bytes.TrimSpace(b)
	if len(t) > 0 && t[0] == '[' {
		var arr []json.RawMessage
		if err := json.Unmarshal(t, &arr); err == nil {
			out := make([][]byte, len(arr))
			for i, m := range arr {
				out[i] = m
			}
			return out, nil
		}
	}
	var out [][]byte
	for _, line := range bytes.Split(b, []byte("\n")) {
		if l := bytes.TrimSpace(line); len(l) > 0 {
			out = append(out, l)
		}
	}
	return out, nil
}

// Len is the number of documents.
func (d *Data) Len() int { return len(d.docs) }

// Len is the number of documents.
func (r *Requests) Len() int { return r.data.Len() }

// Templated reports whether any document is a template.
func (r *Requests) Templated() bool { return r.data.Templated() }

// Templated reports whether any document is a template.
func (d *Data) Templated() bool {
	for _, dc := range d.docs {
		if dc.tmpl != nil {
			return true
		}
	}
	return false
}

// TemplateVars are the values a data template sees.
type TemplateVars struct {
	RequestNumber      int64
	WorkerID           int
	TimestampUnix      int64
	TimestampUnixMilli int64
	TimestampUnixNano  int64
}

const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

var templateFuncs = template.FuncMap{
	// The random functions take their generator from the renderer, set
	// per execution through a closure; these placeholders only let
	// Parse accept the names.
	"randomString": func(int) string { return "" },
	"randomInt":    func(int, int) (int, error) { return 0, nil },
}

// Encoder turns one rendered JSON document into the request's bytes on
// the wire (a protobuf message, a codec's encoding, the body itself),
// appended to dst. Its error names the field that does not fit.
type Encoder func(dst, json []byte) ([]byte, error)

// Requests are the encoded requests of a target: encoded once for plain
// documents, per call for templates.
type Requests struct {
	data *Data
	enc  Encoder
	pre  [][]byte // nil entries are templates
}

// NewRequests encodes every plain document and renders each template
// once, so that data that does not fit the request type fails now, with
// its line, and not on every call.
func NewRequests(d *Data, enc Encoder) (*Requests, error) {
	r := &Requests{data: d, enc: enc, pre: make([][]byte, len(d.docs))}
	c := r.cursor(0, 0)
	for i, dc := range d.docs {
		var err error
		if dc.tmpl == nil {
			r.pre[i], err = enc(nil, dc.text)
		} else {
			_, err = c.render(i)
		}
		if err != nil {
			if len(d.docs) > 1 {
				return nil, fmt.Errorf("data line %d %v", i+1, err)
			}
			return nil, fmt.Errorf("data %v", err)
		}
	}
	d.calls.Store(0) // the trial renders are not calls
	return r, nil
}

// Cursor walks the requests for one worker. It is used by one goroutine.
type Cursor struct {
	r      *Requests
	worker int
	next   int
	rng    *rand.Rand
	text   bytes.Buffer
	out    []byte
	tmpls  []*template.Template
}

// Cursor returns worker's cursor; workers start at different documents
// so that a file of requests is spread across them from the first call.
func (r *Requests) Cursor(worker int) *Cursor {
	return r.cursor(worker, uint64(time.Now().UnixNano()))
}

func (r *Requests) cursor(worker int, seed uint64) *Cursor {
	c := &Cursor{r: r, worker: worker, next: worker % len(r.pre), rng: rand.New(rand.NewPCG(seed, uint64(worker)))}
	if r.data.Templated() {
		funcs := template.FuncMap{"randomString": c.randomString, "randomInt": c.randomInt}
		c.tmpls = make([]*template.Template, len(r.data.docs))
		for i, dc := range r.data.docs {
			if dc.tmpl != nil {
				// Clone shares the parse tree; only the functions differ.
				t, _ := dc.tmpl.Clone()
				c.tmpls[i] = t.Funcs(funcs)
			}
		}
	}
	return c
}

// Next returns the next request's bytes, valid until the next call.
func (c *Cursor) Next() ([]byte, error) {
	_, b, err := c.NextAt()
	return b, err
}

// NextAt is Next with the document's index, for callers that keep their
// own form of each plain document.
func (c *Cursor) NextAt() (int, []byte, error) {
	i := c.next
	if c.next++; c.next == len(c.r.pre) {
		c.next = 0
	}
	if b := c.r.pre[i]; b != nil || c.tmpls == nil || c.tmpls[i] == nil {
		return i, b, nil
	}
	b, err := c.render(i)
	return i, b, err
}

// Plain returns document i's encoded bytes, or nil if it is a template.
func (r *Requests) Plain(i int) []byte { return r.pre[i] }

// render executes document i's template and encodes the result.
func (c *Cursor) render(i int) ([]byte, error) {
	now := time.Now()
	v := TemplateVars{RequestNumber: c.r.data.calls.Add(1) - 1, WorkerID: c.worker,
		TimestampUnix: now.Unix(), TimestampUnixMilli: now.UnixMilli(), TimestampUnixNano: now.UnixNano()}
	c.text.Reset()
	t := c.r.data.docs[i].tmpl
	if c.tmpls != nil && c.tmpls[i] != nil {
		t = c.tmpls[i]
	}
	if err := t.Execute(&c.text, v); err != nil {
		return nil, fmt.Errorf("template: %v", err)
	}
	var err error
	c.out, err = c.r.enc(c.out[:0], c.text.Bytes())
	return c.out, err
}

func (c *Cursor) randomString(n int) string {
	if n <= 0 {
		n = 2 + c.rng.IntN(15)
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[c.rng.IntN(len(letters))]
	}
	return string(b)
}

func (c *Cursor) randomInt(lo, hi int) (int, error) {
	if hi <= lo {
		return 0, errors.New("randomInt: want min < max")
	}
	return lo + c.rng.IntN(hi-lo), nil
}
