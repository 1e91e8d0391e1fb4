package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"rpcbench/harness/loadmerge"
	"rpcbench/harness/results"
	"rpcbench/harness/runner"
	"rpcbench/harness/spec"
)

// lapse is a worker that failed a cell by dying or stalling.
type lapse struct {
	worker string
	at     time.Time
	reason string
}

// cellState follows one cell's keys as the watch reports them.
type cellState struct {
	shares []share
	ready  map[string]bool
	done   map[string]doneMsg
	lapses []lapse
	// lastDone is when the last upload completed.
	lastDone time.Time
}

func (s *cellState) lapsed(name string) bool {
	return slices.ContainsFunc(s.lapses, func(l lapse) bool { return l.worker == name })
}

// settled reports whether every share is past a phase: ready (or done,
// or lapsed) when ready is set, else done (or lapsed).
func (s *cellState) settled(ready bool) bool {
	for _, sh := range s.shares {
		_, done := s.done[sh.Worker]
		if !done && !s.lapsed(sh.Worker) && !(ready && s.ready[sh.Worker]) {
			return false
		}
	}
	return true
}

// stall marks every share not yet settled as stalled.
func (s *cellState) stall(ready bool, why string) {
	for _, sh := range s.shares {
		_, done := s.done[sh.Worker]
		if !done && !s.lapsed(sh.Worker) && !(ready && s.ready[sh.Worker]) {
			s.lapses = append(s.lapses, lapse{sh.Worker, time.Now(), why})
		}
	}
}

// RunRep implements runner.Fleet: publish the cell, wait until every
// worker is ready, agree on a start, collect the uploads and merge them.
func (co *Coordinator) RunRep(ctx context.Context, p spec.Cell, rep int, armed func() error) *results.Rep {
	rr := &results.Rep{Rep: rep}
	fail := func(err error) *results.Rep {
		rr.Status, rr.Error = results.StatusFailed, err.Error()
		return rr
	}
	select {
	case <-co.lost:
		return fail(fmt.Errorf("fleet: the coordinator's lease on %s was lost (etcd unreachable for %v?): the workers have stopped", co.e, co.cfg.TTL))
	default:
	}
	names, _, err := co.alive(ctx)
	if err != nil {
		return fail(err)
	}
	if len(names) == 0 {
		return fail(fmt.Errorf("fleet: no worker is alive under %s", co.e))
	}
	st := &cellState{shares: split(p, names), ready: map[string]bool{}, done: map[string]doneMsg{}}
	offsets := map[string]int64{}
	for _, sh := range st.shares {
		co.clock(ctx, sh.Worker)
		offsets[sh.Worker] = co.offset(sh.Worker)
	}
	co.seq++
	seq := co.seq
	defer co.forget(seq)
	published := time.Now()
	b, _ := json.Marshal(cellMsg{Run: co.runID, Seq: seq, Rep: rep, Params: p, Shares: st.shares})
	resp, err := co.c.Put(ctx, co.k.cell(seq), string(b), clientv3.WithLease(co.lease))
	if err != nil {
		return fail(fmt.Errorf("fleet: publish cell: %w", err))
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wc := co.c.Watch(wctx, string(co.k), clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))

	// Phase 1: every worker dials and warms up.
	if err := co.follow(wctx, wc, seq, st, true, published.Add(co.cfg.ReadyTimeout+co.cfg.Spec.Warmup.D())); err != nil {
		return fail(err)
	}
	start := startMsg{Offsets: offsets}
	var failed []string
	for _, sh := range st.shares {
		if _, ok := st.done[sh.Worker]; ok {
			failed = append(failed, sh.Worker) // failed before the barrier
		}
	}
	switch {
	case len(st.lapses) > 0:
		start.Abort = fmt.Sprintf("worker %s %s", st.lapses[0].worker, st.lapses[0].reason)
	case len(failed) > 0:
		start.Abort = "worker " + strings.Join(failed, ", ") + " could not run the cell"
	default:
		if err := armed(); err != nil {
			start.Abort = "server costs before the window: " + err.Error()
		}
	}
	if start.Abort == "" {
		start.AtUnixNs = time.Now().Add(startDelay).UnixNano()
	}
	if err := put(ctx, co.c, co.k.start(seq), start, co.lease); err != nil {
		return fail(err)
	}
	// Phase 2: the windows, then the uploads.
	window := callsWindow
	if co.cfg.Spec.Calls == 0 {
		window = co.cfg.Spec.Duration.D()
	}
	deadline := time.Now().Add(startDelay + window + co.cfg.Spec.Grace.D() + stallSlack)
	if err := co.follow(wctx, wc, seq, st, false, deadline); err != nil {
		return fail(err)
	}
	return co.collect(ctx, p, seq, st, start, published, rr)
}

// follow reads watch events into st until every share is settled (see
// cellState.settled) or deadline, when the unsettled ones count as
// stalled.
func (co *Coordinator) follow(ctx context.Context, wc clientv3.WatchChan, seq int, st *cellState, ready bool, deadline time.Time) error {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	readyKey, doneKey := co.k.ready(seq), co.k.done(seq)
	for !st.settled(ready) {
		select {
		case <-timer.C:
			what := "sent no figures by the deadline (the window, its grace and " + stallSlack.String() + ")"
			if ready {
				what = "was not ready (dialled and warmed up) by the deadline"
			}
			st.stall(ready, "stalled: "+what)
			return nil
		case wr, ok := <-wc:
			if !ok {
				return fmt.Errorf("fleet: watch on %s ended: %v", co.e, ctx.Err())
			}
			if err := wr.Err(); err != nil {
				return fmt.Errorf("fleet: watch on %s: %w", co.e, err)
			}
			for _, ev := range wr.Events {
				key := string(ev.Kv.Key)
				switch {
				case ev.Type == clientv3.EventTypeDelete && strings.HasPrefix(key, co.k.workers()):
					name := strings.TrimPrefix(key, co.k.workers())
					if slices.ContainsFunc(st.shares, func(s share) bool { return s.Worker == name }) && !st.lapsed(name) {
						if _, done := st.done[name]; !done {
							st.lapses = append(st.lapses, lapse{name, time.Now(), "lost: its lease expired (process dead or cut off from etcd)"})
						}
					}
				case ev.Type != clientv3.EventTypePut:
				case strings.HasPrefix(key, readyKey):
					st.ready[strings.TrimPrefix(key, readyKey)] = true
				case strings.HasPrefix(key, doneKey):
					var d doneMsg
					if json.Unmarshal(ev.Kv.Value, &d) == nil {
						st.done[strings.TrimPrefix(key, doneKey)] = d
						st.lastDone = time.Now()
					}
				}
			}
		}
	}
	return nil
}

// collect downloads the uploads and makes the repetition: merged when
// every share ran, degraded when a worker lapsed, failed when one failed.
func (co *Coordinator) collect(ctx context.Context, p spec.Cell, seq int, st *cellState, start startMsg, published time.Time, rr *results.Rep) *results.Rep {
	reps := map[string]*results.Rep{}
	var failures []string
	for _, sh := range st.shares {
		d, ok := st.done[sh.Worker]
		if !ok {
			continue
		}
		var wr results.Rep
		if err := download(ctx, co.c, co.k.up(seq, sh.Worker), d, &wr); err != nil {
			failures = append(failures, fmt.Sprintf("worker %s: %v", sh.Worker, err))
			continue
		}
		reps[sh.Worker] = &wr
		if wr.Figures == nil || wr.Status == results.StatusFailed {
			failures = append(failures, fmt.Sprintf("worker %s: %s", sh.Worker, wr.Error))
		}
	}
	f := &results.FleetRep{StartAtUnixNs: start.AtUnixNs}
	if !st.lastDone.IsZero() {
		f.CoordinationNs = int64(st.lastDone.Sub(published))
	}
	var figs []*results.Figures
	var first, last int64
	for _, sh := range st.shares {
		s := results.Share{Worker: sh.Worker, Concurrency: sh.Concurrency, Rate: sh.Rate}
		if r := reps[sh.Worker]; r != nil && r.Figures != nil {
			figs = append(figs, r.Figures)
			began := r.Figures.StartedUnixNs - start.Offsets[sh.Worker]
			s.StartOffsetNs = began - start.AtUnixNs
			if first == 0 || began < first {
				first = began
			}
			last = max(last, began)
		}
		f.Shares = append(f.Shares, s)
	}
	f.StartSpreadNs = last - first
	rr.Fleet = f
	if len(st.lapses) > 0 {
		l := st.lapses[0]
		d := &results.Degraded{Worker: l.worker, At: l.at, Reason: l.reason, Partial: map[string]*results.Figures{}}
		for name, r := range reps {
			if r.Figures != nil {
				d.Partial[name] = r.Figures
			}
		}
		when := "before the start was set"
		if start.AtUnixNs != 0 {
			when = fmt.Sprintf("%.1fs after the start", time.Duration(l.at.UnixNano()-start.AtUnixNs).Seconds())
			if l.at.UnixNano() < start.AtUnixNs {
				when = "before the start"
			}
		}
		rr.Status, rr.Degraded = results.StatusDegraded, d
		rr.Error = fmt.Sprintf("degraded: worker %s %s at %s (%s); the other workers' figures are kept apart, not merged",
			l.worker, l.reason, l.at.UTC().Format("15:04:05.000"), when)
		co.logf("%s rep %d: %s", p.Key, rep1(rr), rr.Error)
		return rr
	}
	if len(failures) > 0 || start.Abort != "" {
		if len(failures) == 0 {
			failures = append(failures, start.Abort)
		}
		rr.Status, rr.Error = results.StatusFailed, strings.Join(failures, "; ")
		return rr
	}
	merged, err := loadmerge.Sum(figs)
	if err != nil {
		rr.Status, rr.Error = results.StatusFailed, err.Error()
		return rr
	}
	rr.Figures, rr.Status = merged, runner.StatusOf(merged)
	return rr
}

func rep1(rr *results.Rep) int { return rr.Rep + 1 }

// forget deletes a finished cell's keys.
func (co *Coordinator) forget(seq int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, k := range []string{co.k.ready(seq), co.k.done(seq), co.k.upAll(seq)} {
		co.c.Delete(ctx, k, clientv3.WithPrefix())
	}
	co.c.Delete(ctx, co.k.start(seq))
	co.c.Delete(ctx, co.k.cell(seq))
}
