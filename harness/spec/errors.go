package spec

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// An error in a spec names where it is: the file, line and column, and the
// key path ("groups[2].dimensions.codec[1]"), then says what is wrong in
// the spec's own terms:
//
//	specs/mine.yaml:14:17: groups[1].dimensions.codec[0]: unknown codec "jsno" (valid: ...)

// keyError is a problem with the value at a key path.
type keyError struct {
	path string
	err  error
}

func (e *keyError) Error() string { return e.path + ": " + e.err.Error() }
func (e *keyError) Unwrap() error { return e.err }

// atKey ties err to the value at path.
func atKey(path string, err error) error { return &keyError{path, err} }

// keyf is atKey with a formatted message.
func keyf(path, format string, args ...any) error {
	return &keyError{path, fmt.Errorf(format, args...)}
}

// index appends "[i]" to a key path.
func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// sub appends ".key" to a key path.
func sub(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// source is the text a spec was parsed from, to place its errors.
type source struct {
	file string     // "" when parsed from bytes
	root *yaml.Node // the document's top mapping; nil for specs built in code
}

// locate renders errs, one per line, each with its position.
func (src *source) locate(errs []error) error {
	var out []error
	for _, err := range errs {
		if err == nil {
			continue
		}
		var ke *keyError
		if errors.As(err, &ke) {
			out = append(out, fmt.Errorf("%s%s: %v", src.position(ke.path), ke.path, ke.err))
			continue
		}
		out = append(out, fmt.Errorf("%s%v", src.position(""), err))
	}
	return errors.Join(out...)
}

// position is "file:line:col: " of the node at path, or of its nearest
// ancestor present in the text (a default filled in by Parse has none).
func (src *source) position(path string) string {
	file := src.file
	if file != "" {
		file += ":"
	}
	n := src.node(path)
	if n == nil {
		if file != "" {
			return file + " "
		}
		return ""
	}
	return fmt.Sprintf("%s%d:%d: ", file, n.Line, n.Column)
}

var pathSegment = regexp.MustCompile(`[^.\[\]]+|\[\d+\]`)

// node walks a key path down the document.
func (src *source) node(path string) *yaml.Node {
	n := src.root
	if n == nil {
		return nil
	}
	for _, seg := range pathSegment.FindAllString(path, -1) {
		next := child(n, seg)
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

func child(n *yaml.Node, seg string) *yaml.Node {
	if strings.HasPrefix(seg, "[") {
		i, _ := strconv.Atoi(strings.Trim(seg, "[]"))
		if n.Kind == yaml.SequenceNode && i < len(n.Content) {
			return n.Content[i]
		}
		return nil
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == seg {
				return n.Content[i+1]
			}
		}
	}
	return nil
}

// entry is one node of the document with its key path; key is the
// mapping key that names it (nil for a sequence element).
type entry struct {
	path      string
	key, node *yaml.Node
}

// entries lists every node of the document in order.
func (src *source) entries() []entry {
	var out []entry
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				out = append(out, entry{sub(path, k.Value), k, v})
				walk(v, sub(path, k.Value))
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				out = append(out, entry{index(path, i), nil, c})
				walk(c, index(path, i))
			}
		}
	}
	if src.root != nil {
		walk(src.root, "")
	}
	return out
}

// pathAt finds the key path and position of what the YAML library's error
// on line is about, which it gives only as a line: the key named key, or
// else the scalar whose text is value, or else the innermost node of kind
// that starts on the line, or else the first node on the line.
func (src *source) pathAt(line int, key, value string, kind yaml.Kind) (string, *yaml.Node) {
	var first, last *entry
	es := src.entries()
	for i := range es {
		e := &es[i]
		if kind != 0 && e.node.Kind == kind && e.node.Line == line {
			last = e // the innermost list or map that starts on the line
		}
		switch {
		case key != "" && e.key != nil && e.key.Line == line && e.key.Value == key:
			return e.path, e.key
		case key == "" && value != "" && e.node.Line == line && e.node.Kind == yaml.ScalarNode && e.node.Value == value:
			return e.path, e.node
		}
		if first == nil && (e.node.Line == line || e.key != nil && e.key.Line == line) {
			first = e
		}
	}
	if last != nil {
		return last.path, last.node
	}
	if first == nil {
		return "", nil
	}
	if first.key != nil && first.key.Line == line && (first.node.Line != line || first.node.Kind != yaml.ScalarNode) {
		return first.path, first.key
	}
	return first.path, first.node
}

var (
	yamlLine      = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownField  = regexp.MustCompile("^field (\\S+) not found in type (?:spec|targets)\\.(\\w+)$")
	cannotDecode  = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")
	typeInWords   = map[string]string{"int": "a whole number", "int64": "a whole number", "float64": "a number", "bool": "true or false", "string": "a single value, not a list or map"}
	validKeysByGo = map[string]string{
		"Spec":       "name, description, server, pin, repetitions, warmup, warmup_calls, duration, calls, grace, seed, reference, generator_ceiling, sweep, profiles, targets, dimensions, excludes, groups, scenarios",
		"Def":        "url, call, proto, import_paths, protoset, data, metadata, method, headers, codec, cacert, cert, key, skip_verify",
		"Dimensions": strings.Join(DimensionNames, ", "),
		"Group":      "name, dimensions, excludes",
		"Scenario":   "name, instances, transport, codec, payload, concurrency, load, warmup, duration, timeout, bucket, settle, registry, registry_ttl, balancers, retries, hedge_delay, repetitions, faults",
		"Fault":      "at, action, instance, delay, until",
		"Sweep":      "rates, p99_bound, arrival, step_warmup, step_duration, probe, stop_after",
	}
)

// yamlErrors turns the YAML library's errors ("line 3: cannot unmarshal
// !!str `x` into int") into positioned errors in the spec's terms.
func (src *source) yamlErrors(err error) []error {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var out []error
	for _, msg := range msgs {
		msg = strings.TrimPrefix(msg, "yaml: ")
		m := yamlLine.FindStringSubmatch(msg)
		if m == nil {
			out = append(out, errors.New(msg))
			continue
		}
		line, _ := strconv.Atoi(m[1])
		what := m[2]
		var key, value string
		var kind yaml.Kind
		if u := unknownField.FindStringSubmatch(what); u != nil {
			key = u[1]
			what = fmt.Sprintf("unknown key %q (valid keys here: %s)", u[1], validKeysByGo[u[2]])
		} else if c := cannotDecode.FindStringSubmatch(what); c != nil {
			value = c[2]
			kind = map[string]yaml.Kind{"seq": yaml.SequenceNode, "map": yaml.MappingNode}[c[1]]
			want := typeInWords[c[3]]
			switch {
			case strings.HasPrefix(c[3], "[]"):
				want = "a list"
			case strings.HasPrefix(c[3], "map["), strings.HasPrefix(c[3], "spec."):
				want = "a map of key: value"
			case want == "":
				want = c[3]
			}
			got := map[string]string{"str": "text", "int": "a number", "float": "a number", "bool": "true/false", "seq": "a list", "map": "a map"}[c[1]]
			if c[2] != "" && c[1] != "seq" && c[1] != "map" {
				got = fmt.Sprintf("%q", c[2])
			}
			what = fmt.Sprintf("must be %s, got %s", want, got)
		}
		path, n := src.pathAt(line, key, value, kind)
		file := src.file
		if file != "" {
			file += ":"
		}
		if n == nil {
			out = append(out, fmt.Errorf("%s%d: %s", file, line, what))
			continue
		}
		out = append(out, fmt.Errorf("%s%d:%d: %s: %s", file, n.Line, n.Column, path, what))
	}
	return out
}
