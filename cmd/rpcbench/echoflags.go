package main

import (
	"flag"
	"strings"

	"rpcbench"
	"rpcbench/services/protoecho"
)

// echoFlags make a server echo users' protobuf messages (package
// protoecho), so that they can be cells' payloads: the runner passes them
// to the servers it starts, and a user to 'rpcbench serve' for 'bench
// --server'.
type echoFlags struct {
	file, messages string
}

func (e *echoFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&e.file, "echo-protoset", "", "also echo the messages named by --echo-message, whose descriptors are in this `file`: a protoset, or a .proto file")
	fs.StringVar(&e.messages, "echo-message", "", "comma-separated full names (pkg.Msg) of messages in --echo-protoset to echo (method ProtoEcho.<name>)")
}

func (e *echoFlags) check(cmd string) error {
	if (e.file == "") != (e.messages == "") {
		return usageError("%s: --echo-protoset and --echo-message go together", cmd)
	}
	return nil
}

// apply registers the echo methods, if any were asked for.
func (e *echoFlags) apply(srv *rpcbench.Server) error {
	if e.file == "" {
		return nil
	}
	return protoecho.RegisterFile(srv, e.file, strings.Split(e.messages, ","))
}
