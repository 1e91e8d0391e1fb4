package resilience

import (
	"context"
	"sort"
	"sync"
	"time"

	"rpcbench/harness/results"
	"rpcbench/harness/spec"
)

// schedule applies a scenario's faults to its fleet on the timeline. A
// slow fault with an end is two events: the delay on, and off.
type schedule struct {
	faults []spec.Fault
	f      *fleet
	events []event

	mu      sync.Mutex
	applied []time.Duration // per fault, -1 until applied
	errs    []string
	cancel  context.CancelFunc
	done    chan struct{}
}

type event struct {
	at    time.Duration
	fault int
	undo  bool
}

func newSchedule(faults []spec.Fault, f *fleet) *schedule {
	s := &schedule{faults: faults, f: f, applied: make([]time.Duration, len(faults)), errs: make([]string, len(faults))}
	for i, ft := range faults {
		s.applied[i] = -1
		s.events = append(s.events, event{ft.At.D(), i, false})
		if ft.Action == spec.FaultSlow && ft.Until > 0 {
			s.events = append(s.events, event{ft.Until.D(), i, true})
		}
	}
	sort.SliceStable(s.events, func(i, j int) bool { return s.events[i].at < s.events[j].at })
	return s
}

// start runs the schedule from now, the timeline's zero, until its last
// event or until wait.
func (s *schedule) start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	s.done = make(chan struct{})
	base := time.Now()
	go func() {
		defer close(s.done)
		for _, ev := range s.events {
			t := time.NewTimer(time.Until(base.Add(ev.at)))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			// A fault takes effect when applied: a restarted instance is
			// back once it has announced itself.
			err := s.f.apply(s.faults[ev.fault], ev.undo)
			at := time.Since(base)
			s.mu.Lock()
			if !ev.undo {
				s.applied[ev.fault] = at
			}
			if err != nil {
				s.errs[ev.fault] = err.Error()
			}
			s.mu.Unlock()
		}
	}()
}

// wait stops events not yet due (the load has ended) and waits for the
// one in progress.
func (s *schedule) wait() {
	if s.done == nil {
		return
	}
	s.cancel()
	<-s.done
}

// outcomes reports each fault as applied, with the time until the
// timeline was error-free again for settle buckets after it.
func (s *schedule) outcomes(fails []int64, bucket time.Duration, settle int) []results.FaultOutcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]results.FaultOutcome, len(s.faults))
	for i, ft := range s.faults {
		o := results.FaultOutcome{Fault: ft, AppliedNs: int64(s.applied[i]), Error: s.errs[i], ErrorFreeAfterNs: -1}
		if s.applied[i] >= 0 {
			o.ErrorFreeAfterNs = int64(errorFreeAfter(fails, bucket, s.applied[i], settle))
		}
		out[i] = o
	}
	return out
}
