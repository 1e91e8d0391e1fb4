package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"rpcbench/codecs"
)

// ProtoSubject is a Subject of a protobuf message known only by its
// descriptor (a user's .proto, loaded at run time), with the value given
// as JSON in protobuf's JSON mapping:
//
//	proto      the message itself, as a dynamic message (dynamicpb)
//	protojson  protobuf's JSON mapping of it
//	vtproto    not applicable: needs generated code
//	raw        not applicable: carries opaque bytes only
//	others     the generic form: the JSON mapping decoded into maps,
//	           slices, strings, numbers and booleans, which the table says
func ProtoSubject(md protoreflect.MessageDescriptor, data []byte) (*Subject, error) {
	msg := dynamicpb.NewMessage(md)
	if err := protojson.Unmarshal(data, msg); err != nil {
		return nil, fmt.Errorf("bench: data does not match %s: %v", md.FullName(), err)
	}
	js, err := protojson.Marshal(msg)
	if err != nil {
		return nil, err
	}
	var generic map[string]any
	if err := json.Unmarshal(js, &generic); err != nil {
		return nil, err
	}
	newMsg := func() any { return dynamicpb.NewMessage(md) }
	resetMsg := func(v any) { proto.Reset(v.(proto.Message)) }
	equalMsg := func(a, b any) bool { return proto.Equal(a.(proto.Message), b.(proto.Message)) }
	name := string(md.FullName())
	return &Subject{
		Name:  name,
		Extra: []codecs.Codec{protoJSON{}},
		FormFor: func(codec string) (Form, error) {
			switch codec {
			case "proto":
				return Form{Value: msg, Zero: newMsg, Reset: resetMsg, Equal: equalMsg, Note: "the message (dynamic protobuf message, dynamicpb)"}, nil
			case "protojson":
				return Form{Value: msg, Zero: newMsg, Reset: resetMsg, Equal: equalMsg, Note: "the message in protobuf's JSON mapping (protojson)"}, nil
			case "vtproto":
				return Form{}, errors.New("vtproto needs code generated for the message by protoc-gen-go-vtproto; a message loaded at run time has none")
			case "raw":
				return Form{}, errors.New("raw carries opaque bytes, not messages")
			}
			return Form{
				Value: generic,
				Zero:  func() any { m := map[string]any{}; return &m },
				Reset: func(v any) { clear(*v.(*map[string]any)) },
				Equal: func(a, b any) bool { return reflect.DeepEqual(normalize(a), normalize(b)) },
				Note:  "the generic form: the protobuf JSON mapping of " + name + " decoded into map[string]any (not the message type)",
			}, nil
		},
	}, nil
}

// normalize turns a decoded generic value into the form encoding/json
// gives: maps keyed by strings, numbers as float64.
func normalize(v any) any {
	switch x := v.(type) {
	case *map[string]any:
		return normalize(*x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	}
	return v
}

// protoJSON is protobuf's JSON mapping as a codec, for messages only.
type protoJSON struct{}

func (protoJSON) Name() string { return "protojson" }

// ID is unused: protojson is measured, never framed.
func (protoJSON) ID() uint8 { return 0 }

func (protoJSON) Marshal(dst []byte, v any) ([]byte, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return dst, fmt.Errorf("protojson cannot marshal %T", v)
	}
	return protojson.MarshalOptions{}.MarshalAppend(dst, m)
}

func (protoJSON) Unmarshal(data []byte, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("protojson cannot unmarshal into %T", v)
	}
	return protojson.Unmarshal(data, m)
}
