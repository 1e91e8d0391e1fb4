package codecs_test

import (
	"testing"

	"rpcbench/codecs"
	"rpcbench/codecs/benchmsg"
)

func BenchmarkMicro(b *testing.B) {
	v := benchmsg.NewSmall(1)
	for _, name := range []string{"binary", "vtproto", "proto"} {
		c, _ := codecs.ByName(name)
		enc, _ := c.Marshal(nil, v)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var m benchmsg.Small
			for b.Loop() {
				c.Unmarshal(enc, &m)
			}
		})
	}
	b.Run("alloc48", func(b *testing.B) {
		b.ReportAllocs()
		enc := make([]byte, 48)
		var s string
		for b.Loop() {
			s = string(enc)
		}
		_ = s
	})
	b.Run("reset", func(b *testing.B) {
		var m benchmsg.Small
		for b.Loop() {
			benchmsg.Reset(&m)
		}
	})
}
