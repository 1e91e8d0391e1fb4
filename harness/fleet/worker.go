package fleet

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"rpcbench/harness/results"
	"rpcbench/harness/runner"
)

// DefaultTTL is the lease TTL of workers and coordinator: how long a dead
// process goes unnoticed at most.
const DefaultTTL = 5 * time.Second

// startTimeout bounds a ready worker's wait for the start instant.
const startTimeout = 2 * time.Minute

// WorkerConfig configures a worker.
type WorkerConfig struct {
	// Name tells the worker apart in the fleet and the run; default the
	// host name. Two workers of one fleet cannot share a name.
	Name string
	// TTL is the worker's lease TTL; default DefaultTTL.
	TTL time.Duration
	// Runner gives the access to the server (AdminToken, ServerTLS); the
	// run provides its Spec and Server.
	Runner runner.Options
	// Log receives a line per event; nil for none.
	Log io.Writer
}

// ErrCoordinatorLost ends a worker whose coordinator's lease expired.
var ErrCoordinatorLost = errors.New("fleet: the coordinator is gone (its lease expired): load stopped")

// Work joins the fleet at e and generates its share of every cell of the
// next run, until the run ends (nil), its coordinator is lost
// (ErrCoordinatorLost), its own lease is lost, or ctx ends.
func Work(ctx context.Context, e Endpoint, cfg WorkerConfig) error {
	if cfg.Name == "" {
		cfg.Name, _ = os.Hostname()
	}
	cfg.TTL = cmp.Or(cfg.TTL, DefaultTTL)
	w := &worker{cfg: cfg, k: keys(e.Prefix), e: e}
	c, err := dial(ctx, e)
	if err != nil {
		return err
	}
	defer c.Close()
	w.c = c
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lease, lost, err := grant(lctx, c, cfg.TTL)
	if err != nil {
		return err
	}
	w.lease = lease
	defer func() {
		rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Second)
		c.Revoke(rctx, lease)
		rcancel()
	}()
	joinRev, err := w.join(ctx)
	if err != nil {
		return err
	}
	go w.answerPings(lctx, joinRev)
	w.logf("joined %s; waiting for a run", e)
	run, runRev, err := w.awaitRun(ctx, joinRev)
	if err != nil {
		return err
	}
	w.logf("run %s against %s", run.ID, run.Server)
	opts := cfg.Runner
	opts.Spec, opts.Server = run.Spec, run.Server
	sh, err := runner.NewShare(ctx, opts)
	if err != nil {
		return err
	}
	defer sh.Close()
	w.sh = sh

	// The run's context ends with the run, the coordinator or this
	// worker's lease; the reason stays in end.
	runCtx, stopRun := context.WithCancelCause(lctx)
	defer stopRun(nil)
	go w.watchRun(runCtx, stopRun, runRev, lost)
	return w.cells(runCtx, max(joinRev, runRev)+1, run.ID)
}

// errRunEnded is the cause of a run's context ending as it should.
var errRunEnded = errors.New("fleet: run ended")

type worker struct {
	cfg   WorkerConfig
	k     keys
	e     Endpoint
	c     *clientv3.Client
	lease clientv3.LeaseID
	sh    *runner.Share
}

func (w *worker) logf(format string, args ...any) {
	if w.cfg.Log != nil {
		fmt.Fprintf(w.cfg.Log, "rpcbench worker %s: %s\n", w.cfg.Name, fmt.Sprintf(format, args...))
	}
}

// join puts workers/NAME unless another worker holds it.
func (w *worker) join(ctx context.Context) (int64, error) {
	host, _ := os.Hostname()
	b, _ := json.Marshal(workerMsg{Name: w.cfg.Name, Host: host, PID: os.Getpid(), Joined: time.Now()})
	key := w.k.worker(w.cfg.Name)
	resp, err := w.c.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(b), clientv3.WithLease(w.lease))).Commit()
	if err != nil {
		return 0, fmt.Errorf("fleet: join: %w", err)
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("fleet: worker name %q is taken under %s: give each worker its own --name", w.cfg.Name, w.e)
	}
	return resp.Header.Revision, nil
}

// answerPings echoes the coordinator's pings with this host's time.
func (w *worker) answerPings(ctx context.Context, rev int64) {
	for wr := range w.c.Watch(ctx, w.k.ping(w.cfg.Name), clientv3.WithRev(rev+1)) {
		for _, ev := range wr.Events {
			var p pingMsg
			if ev.Type != clientv3.EventTypePut || json.Unmarshal(ev.Kv.Value, &p) != nil {
				continue
			}
			p.UnixNs = time.Now().UnixNano()
			put(ctx, w.c, w.k.pong(w.cfg.Name), p, w.lease)
		}
	}
}

// awaitRun returns the run once one is published and not ended.
func (w *worker) awaitRun(ctx context.Context, rev int64) (runMsg, int64, error) {
	resp, err := w.c.Get(ctx, w.k.run())
	if err != nil {
		return runMsg{}, 0, fmt.Errorf("fleet: %w", err)
	}
	var run runMsg
	if len(resp.Kvs) == 1 && json.Unmarshal(resp.Kvs[0].Value, &run) == nil && !run.Ended {
		return run, resp.Kvs[0].ModRevision, nil
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for wr := range w.c.Watch(wctx, w.k.run(), clientv3.WithRev(resp.Header.Revision+1)) {
		for _, ev := range wr.Events {
			if ev.Type == clientv3.EventTypePut && json.Unmarshal(ev.Kv.Value, &run) == nil && !run.Ended {
				return run, ev.Kv.ModRevision, nil
			}
		}
	}
	return runMsg{}, 0, cmp.Or(ctx.Err(), errors.New("fleet: watch on the run ended"))
}

// watchRun ends the run's context when the run ends or its coordinator
// or this worker's lease is lost.
func (w *worker) watchRun(ctx context.Context, stop context.CancelCauseFunc, rev int64, lost <-chan struct{}) {
	wc := w.c.Watch(ctx, w.k.run(), clientv3.WithRev(rev+1))
	for {
		select {
		case <-ctx.Done():
			return
		case <-lost:
			stop(fmt.Errorf("fleet: worker %s lost its lease: load stopped", w.cfg.Name))
			return
		case wr, ok := <-wc:
			if !ok {
				stop(cmp.Or(ctx.Err(), errors.New("fleet: watch on the run ended")))
				return
			}
			for _, ev := range wr.Events {
				var run runMsg
				switch {
				case ev.Type == clientv3.EventTypeDelete:
					stop(ErrCoordinatorLost)
					return
				case json.Unmarshal(ev.Kv.Value, &run) == nil && run.Ended:
					stop(errRunEnded)
					return
				}
			}
		}
	}
}

// cells runs this worker's share of every cell published from rev on.
func (w *worker) cells(ctx context.Context, rev int64, runID string) error {
	wc := w.c.Watch(ctx, w.k.cells(), clientv3.WithPrefix(), clientv3.WithRev(rev))
	for wr := range wc {
		for _, ev := range wr.Events {
			var m cellMsg
			if ev.Type != clientv3.EventTypePut || json.Unmarshal(ev.Kv.Value, &m) != nil || m.Run != runID {
				continue
			}
			i := slices.IndexFunc(m.Shares, func(s share) bool { return s.Worker == w.cfg.Name })
			if i < 0 {
				continue // late, or not needed for this cell
			}
			if err := w.runCell(ctx, m, m.Shares[i], ev.Kv.ModRevision); err != nil && ctx.Err() == nil {
				w.logf("cell %d: %v", m.Seq, err)
			}
		}
	}
	cause := context.Cause(ctx)
	if errors.Is(cause, errRunEnded) {
		w.logf("run ended")
		return nil
	}
	return cmp.Or(cause, errors.New("fleet: watch on the cells ended"))
}

// runCell runs one share and uploads it.
func (w *worker) runCell(ctx context.Context, m cellMsg, s share, rev int64) error {
	p := m.Params
	p.Concurrency = s.Concurrency
	if p.Load.Kind == "open" {
		p.Load.Rate = s.Rate
	}
	w.logf("cell %d: %s rep %d: concurrency %d", m.Seq, p.Key, m.Rep+1, s.Concurrency)
	rr := w.sh.Run(ctx, p, m.Rep, func(bctx context.Context) error { return w.barrier(bctx, m.Seq, rev) })
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if rr.Status == results.StatusFailed {
		w.logf("cell %d failed: %s", m.Seq, rr.Error)
	}
	return upload(ctx, w.c, w.k.up(m.Seq, w.cfg.Name), w.k.done(m.Seq)+w.cfg.Name, rr, w.lease)
}

// barrier says this worker is ready, waits for the start instant and
// sleeps until it comes by this host's clock. rev is the cell's: the
// start (or an abort) comes after it.
func (w *worker) barrier(ctx context.Context, seq int, rev int64) error {
	if _, err := w.c.Put(ctx, w.k.ready(seq)+w.cfg.Name, "", clientv3.WithLease(w.lease)); err != nil {
		return fmt.Errorf("fleet: ready: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	var st startMsg
	got := false
	for wr := range w.c.Watch(ctx, w.k.start(seq), clientv3.WithRev(rev)) {
		for _, ev := range wr.Events {
			if ev.Type == clientv3.EventTypePut && json.Unmarshal(ev.Kv.Value, &st) == nil {
				got = true
			}
		}
		if got {
			break
		}
	}
	switch {
	case !got:
		return fmt.Errorf("fleet: no start for cell %d: %w", seq, cmp.Or(context.Cause(ctx), ctx.Err()))
	case st.Abort != "":
		return fmt.Errorf("fleet: cell aborted: %s", st.Abort)
	}
	at := time.Unix(0, st.AtUnixNs+st.Offsets[w.cfg.Name])
	t := time.NewTimer(time.Until(at))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
