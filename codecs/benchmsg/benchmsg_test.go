package benchmsg

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name     string
		wantType string
		minSize  int // protobuf-encoded bounds
		maxSize  int
	}{
		{"Small", "*benchmsg.Small", 40, 70},
		{"medium", "*benchmsg.Medium", 900, 1200},
		{"Large", "*benchmsg.Large", 60 << 10, 70 << 10},
		{"Bytes(1000)", "*benchmsg.Blob", 1000, 1010},
		{"Bytes:0", "*benchmsg.Blob", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := New(tt.name, 7)
			if err != nil {
				t.Fatal(err)
			}
			b, err := proto.Marshal(v.(proto.Message))
			if err != nil || len(b) < tt.minSize || len(b) > tt.maxSize {
				t.Errorf("encoded size %d (err %v), want %d..%d", len(b), err, tt.minSize, tt.maxSize)
			}
			again, _ := New(tt.name, 7)
			other, _ := New(tt.name, 8)
			if !Equal(v, again) || (tt.maxSize > 0 && Equal(v, other)) {
				t.Error("same seed must give equal values, another seed a different one")
			}
			z, err := NewZero(tt.name)
			if err != nil || typeName(z) != tt.wantType || typeName(v) != tt.wantType {
				t.Errorf("types %s and %s (err %v), want %s", typeName(v), typeName(z), err, tt.wantType)
			}
		})
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

func TestNewRejects(t *testing.T) {
	for _, name := range []string{"", "Huge", "Bytes(-1)", "Bytes:x", "Bytes(99999999999)"} {
		if _, err := New(name, 1); err == nil {
			t.Errorf("New(%q) succeeded", name)
		} else if name == "Huge" && !strings.Contains(err.Error(), "Medium") {
			t.Errorf("error %q does not list the valid names", err)
		}
		if _, err := NewZero(name); err == nil {
			t.Errorf("NewZero(%q) succeeded", name)
		}
	}
}
