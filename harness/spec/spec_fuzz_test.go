package spec

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: any spec text is accepted or refused with an error, never a
// panic; an accepted one expands into cells or says why not.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../../specs/*.yaml")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("name: x\ndimensions:\n  transport: [tcp]\n  codec: [proto]\n  payload: [Small]\n  concurrency: [1]\n  load: [\"open@1000\"]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sp, err := Parse(b)
		if err != nil {
			return
		}
		sp.Expand() //nolint:errcheck // refusing is fine; panicking is not
	})
}

// FuzzParseValues: the transport, load and rate parsers refuse or accept
// without panics, and an accepted transport or load reads back from its
// canonical form.
func FuzzParseValues(f *testing.F) {
	for _, s := range []string{"tcp", "tcp+tls", "tcp+engine=gnet", "quic+mode=mux", "http1+tls+workers", "closed", "open@1000", "poisson@2.5k", "sweep", "50%", "1e3", "+", "tcp+engine=", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if tr, err := ParseTransport(s); err == nil {
			again, err := ParseTransport(tr.String())
			if err != nil || again != tr {
				t.Fatalf("transport %q → %q → %+v, %v", s, tr.String(), again, err)
			}
		}
		if l, err := ParseLoad(s); err == nil {
			again, err := ParseLoad(l.String())
			if err != nil || again != l {
				t.Fatalf("load %q → %q → %+v, %v", s, l.String(), again, err)
			}
		}
		ParseRate(s) //nolint:errcheck // only panics matter here
	})
}
