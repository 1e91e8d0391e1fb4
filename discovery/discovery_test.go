package discovery_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"rpcbench/discovery"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func inst(id string, weight int) discovery.Instance {
	return discovery.Instance{Service: "S", ID: id, Addr: id, Transport: "tcp", Weight: weight}
}

func ids(in []discovery.Instance) []string {
	out := []string{}
	for _, i := range in {
		out = append(out, i.ID)
	}
	return out
}

func TestNormalize(t *testing.T) {
	n, err := discovery.Instance{Service: "Arith", Addr: "127.0.0.1:7000"}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if n.ID != "tcp://127.0.0.1:7000" || n.Transport != "tcp" || n.Weight != 1 {
		t.Errorf("defaults: %+v", n)
	}
	for _, bad := range []discovery.Instance{{Addr: "x"}, {Service: "A/B", Addr: "x"}, {Service: "A"}} {
		if _, err := bad.Normalize(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestDiff(t *testing.T) {
	old := []discovery.Instance{inst("a", 1), inst("b", 1), inst("c", 1)}
	cur := []discovery.Instance{inst("b", 2), inst("c", 1), inst("d", 1)}
	u := discovery.Diff(old, cur)
	if !slices.Equal(ids(u.Joined), []string{"b", "d"}) || !slices.Equal(ids(u.Left), []string{"a"}) || !slices.Equal(ids(u.Instances), []string{"b", "c", "d"}) {
		t.Fatalf("Diff = joined %q left %q all %q", ids(u.Joined), ids(u.Left), ids(u.Instances))
	}
	if u := discovery.Diff(nil, nil); u.Instances == nil || len(u.Joined)+len(u.Left) != 0 {
		t.Fatalf("empty diff: %+v", u)
	}
}

// A receiver that does not keep up gets merged updates whose joins and
// leaves add up to the truth, and always the final state.
func TestFeedCoalesces(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := discovery.NewFeed(ctx, nil)
	f.Publish(nil)
	first := <-f.C()
	if len(first.Instances) != 0 {
		t.Fatalf("first %+v", first)
	}
	f.Publish([]discovery.Instance{inst("a", 1)})
	f.Publish([]discovery.Instance{inst("a", 1), inst("b", 1)})
	f.Publish([]discovery.Instance{inst("b", 1), inst("c", 1)})
	f.Publish([]discovery.Instance{inst("c", 1), inst("b", 1)}) // same set, unsorted
	time.Sleep(20 * time.Millisecond)
	var joined, left []string
	var last []string
	for !slices.Equal(last, []string{"b", "c"}) {
		select {
		case u := <-f.C():
			joined, left, last = append(joined, ids(u.Joined)...), append(left, ids(u.Left)...), ids(u.Instances)
		case <-time.After(2 * time.Second):
			t.Fatalf("no final state; last %q", last)
		}
	}
	// "a" may have been seen and left, or merged away entirely.
	slices.Sort(joined)
	if !slices.Equal(joined, []string{"b", "c"}) && !slices.Equal(joined, []string{"a", "b", "c"}) {
		t.Errorf("joined %q", joined)
	}
	if len(left) != 0 && !slices.Equal(left, []string{"a"}) {
		t.Errorf("left %q", left)
	}
	// Republishing the same state sends nothing.
	f.Publish([]discovery.Instance{inst("b", 1), inst("c", 1)})
	select {
	case u := <-f.C():
		t.Fatalf("update without a change: %+v", u)
	case <-time.After(50 * time.Millisecond):
	}
	ended := make(chan struct{})
	g := discovery.NewFeed(context.Background(), func() { close(ended) })
	g.Close()
	if _, ok := <-g.C(); ok {
		t.Fatal("closed feed delivered")
	}
	<-ended
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for target, want := range map[string]string{
		"127.0.0.1:7100":     "not a URL",
		"nosuch://x":         `unknown registry scheme "nosuch"`,
		"::not a url at all": "not a URL",
	} {
		if _, err := discovery.Open(ctx, target); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q) = %v, want an error with %q", target, err, want)
		}
	}
}
