package cost

import (
	"runtime"
	"slices"
	"testing"
)

func TestCPUList(t *testing.T) {
	for in, want := range map[string][]int{"0": {0}, "0-3": {0, 1, 2, 3}, "1,3-4,7": {1, 3, 4, 7}} {
		got, err := ParseCPUs(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: %v %v", in, got, err)
		}
		if FormatCPUs(got) != in {
			t.Errorf("%v formats as %s", got, FormatCPUs(got))
		}
	}
	for _, bad := range []string{"", "a", "3-1", "-1"} {
		if _, err := ParseCPUs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

var sink []byte

func TestSnapshotDelta(t *testing.T) {
	a := Take()
	for i := 0; i < 1000; i++ {
		sink = make([]byte, 1024)
	}
	x := 0
	for i := 0; i < 5e7; i++ { // burn some CPU
		x += i
	}
	runtime.KeepAlive(x)
	d := Take().Sub(a)
	if d.Mallocs < 1000 || d.AllocBytes < 1000*1024 || d.CPUUserNs+d.CPUSysNs <= 0 || d.WallNs <= 0 {
		t.Fatalf("delta %+v", d)
	}
	if s := Take(); s.PeakRSSBytes == 0 || s.GOMAXPROCS < 1 || s.PID == 0 {
		t.Fatalf("snapshot %+v", s)
	}
}
