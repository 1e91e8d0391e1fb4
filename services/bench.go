package services

import (
	"context"
	"fmt"

	"rpcbench"
	"rpcbench/codecs/benchmsg"
)

// Echo methods of the benchmark message set: each decodes the request with
// the caller's codec into a fresh message and encodes it back, so a call
// measures serialization on both sides as well as the transport.
const (
	MethodEchoSmall  = "Bench.EchoSmall"
	MethodEchoMedium = "Bench.EchoMedium"
	MethodEchoLarge  = "Bench.EchoLarge"
	MethodEchoBlob   = "Bench.EchoBlob" // the Bytes(n) payload
	// MethodEchoRaw sends the request payload back as it came, whatever
	// the codec: the raw codec's echo.
	MethodEchoRaw = "Echo.Echo"
)

// RegisterBench adds the benchmark echo methods to srv.
func RegisterBench(srv *rpcbench.Server) error {
	for _, err := range []error{
		rpcbench.Handle(srv, MethodEchoSmall, echo[benchmsg.Small], rpcbench.Inline()),
		rpcbench.Handle(srv, MethodEchoMedium, echo[benchmsg.Medium], rpcbench.Inline()),
		rpcbench.Handle(srv, MethodEchoLarge, echo[benchmsg.Large], rpcbench.Inline()),
		rpcbench.Handle(srv, MethodEchoBlob, echo[benchmsg.Blob], rpcbench.Inline()),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

func echo[M any](_ context.Context, m *M) (*M, error) { return m, nil }

// BenchEchoMethod returns the echo method for a payload name as
// benchmsg.New accepts it ("Small", "Bytes(64)", ...).
func BenchEchoMethod(payload string) (string, error) {
	v, err := benchmsg.NewZero(payload)
	if err != nil {
		return "", err
	}
	switch v.(type) {
	case *benchmsg.Small:
		return MethodEchoSmall, nil
	case *benchmsg.Medium:
		return MethodEchoMedium, nil
	case *benchmsg.Large:
		return MethodEchoLarge, nil
	case *benchmsg.Blob:
		return MethodEchoBlob, nil
	}
	return "", fmt.Errorf("services: no echo method for payload %q (%T)", payload, v)
}
