package resilience

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"rpcbench/harness/serverproc"
	"rpcbench/harness/spec"
)

// fleet is a scenario's server processes. Instance n (1-based) announces
// itself under the ID "i<n>" in the registry, so a restarted instance,
// on a new port, is the same instance to the reports.
type fleet struct {
	binary    string
	args      func(t spec.Transport, addr string) []string
	transport spec.Transport
	registry  string // URL the instances announce to
	service   string
	ttl       time.Duration
	cpus      []int

	mu      sync.Mutex
	procs   []*serverproc.Proc // nil while down
	sockets int
}

func instanceID(n int) string { return fmt.Sprintf("i%d", n) }

// start runs instance n and waits until it has announced itself.
func (f *fleet) start(n int) error {
	addr := "127.0.0.1:0"
	if f.transport.Name == "unix" {
		f.mu.Lock()
		f.sockets++
		addr = filepath.Join(os.TempDir(), fmt.Sprintf("rpcbench-res-%d-%d.sock", os.Getpid(), f.sockets))
		f.mu.Unlock()
		os.Remove(addr)
	}
	args := append(f.args(f.transport, addr), "--registry", f.registry, "--service-name", f.service,
		"--instance-id", instanceID(n), "--registry-ttl", f.ttl.String())
	p, err := serverproc.Start(serverproc.Options{Binary: f.binary, Args: args, CPUs: f.cpus})
	if err != nil {
		return fmt.Errorf("instance %d: %w", n, err)
	}
	f.mu.Lock()
	f.procs[n-1] = p
	f.mu.Unlock()
	return nil
}

// take removes instance n from the fleet, returning its process.
func (f *fleet) take(n int) (*serverproc.Proc, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.procs[n-1]
	if p == nil {
		return nil, fmt.Errorf("instance %d is not running", n)
	}
	f.procs[n-1] = nil
	return p, nil
}

func (f *fleet) proc(n int) (*serverproc.Proc, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p := f.procs[n-1]; p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("instance %d is not running", n)
}

// apply carries out one fault; undo ends a slow fault.
func (f *fleet) apply(ft spec.Fault, undo bool) error {
	switch ft.Action {
	case spec.FaultKill:
		p, err := f.take(ft.Instance)
		if err != nil {
			return err
		}
		p.Kill()
		return nil
	case spec.FaultStop:
		p, err := f.take(ft.Instance)
		if err != nil {
			return err
		}
		return p.Stop(10 * time.Second)
	case spec.FaultRestart:
		return f.start(ft.Instance)
	case spec.FaultSlow:
		p, err := f.proc(ft.Instance)
		if err != nil {
			return err
		}
		if undo {
			return p.SetDelay(0)
		}
		return p.SetDelay(ft.Delay.D())
	}
	return fmt.Errorf("unknown fault action %q", ft.Action)
}

// stop ends every instance still running, gracefully.
func (f *fleet) stop() error {
	f.mu.Lock()
	procs := f.procs
	f.procs = make([]*serverproc.Proc, len(procs))
	f.mu.Unlock()
	var errs []error
	for i, p := range procs {
		if p != nil {
			if err := p.Stop(10 * time.Second); err != nil {
				errs = append(errs, fmt.Errorf("instance %d: %w", i+1, err))
			}
		}
	}
	return errors.Join(errs...)
}
