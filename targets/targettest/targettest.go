// Package targettest holds what the external targets' tests share: one
// run of the load engine over a target, its first call verified.
package targettest

import (
	"context"
	"testing"

	"rpcbench/harness/load"
	"rpcbench/target"
)

// Run dials one connection to tgt, verifies one call and runs the load
// engine with o over it.
func Run(t *testing.T, tgt target.Target, o load.Options) *load.Result {
	t.Helper()
	ctx := context.Background()
	c, err := tgt.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v, ok := tgt.(target.Verifier); ok {
		if err := v.Verify(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	res, err := load.Run(ctx, []target.Conn{c}, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
