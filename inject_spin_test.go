package rpcbench_test

import (
	"testing"

	"rpcbench"
)

// spin takes a duration like delay; a bad one is refused loudly.
func TestInjectSpinParsing(t *testing.T) {
	rpcbench.ParseInjectForTest("spin=3us,copy=0")
	defer func() {
		if recover() == nil {
			t.Fatal("spin=fast accepted")
		}
	}()
	rpcbench.ParseInjectForTest("spin=fast")
}
