package runner

import (
	"fmt"
	"os"

	"rpcbench/harness/protopayload"
	"rpcbench/harness/rpctarget"
	"rpcbench/harness/spec"
)

// payloadSkip returns why a cell cannot carry its payload, or "".
func (r *runner) payloadSkip(pc spec.Cell) string {
	msg, err := r.sp.ProtoPayload(pc.Payload)
	if err != nil {
		return "not applicable: " + err.Error()
	}
	if msg == nil {
		if err := rpctarget.Check(pc.Codec, pc.Payload, r.sp.Seed); err != nil {
			return "not applicable: " + err.Error()
		}
		return ""
	}
	if _, isPeer := r.opts.Peers(pc.Transport.Name); isPeer {
		return "not applicable: peers echo only the benchmark messages, not a user's message (" + pc.Payload + ")"
	}
	if _, err := msg.Form(pc.Codec); err != nil {
		return "not applicable: " + err.Error()
	}
	if r.remote != nil && !r.remote.Serves(msg.Method(pc.Codec)) {
		return fmt.Sprintf("the server at --server does not echo %s: start it with 'rpcbench serve --echo-protoset %s --echo-message %s'",
			msg.Message, msg.File, msg.Message)
	}
	return ""
}

// echoArgs are the server process's flags that make it echo msg: the
// descriptors, written once per run into a directory of the run's own.
func (r *runner) echoArgs(msg *protopayload.Message) ([]string, error) {
	if r.protosets == "" {
		dir, err := os.MkdirTemp("", "rpcbench-protosets-")
		if err != nil {
			return nil, err
		}
		r.protosets = dir
	}
	path, err := msg.WriteProtoset(r.protosets)
	if err != nil {
		return nil, err
	}
	return []string{"--echo-protoset", path, "--echo-message", string(msg.Desc.FullName())}, nil
}

// removeProtosets removes the descriptor files of the run's server
// processes.
func (r *runner) removeProtosets() {
	if r.protosets != "" {
		os.RemoveAll(r.protosets)
	}
}
