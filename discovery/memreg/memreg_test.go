package memreg_test

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"rpcbench/discovery"
	"rpcbench/discovery/memreg"
	"rpcbench/discovery/registrytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	registrytest.Run(t, func(*testing.T) discovery.Registry { return memreg.New() },
		registrytest.Options{TTL: 200 * time.Millisecond, ExpirySlack: 300 * time.Millisecond})
}
