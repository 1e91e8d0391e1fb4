package services

import (
	"maps"
	"slices"

	"rpcbench/codecs/benchmsg"
)

// MethodTypes builds the request and reply values of one typed method.
type MethodTypes struct {
	Req, Resp func() any
}

// Types are the built-in methods with typed messages, so that a client
// that knows only a method's name (an rpcbench+TRANSPORT:// target) can
// build its request from JSON. Echo.Echo (raw bytes) and the Admin
// methods are not load targets and are left out.
func Types() map[string]MethodTypes {
	return map[string]MethodTypes{
		"Arith.Add":      {func() any { return new(AddArgs) }, func() any { return new(AddReply) }},
		MethodEchoSmall:  {func() any { return new(benchmsg.Small) }, func() any { return new(benchmsg.Small) }},
		MethodEchoMedium: {func() any { return new(benchmsg.Medium) }, func() any { return new(benchmsg.Medium) }},
		MethodEchoLarge:  {func() any { return new(benchmsg.Large) }, func() any { return new(benchmsg.Large) }},
		MethodEchoBlob:   {func() any { return new(benchmsg.Blob) }, func() any { return new(benchmsg.Blob) }},
	}
}

// TypedMethods lists the names in Types, sorted.
func TypedMethods() []string { return slices.Sorted(maps.Keys(Types())) }
