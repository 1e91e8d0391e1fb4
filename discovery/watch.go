package discovery

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// Update is one step of a Watch: the service's complete set of instances
// and what changed since the previous Update of the same watch.
type Update struct {
	// Instances is the complete set, sorted by ID.
	Instances []Instance
	// Joined are the instances that are new, or whose fields changed,
	// since the previous Update (in the first Update: all of them).
	Joined []Instance
	// Left are the instances gone since the previous Update.
	Left []Instance
}

// Feed delivers a backend's successive snapshots of one service as the
// Updates of a Watch channel. Publish never blocks: snapshots the receiver
// has not taken yet are replaced by newer ones, and the Update it finally
// gets is computed against what it was last given.
type Feed struct {
	out    chan Update
	wake   chan struct{}
	closed chan struct{}
	once   sync.Once

	mu     sync.Mutex
	latest []Instance
	fresh  bool // latest was not delivered yet
}

// NewFeed starts a feed that ends when ctx ends or Close is called; then
// its channel is closed. onEnd, if not nil, runs once at that point (to
// unsubscribe from the backend).
func NewFeed(ctx context.Context, onEnd func()) *Feed {
	f := &Feed{out: make(chan Update), wake: make(chan struct{}, 1), closed: make(chan struct{})}
	go f.run(ctx, onEnd)
	return f
}

// C is the Watch channel.
func (f *Feed) C() <-chan Update { return f.out }

// Publish hands the feed the service's current instances. The feed keeps
// its own sorted copy.
func (f *Feed) Publish(insts []Instance) {
	cp := slices.Clone(insts)
	SortInstances(cp)
	f.mu.Lock()
	f.latest, f.fresh = cp, true
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Close ends the feed; the channel closes soon after.
func (f *Feed) Close() { f.once.Do(func() { close(f.closed) }) }

func (f *Feed) run(ctx context.Context, onEnd func()) {
	defer func() {
		f.Close()
		if onEnd != nil {
			onEnd()
		}
		close(f.out)
	}()
	var given []Instance
	first := true
	for {
		select {
		case <-f.wake:
		case <-ctx.Done():
			return
		case <-f.closed:
			return
		}
		f.mu.Lock()
		cur, fresh := f.latest, f.fresh
		f.fresh = false
		f.mu.Unlock()
		if !fresh {
			continue
		}
		u := Diff(given, cur)
		if !first && len(u.Joined) == 0 && len(u.Left) == 0 {
			continue
		}
		select {
		case f.out <- u:
			given, first = cur, false
		case <-ctx.Done():
			return
		case <-f.closed:
			return
		case <-f.wake:
			// A newer snapshot arrived while the receiver was busy: go
			// around and diff against it instead.
			f.mu.Lock()
			if !f.fresh {
				f.latest, f.fresh = cur, true
			}
			f.mu.Unlock()
			select {
			case f.wake <- struct{}{}:
			default:
			}
		}
	}
}

// Diff computes the Update that takes a receiver from old to cur; both
// must be sorted by ID (SortInstances).
func Diff(old, cur []Instance) Update {
	u := Update{Instances: slices.Clone(cur)}
	if u.Instances == nil {
		u.Instances = []Instance{}
	}
	i, j := 0, 0
	for i < len(old) || j < len(cur) {
		switch {
		case j == len(cur) || (i < len(old) && old[i].ID < cur[j].ID):
			u.Left = append(u.Left, old[i])
			i++
		case i == len(old) || cur[j].ID < old[i].ID:
			u.Joined = append(u.Joined, cur[j])
			j++
		default:
			if !old[i].Equal(cur[j]) {
				u.Joined = append(u.Joined, cur[j])
			}
			i++
			j++
		}
	}
	return u
}

// SortInstances sorts by ID, the order every backend reports.
func SortInstances(insts []Instance) {
	slices.SortFunc(insts, func(a, b Instance) int { return strings.Compare(a.ID, b.ID) })
}
