package fleet

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"rpcbench/harness/results"
	"rpcbench/harness/runner"
	"rpcbench/harness/spec"
)

// Timeouts of the coordinator's waits.
const (
	// DefaultJoinTimeout bounds the wait for the expected workers.
	DefaultJoinTimeout = time.Minute
	// DefaultReadyTimeout bounds a cell's dials and warm-up, beyond the
	// spec's warm-up time.
	DefaultReadyTimeout = 30 * time.Second
	// stallSlack is how long after its window (and grace) should have
	// ended a worker may take to upload before it counts as stalled.
	stallSlack = 10 * time.Second
	// callsWindow stands for the length of a window counted in calls.
	callsWindow = 2 * time.Minute
	// pings is the number of clock exchanges per worker, pingTimeout
	// what they may take together.
	pings       = 5
	pingTimeout = 2 * time.Second
)

// CoordinatorConfig configures a coordinator.
type CoordinatorConfig struct {
	// Expect is how many workers must join before the first cell.
	Expect int
	// JoinTimeout bounds that wait; default DefaultJoinTimeout.
	JoinTimeout time.Duration
	// TTL is the coordinator's lease TTL; default DefaultTTL.
	TTL time.Duration
	// ReadyTimeout bounds each worker's dials and warm-up beyond the
	// spec's warm-up time, after which it counts as stalled; default
	// DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// Server is what workers measure ("[TRANSPORT://]HOST:PORT").
	Server string
	// Spec gives every cell's warm-up, window, grace and seed.
	Spec *spec.Spec
	Log  io.Writer
}

// Coordinator publishes a run's cells to the workers of a fleet and
// collects their figures; it is the runner's Fleet. Its methods are for
// one goroutine.
type Coordinator struct {
	cfg   CoordinatorConfig
	e     Endpoint
	k     keys
	c     *clientv3.Client
	lease clientv3.LeaseID
	stop  context.CancelFunc
	// lost is closed when the coordinator's lease is: the run key went
	// with it and the workers have stopped.
	lost  <-chan struct{}
	runID string
	seq   int

	mu      sync.Mutex
	workers map[string]*results.FleetWorker
	// pinged holds the workers whose clocks were measured or tried: one
	// that did not answer is not tried again at every cell.
	pinged map[string]bool
}

var _ runner.Fleet = (*Coordinator)(nil)

// Coordinate publishes a run at e and waits for cfg.Expect workers to
// join. Close ends the run.
func Coordinate(ctx context.Context, e Endpoint, cfg CoordinatorConfig) (*Coordinator, error) {
	if cfg.Expect < 1 {
		return nil, fmt.Errorf("fleet: expect %d workers: want at least 1", cfg.Expect)
	}
	cfg.TTL = cmp.Or(cfg.TTL, DefaultTTL)
	cfg.JoinTimeout = cmp.Or(cfg.JoinTimeout, DefaultJoinTimeout)
	cfg.ReadyTimeout = cmp.Or(cfg.ReadyTimeout, DefaultReadyTimeout)
	c, err := dial(ctx, e)
	if err != nil {
		return nil, err
	}
	co := &Coordinator{cfg: cfg, e: e, k: keys(e.Prefix), c: c, workers: map[string]*results.FleetWorker{},
		pinged: map[string]bool{}, runID: time.Now().UTC().Format("20060102T150405.000000000Z")}
	lctx, stop := context.WithCancel(context.Background())
	co.stop = stop
	if co.lease, co.lost, err = grant(lctx, c, cfg.TTL); err != nil {
		co.Close()
		return nil, err
	}
	b, _ := json.Marshal(runMsg{ID: co.runID, Server: cfg.Server, Spec: cfg.Spec})
	resp, err := c.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(co.k.run()), "=", 0)).
		Then(clientv3.OpPut(co.k.run(), string(b), clientv3.WithLease(co.lease))).Else(clientv3.OpGet(co.k.run())).Commit()
	if err != nil {
		co.Close()
		return nil, fmt.Errorf("fleet: publish the run: %w", err)
	}
	if !resp.Succeeded {
		var other runMsg
		if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) == 1 {
			json.Unmarshal(kvs[0].Value, &other)
		}
		co.stop()
		c.Close()
		return nil, fmt.Errorf("fleet: run %s is already coordinated under %s: wait for it to end or use another prefix", other.ID, e)
	}
	if err := co.awaitWorkers(ctx, resp.Header.Revision); err != nil {
		co.Close()
		return nil, err
	}
	return co, nil
}

func (co *Coordinator) logf(format string, args ...any) {
	if co.cfg.Log != nil {
		fmt.Fprintf(co.cfg.Log, "rpcbench: fleet: %s\n", fmt.Sprintf(format, args...))
	}
}

// Close ends the run: the workers see it and exit.
func (co *Coordinator) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	if co.lease != 0 {
		b, _ := json.Marshal(runMsg{ID: co.runID, Server: co.cfg.Server, Ended: true})
		_, err = co.c.Put(ctx, co.k.run(), string(b), clientv3.WithLease(co.lease))
		co.c.Revoke(ctx, co.lease)
	}
	co.stop()
	return errors.Join(err, co.c.Close())
}

// alive lists the workers whose leases hold, sorted, noting new ones.
func (co *Coordinator) alive(ctx context.Context) ([]string, int64, error) {
	resp, err := co.c.Get(ctx, co.k.workers(), clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("fleet: list workers: %w", err)
	}
	var names []string
	co.mu.Lock()
	defer co.mu.Unlock()
	for _, kv := range resp.Kvs {
		var m workerMsg
		if json.Unmarshal(kv.Value, &m) != nil {
			continue
		}
		names = append(names, m.Name)
		if _, ok := co.workers[m.Name]; !ok {
			co.workers[m.Name] = &results.FleetWorker{Name: m.Name, Host: m.Host, PID: m.PID, Joined: m.Joined, RTTNs: -1}
		}
	}
	slices.Sort(names)
	return names, resp.Header.Revision, nil
}

// awaitWorkers waits until Expect workers have joined.
func (co *Coordinator) awaitWorkers(ctx context.Context, rev int64) error {
	ctx, cancel := context.WithTimeout(ctx, co.cfg.JoinTimeout)
	defer cancel()
	wc := co.c.Watch(ctx, co.k.workers(), clientv3.WithPrefix(), clientv3.WithRev(rev))
	for {
		names, _, err := co.alive(ctx)
		if err == nil && len(names) >= co.cfg.Expect {
			co.logf("%d workers joined %s: %s", len(names), co.e, strings.Join(names, ", "))
			return nil
		}
		select {
		case <-wc:
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("fleet: %d of %d workers joined %s within %v (%s): start them with 'rpcbench worker --coordinator %s'",
					len(names), co.cfg.Expect, co.e, co.cfg.JoinTimeout, cmp.Or(strings.Join(names, ", "), "none"), co.e)
			}
			return err
		}
	}
}

// clock measures name's clock offset unless known: the exchange with the
// shortest round trip of a few.
func (co *Coordinator) clock(ctx context.Context, name string) {
	co.mu.Lock()
	w, tried := co.workers[name], co.pinged[name]
	co.pinged[name] = true
	co.mu.Unlock()
	if w == nil || tried {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	resp, err := co.c.Get(ctx, co.k.pong(name))
	if err != nil {
		return
	}
	wc := co.c.Watch(ctx, co.k.pong(name), clientv3.WithRev(resp.Header.Revision+1))
	for seq := 1; seq <= pings; seq++ {
		t0 := time.Now()
		if put(ctx, co.c, co.k.ping(name), pingMsg{Seq: seq, UnixNs: t0.UnixNano()}, co.lease) != nil {
			return
		}
		for got := false; !got; {
			wr, ok := <-wc
			if !ok {
				return
			}
			for _, ev := range wr.Events {
				var p pingMsg
				if ev.Type == clientv3.EventTypePut && json.Unmarshal(ev.Kv.Value, &p) == nil && p.Seq == seq {
					got = true
					rtt := time.Since(t0)
					if w.RTTNs < 0 || int64(rtt) < w.RTTNs {
						w.RTTNs = int64(rtt)
						w.ClockOffsetNs = p.UnixNs - (t0.UnixNano() + int64(rtt)/2)
					}
				}
			}
		}
	}
}

// Manifest implements runner.Fleet.
func (co *Coordinator) Manifest() *results.Fleet {
	co.mu.Lock()
	defer co.mu.Unlock()
	m := &results.Fleet{Coordinator: co.e.String(), Expect: co.cfg.Expect, LeaseTTLNs: int64(co.cfg.TTL), Split: splitRule}
	for _, w := range co.workers {
		m.Workers = append(m.Workers, *w)
	}
	slices.SortFunc(m.Workers, func(a, b results.FleetWorker) int { return strings.Compare(a.Name, b.Name) })
	return m
}

// offset is name's clock offset, 0 if unmeasured.
func (co *Coordinator) offset(name string) int64 {
	co.mu.Lock()
	defer co.mu.Unlock()
	if w := co.workers[name]; w != nil && w.RTTNs >= 0 {
		return w.ClockOffsetNs
	}
	return 0
}
