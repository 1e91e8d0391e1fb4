package bench

import (
	"errors"
	"fmt"

	"rpcbench/codecs"
)

// Subject is a message of the user's, measured through the codecs instead
// of the benchmark messages. Each codec encodes the form it can carry —
// the message itself for protobuf, a generic form (maps and slices) for
// codecs that encode any Go value — or none, and the report says which.
type Subject struct {
	// Name labels the message in the report (pkg.Msg).
	Name string
	// FormFor returns the form codec carries, or an error saying why it
	// cannot represent the message (the case is then "not applicable").
	FormFor func(codec string) (Form, error)
	// Extra are codecs measured besides the registered ones (protobuf's
	// JSON mapping, which needs the message's descriptor).
	Extra []codecs.Codec
}

// Form is one codec's view of a Subject.
type Form struct {
	Value any
	// Zero returns a decode target; Reset empties one before each decode.
	Zero  func() any
	Reset func(any)
	// Equal compares a decoded value with Value.
	Equal func(a, b any) bool
	// Note says what is encoded ("dynamic protobuf message", "generic
	// form: ...").
	Note string
}

// subjectCases builds the codec cases of o.Subject; a codec that cannot
// represent it, or whose round trip does not give it back, is skipped as
// not applicable with the reason.
func subjectCases(o Options) ([]Case, []Skipped, error) {
	var cases []Case
	var skipped []Skipped
	sub := o.Subject
	all := make([]codecs.Codec, 0, len(o.Codecs)+len(sub.Extra))
	for _, name := range o.Codecs {
		c, err := codecs.ByName(name)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, c)
	}
	for _, c := range append(all, sub.Extra...) {
		name := c.Name()
		f, err := sub.FormFor(name)
		if err == nil {
			var cc []Case
			if cc, err = valueCases(c, sub.Name, f); err == nil {
				cases = append(cases, cc...)
				continue
			}
		}
		var unsupported errUnsupported
		if errors.As(err, &unsupported) {
			err = unsupported.error
		}
		skipped = append(skipped, Skipped{name, sub.Name, fmt.Sprintf("not applicable: %v", err)})
	}
	return cases, skipped, nil
}
