package peers

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"rpcbench/cost"
	"rpcbench/harness/serverproc"
	"rpcbench/services/admin"
)

// ServeProcess is the server process of peer name: it pins itself to the
// CPUs in serverproc.PinEnv, starts the peer's server on addr, prints the
// ready line and answers "stats" and "gc" on in/out until in ends, exactly
// as serverproc.Serve does for rpcbench transports.
func ServeProcess(name, addr string, in io.Reader, out io.Writer) error {
	p, ok := Lookup(name)
	if !ok {
		return fmt.Errorf("peers: unknown peer %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	if list := os.Getenv(serverproc.PinEnv); list != "" {
		cpus, err := cost.ParseCPUs(list)
		if err != nil {
			return err
		}
		if err := cost.Pin(cpus); err != nil {
			return err
		}
	}
	actual, stop, err := p.Serve(addr)
	if err != nil {
		return fmt.Errorf("peers: %s: listen on %s: %w", name, addr, err)
	}
	w := bufio.NewWriter(out)
	fmt.Fprintf(w, "%s%s on %s\n", serverproc.ReadyPrefix, name, actual)
	if err := w.Flush(); err != nil {
		stop()
		return err
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		w.WriteString(serverproc.ReplyPrefix)
		switch cmd := strings.TrimSpace(sc.Text()); cmd {
		case "stats":
			b, _ := json.Marshal(admin.Stats{Snapshot: cost.Take()})
			w.Write(b)
			w.WriteByte('\n')
		case "gc":
			runtime.GC()
			w.WriteString("ok\n")
		default:
			fmt.Fprintf(w, "error unknown command %q\n", cmd)
		}
		if err := w.Flush(); err != nil {
			stop()
			return err
		}
	}
	return stop()
}
