package cluster

import (
	"context"
	"reflect"
	"slices"
	"time"

	"rpcbench"
)

// Call invokes method on one of the service's instances and decodes the
// reply into resp, retrying, failing over and hedging as the options and
// the method's idempotency allow. It returns nil, the server's own error
// for a call that was not retried, or a *CallError.
func (c *Client) Call(ctx context.Context, method string, req, resp any, opts ...CallOption) error {
	var co callOptions
	if len(opts) > 0 {
		co = applyOptions(opts)
	}
	if co.hedge == 0 {
		co.hedge = c.opts.Hedge.Delay
	}
	idem := co.idempotent || c.idem[method]
	c.calls.Add(1)
	c.budget.deposit()
	var err error
	if idem && co.hedge > 0 && c.opts.Retry.MaxAttempts > 1 && hedgeable(resp) {
		err = c.hedged(ctx, method, req, resp, co.key, co.hedge)
	} else {
		err = c.sequential(ctx, method, req, resp, co.key, idem)
	}
	if err != nil {
		c.failed.Add(1)
	}
	return err
}

// applyOptions is apart from Call so that calls without options do not
// allocate their options.
func applyOptions(opts []CallOption) callOptions {
	co := new(callOptions)
	for _, o := range opts {
		o(co)
	}
	return *co
}

// retryable reports whether another attempt may follow err, and if not,
// why not.
func (c *Client) retryable(ctx context.Context, err error, idem bool) (bool, string) {
	switch {
	case c.closed.Load():
		return false, reasonClosed
	case ctx.Err() != nil:
		return false, reasonCallerGaveUp
	case neverSent(err):
		return true, ""
	case !slices.Contains(c.opts.Retry.RetryOn, rpcbench.CodeOf(err)):
		return false, reasonNotRetryable
	case !idem:
		return false, reasonNotIdempotent
	}
	return true, ""
}

// sleep waits d unless ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sequential makes one attempt at a time. A retry goes at once to an
// instance this call has not tried; when every usable instance has been
// tried, the call backs off and starts a new round over all of them.
func (c *Client) sequential(ctx context.Context, method string, req, resp any, key string, idem bool) error {
	if c.closed.Load() {
		return &CallError{Method: method, Reason: reasonClosed, Err: errClosed}
	}
	var (
		tried  []*endpoint
		last   error
		lastAt string
		round  int
	)
	stop := func(attempts int, reason string, err error) error {
		if attempts == 1 && reason == reasonNotRetryable {
			return err // the server's answer, as it gave it
		}
		return &CallError{Method: method, Attempts: attempts, Instance: lastAt, Reason: reason, Err: err}
	}
	for n := 1; ; n++ {
		e, probe := c.pick(key, tried)
		if e == nil && len(tried) > 0 {
			round++
			if err := sleep(ctx, c.backoff(round)); err != nil {
				return stop(n-1, reasonCallerGaveUp+" during backoff", last)
			}
			tried = tried[:0]
			e, probe = c.pick(key, nil)
		}
		if e == nil {
			if n > 1 {
				c.budget.refund()
				return stop(n-1, reasonNoInstance, last)
			}
			return &CallError{Method: method, Reason: reasonNoInstance, Err: c.noInstance()}
		}
		if n > 1 {
			c.retries.Add(1)
		}
		err := c.attempt(ctx, e, probe, method, req, resp)
		if err == nil {
			return nil
		}
		last, lastAt = err, e.inst.ID
		if ok, reason := c.retryable(ctx, err, idem); !ok {
			return stop(n, reason, err)
		}
		if n >= c.opts.Retry.MaxAttempts {
			return stop(n, reasonExhausted, err)
		}
		if !c.budget.withdraw() {
			return stop(n, reasonBudget, err)
		}
		tried = append(tried, e)
	}
}

// hedgeable: hedged attempts decode into copies of *resp, so resp must be
// a non-nil pointer (or nil, for no reply).
func hedgeable(resp any) bool {
	if resp == nil {
		return true
	}
	v := reflect.ValueOf(resp)
	return v.Kind() == reflect.Pointer && !v.IsNil()
}

type hedgeResult struct {
	n   int // attempt number, from 0
	e   *endpoint
	err error
}

// hedged runs attempts concurrently: a new one whenever delay passes
// without a reply (to an instance not tried yet), or at once when one
// fails with a retryable error. The first success wins and the others are
// cancelled. Attempt 0 decodes into resp, the others into fresh values; a
// later attempt's reply is copied into resp once every attempt has
// returned, so nothing writes resp concurrently.
func (c *Client) hedged(ctx context.Context, method string, req, resp any, key string, delay time.Duration) error {
	if c.closed.Load() {
		return &CallError{Method: method, Reason: reasonClosed, Err: errClosed}
	}
	maxAttempts := c.opts.Retry.MaxAttempts
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan hedgeResult, maxAttempts)
	var (
		targets  []any
		tried    []*endpoint
		inflight int
	)
	launch := func(e *endpoint, probe bool) {
		n := len(targets)
		target := resp
		if n > 0 && resp != nil {
			target = reflect.New(reflect.TypeOf(resp).Elem()).Interface()
		}
		targets = append(targets, target)
		tried = append(tried, e)
		inflight++
		go func() { results <- hedgeResult{n, e, c.attempt(hctx, e, probe, method, req, target)} }()
	}
	e, probe := c.pick(key, nil)
	if e == nil {
		return &CallError{Method: method, Reason: reasonNoInstance, Err: c.noInstance()}
	}
	launch(e, probe)
	timer := time.NewTimer(delay)
	defer timer.Stop()

	winner, round := -1, 0
	var last hedgeResult
	var reason string
loop:
	for {
		select {
		case r := <-results:
			inflight--
			if r.err == nil {
				winner = r.n
				break loop
			}
			last = r
			ok, why := c.retryable(ctx, r.err, true)
			if !ok {
				reason = why
				break loop
			}
			if len(targets) >= maxAttempts {
				if inflight == 0 {
					reason = reasonExhausted
					break loop
				}
				continue
			}
			if !c.budget.withdraw() {
				if inflight == 0 {
					reason = reasonBudget
					break loop
				}
				continue
			}
			e, probe := c.pick(key, tried)
			if e == nil && inflight == 0 {
				round++
				if err := sleep(ctx, c.backoff(round)); err != nil {
					c.budget.refund()
					reason = reasonCallerGaveUp + " during backoff"
					break loop
				}
				tried = tried[:0]
				e, probe = c.pick(key, nil)
			}
			if e == nil {
				c.budget.refund()
				if inflight == 0 {
					reason = reasonNoInstance
					break loop
				}
				continue
			}
			c.retries.Add(1)
			launch(e, probe)
		case <-timer.C:
			if len(targets) >= maxAttempts {
				continue
			}
			timer.Reset(delay)
			if !c.budget.withdraw() {
				continue
			}
			e, probe := c.pick(key, tried)
			if e == nil {
				c.budget.refund() // no other instance to hedge to
				continue
			}
			c.hedges.Add(1)
			launch(e, probe)
		case <-ctx.Done():
			reason = reasonCallerGaveUp
			last.err = rpcbench.Errorf(rpcbench.CodeOf(ctx.Err()), "%s: %v", method, ctx.Err())
			break loop
		}
	}
	cancel()
	for ; inflight > 0; inflight-- {
		if r := <-results; winner < 0 && r.err == nil {
			winner = r.n // finished before it saw the cancellation
		}
	}
	if winner >= 0 {
		if winner > 0 && resp != nil {
			reflect.ValueOf(resp).Elem().Set(reflect.ValueOf(targets[winner]).Elem())
		}
		return nil
	}
	if len(targets) == 1 && reason == reasonNotRetryable {
		return last.err
	}
	at := ""
	if last.e != nil {
		at = last.e.inst.ID
	}
	return &CallError{Method: method, Attempts: len(targets), Instance: at, Reason: reason, Err: last.err}
}
