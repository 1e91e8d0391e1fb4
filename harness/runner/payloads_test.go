package runner_test

import (
	"context"
	"strings"
	"testing"

	"rpcbench/harness/results"
	"rpcbench/harness/runner"
	"rpcbench/harness/spec"
	"rpcbench/internal/testbin"
)

const protoPayloadSpec = `
name: mine
repetitions: 1
warmup: 50ms
duration: 200ms
generator_ceiling: false
pin: "off"
payloads:
  order: proto(../protopayload/testdata/order.proto:shop.v1.Order, ../protopayload/testdata/order.json)
dimensions:
  transport: [tcp, http1]
  codec: [proto, msgpack, xml]
  payload: [order, "proto(../protopayload/testdata/order.proto:shop.v1.Order.Line)"]
  concurrency: [2]
`

// A user's message is the payload of ordinary cells: the runner hands its
// descriptors to each server process, which echoes it through the proto
// codec as a dynamic message and through msgpack as its generic form; the
// echo is checked for content before each cell is measured (a wrong echo
// fails the cell), the server's costs are measured, and xml, which cannot
// carry it, is not applicable.
func TestProtoPayloadThroughServerProcesses(t *testing.T) {
	bin := testbin.Rpcbench(t)
	for _, mode := range []string{"process", "inprocess"} {
		t.Run(mode, func(t *testing.T) {
			sp, err := spec.Parse([]byte(protoPayloadSpec + "server: " + mode + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			run, _, err := runner.Run(context.Background(), runner.Options{Spec: sp, NoWrite: true, ServerBinary: bin})
			if err != nil {
				t.Fatal(err)
			}
			if len(run.Cells) != 12 {
				t.Fatalf("%d cells", len(run.Cells))
			}
			wire := map[string]float64{}
			for _, c := range run.Cells {
				p := c.Params
				if p.Codec == "xml" {
					if c.Status != results.StatusSkipped || !strings.Contains(c.SkipReason, "not applicable: xml") {
						t.Errorf("%s: %s %q", c.Key, c.Status, c.SkipReason)
					}
					continue
				}
				if c.Status != results.StatusOK || c.Merged == nil || c.Merged.Throughput.Median <= 0 {
					t.Fatalf("%s: %s %v", c.Key, c.Status, c.Failures)
				}
				if mode == "process" && c.Merged.PerCall.ServerCPUNs <= 0 {
					t.Errorf("%s: server costs %+v", c.Key, c.Merged.PerCall)
				}
				wire[p.Transport.Name+"/"+p.Codec+"/"+p.Payload] = c.Merged.PerCall.WireOut
			}
			// The order is ~100 bytes in protobuf; its JSON-mapped generic
			// form in msgpack is larger; the empty line message smaller.
			big, small := wire["tcp/proto/order"], wire["tcp/proto/proto(order.proto:shop.v1.Order.Line)"]
			if big < 90 || small >= big || wire["tcp/msgpack/order"] <= big {
				t.Errorf("wire bytes per call %v", wire)
			}
			notes := strings.Join(run.Manifest.Notes, "\n")
			for _, want := range []string{"payload order is shop.v1.Order from ../protopayload/testdata/order.proto", "dynamic protobuf message", "msgpack", "payload proto(order.proto:shop.v1.Order.Line) is shop.v1.Order.Line"} {
				if !strings.Contains(notes, want) {
					t.Errorf("notes lack %q:\n%s", want, notes)
				}
			}
			if got := run.Manifest.Spec.Payloads["proto(order.proto:shop.v1.Order.Line)"]; got != "proto(../protopayload/testdata/order.proto:shop.v1.Order.Line)" {
				t.Errorf("the recorded spec names the inline payload as %q", got)
			}
		})
	}
}

// Spec errors about a user's message name the key and what is wrong,
// before anything runs.
func TestProtoPayloadSpecErrors(t *testing.T) {
	for yaml, want := range map[string]string{
		"payloads:\n  o: proto(../protopayload/testdata/order.proto:shop.v1.Ordr)\n":          `payloads.o: protoload: unknown message "shop.v1.Ordr"`,
		"payloads:\n  Small: proto(../protopayload/testdata/order.proto:shop.v1.Order)\n":     "payloads.Small: \"Small\" is a built-in payload name",
		"payloads:\n  o: proto(../protopayload/testdata/order.proto:shop.v1.Order, x.json)\n": "payloads.o: protopayload: data: open x.json",
	} {
		sp, err := spec.Parse([]byte(yaml + "dimensions:\n  transport: [tcp]\n  codec: [proto]\n"))
		if err == nil {
			_, err = sp.Expand()
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", yaml, err, want)
		}
	}
	sp, err := spec.Parse([]byte("dimensions:\n  transport: [tcp]\n  codec: [proto]\n  payload: [proto(a.proto:x.M, d.json)]\n"))
	if err == nil {
		_, err = sp.Expand()
	}
	if err == nil || !strings.Contains(err.Error(), "dimensions.payload[0]") || !strings.Contains(err.Error(), "quote it") {
		t.Errorf("unquoted in a flow list: %v", err)
	}
}
