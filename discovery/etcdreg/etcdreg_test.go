package etcdreg_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"rpcbench/discovery"
	"rpcbench/discovery/etcdreg"
	"rpcbench/discovery/registrytest"
	"rpcbench/internal/etcdtest"
)

// Goroutines started by package init are not leaks.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m, goleak.IgnoreCurrent()) }

func TestConformance(t *testing.T) {
	url := etcdtest.Start(t)
	registrytest.Run(t, func(t *testing.T) discovery.Registry {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r, err := etcdreg.Dial(ctx, []string{url}, fmt.Sprintf("/test/%s/", t.Name()))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}, registrytest.Options{TTL: time.Second, ExpirySlack: 2500 * time.Millisecond})
}

func TestOpenByURL(t *testing.T) {
	url := etcdtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reg, err := discovery.Open(ctx, "etcd://"+strings.TrimPrefix(url, "http://")+"/open-test")
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	a, err := discovery.Announce(ctx, reg, time.Second, discovery.Instance{Service: "Arith", Addr: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	// A second client with the same prefix sees it.
	other, err := etcdreg.Dial(ctx, []string{url}, "/open-test/")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if got, err := other.Resolve(ctx, "Arith"); err != nil || len(got) != 1 {
		t.Fatalf("Resolve: %v, %v", got, err)
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := other.Resolve(ctx, "Arith"); err != nil || len(got) != 0 {
		t.Fatalf("Resolve after Stop: %v, %v", got, err)
	}
}
