package runner

import (
	"context"
	"fmt"
	"time"

	"rpcbench/harness/remote"
	"rpcbench/harness/results"
	"rpcbench/harness/spec"
	"rpcbench/services/admin"
)

// adminTimeout bounds each call to a remote server's admin methods.
const adminTimeout = 10 * time.Second

// dialRemote connects to Options.Server and records its host in the
// manifest.
func (r *runner) dialRemote(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	s, err := remote.Dial(dctx, r.opts.Server, remote.Access{Token: r.opts.AdminToken, TLS: r.opts.ServerTLS})
	if err != nil {
		return err
	}
	r.remote = s
	info := s.Info()
	m := &r.run.Manifest
	m.ServerMode = "remote"
	m.LoadID = r.opts.LoadID
	m.ServerHost = &results.ServerHost{Host: info.Host, Addr: s.Addr, PID: info.PID}
	for _, l := range info.Serving {
		m.ServerHost.Serving = append(m.ServerHost.Serving, l.Transport+" on "+l.Addr)
	}
	return nil
}

// loadSuffix tells apart the run ids of load processes started together.
func loadSuffix(id int) string {
	if id == 0 {
		return ""
	}
	return fmt.Sprintf("-load%d", id)
}

// remoteSkip returns why a cell cannot run against the remote server, or
// "" if it can.
func (r *runner) remoteSkip(pc spec.Cell) string {
	if r.opts.Server == "" {
		return ""
	}
	if _, isPeer := r.opts.Peers(pc.Transport.Name); isPeer {
		return fmt.Sprintf("peer %s: 'rpcbench serve' serves only rpcbench transports; peers run only with a server the runner starts", pc.Transport.Name)
	}
	return ""
}

// remoteServer is a cell's view of the remote server: a transport and
// codecs it must serve, and admin calls for its costs.
func (r *runner) remoteServer(p spec.Cell) (server, error) {
	addr, err := r.remote.Endpoint(p.Transport)
	if err != nil {
		return nil, err
	}
	if err := r.remote.Check(p.Codec, p.Compression); err != nil {
		return nil, err
	}
	return remoteCell{s: r.remote, addr: addr, r: r}, nil
}

// remoteCell neither starts nor stops the server.
type remoteCell struct {
	s    *remote.Server
	addr string
	r    *runner
}

func (c remoteCell) Addr() string { return c.addr }
func (c remoteCell) Stop() error  { return nil }

func (c remoteCell) Stats() (*admin.Stats, error) {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	st, err := c.s.Stats(ctx)
	if err == nil {
		c.r.noteServer(st)
	}
	return st, err
}

func (c remoteCell) GC() error {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	return c.s.GC(ctx)
}
