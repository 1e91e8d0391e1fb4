package spec

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"rpcbench/codecs/benchmsg"
	"rpcbench/harness/protopayload"
)

// checkPayloads checks the payloads map: each entry a proto payload that
// loads, under a name that is no benchmark message and fits in a cell
// key.
func (s *Spec) checkPayloads() []error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(s.Payloads)) {
		at := sub("payloads", name)
		if _, err := CanonicalPayload(name); err == nil || name == NotApplicable {
			errs = append(errs, keyf(at, "%q is a built-in payload name; choose another", name))
			continue
		}
		if name == "" || strings.ContainsAny(name, "/= \t") {
			errs = append(errs, keyf(at, "a payload name has no /, = or space: %q", name))
			continue
		}
		r, err := protopayload.Parse(s.Payloads[name])
		if err != nil {
			errs = append(errs, atKey(at, err))
			continue
		}
		if _, err := protopayload.Load(r); err != nil {
			errs = append(errs, atKey(at, err))
		}
	}
	return errs
}

// payloadName returns a cell's name for a payload dimension value: a
// benchmark message's canonical name, a name from the payloads map, or
// the label of a proto payload written inline, which is then added to the
// map under that label.
func (s *Spec) payloadName(v string) (string, error) {
	if _, ok := s.Payloads[v]; ok {
		return v, nil
	}
	if !protopayload.Is(v) {
		pl, err := CanonicalPayload(v)
		switch {
		case err != nil && len(s.Payloads) > 0:
			return "", fmt.Errorf("%v, a name in payloads (%s), or your own message: proto(FILE:pkg.Msg, DATA)", err, strings.Join(slices.Sorted(maps.Keys(s.Payloads)), ", "))
		case err != nil:
			return "", fmt.Errorf("%v, or your own message: proto(FILE:pkg.Msg, DATA)", err)
		}
		return pl, nil
	}
	r, err := protopayload.Parse(v)
	if err != nil {
		return "", err
	}
	label := r.Label()
	if prev, ok := s.Payloads[label]; ok && prev != r.String() {
		return "", fmt.Errorf("payloads %s and %s share the label %s: name them in the payloads map", prev, r, label)
	}
	if _, err := protopayload.Load(r); err != nil {
		return "", err
	}
	if s.Payloads == nil {
		s.Payloads = map[string]string{}
	}
	s.Payloads[label] = r.String()
	return label, nil
}

// ProtoPayload returns the user's message a cell's payload names, or nil
// for a benchmark message.
func (s *Spec) ProtoPayload(payload string) (*protopayload.Message, error) {
	v, ok := s.Payloads[payload]
	if !ok {
		if _, err := benchmsg.New(payload, 1); err == nil || payload == "none" || payload == NotApplicable {
			return nil, nil
		}
		return nil, fmt.Errorf("payload %s: not a benchmark message and not in the spec's payloads", payload)
	}
	r, err := protopayload.Parse(v)
	if err != nil {
		return nil, err
	}
	return protopayload.Load(r)
}

// payloadNotes says, once per user's message the cells use, how each
// codec carries it.
func (s *Spec) payloadNotes(cells []Cell) []string {
	var notes []string
	seen := map[string]bool{}
	for _, c := range cells {
		if seen[c.Payload] {
			continue
		}
		seen[c.Payload] = true
		if m, err := s.ProtoPayload(c.Payload); err == nil && m != nil {
			notes = append(notes, m.Note(c.Payload))
		}
	}
	return notes
}
