package cluster

import (
	"errors"
	"fmt"
	"strings"

	"rpcbench"
)

// CallError is a call that failed after the client's fault tolerance had
// its say: the last error and why no further attempt was made. It unwraps
// to the last attempt's *rpcbench.Error, so rpcbench.CodeOf and errors.Is
// (rpcbench.ErrUnavailable, context.DeadlineExceeded, ...) see its code.
type CallError struct {
	Method string
	// Attempts made (0: no instance could be tried).
	Attempts int
	// Instance is the ID of the last instance tried.
	Instance string
	// Reason says why the client stopped, e.g. "attempts exhausted".
	Reason string
	// Err is the last attempt's error, or the cause when there was none.
	Err error
}

func (e *CallError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cluster: %s: %s", e.Method, e.Reason)
	switch {
	case e.Attempts == 1:
		fmt.Fprintf(&b, " (1 attempt, at %s)", e.Instance)
	case e.Attempts > 1:
		fmt.Fprintf(&b, " (%d attempts, the last at %s)", e.Attempts, e.Instance)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *CallError) Unwrap() error { return e.Err }

// Reasons a call stopped.
const (
	reasonNotRetryable  = "error not retryable"
	reasonNotIdempotent = "not retried, as it may have reached the server and the method is not declared idempotent"
	reasonExhausted     = "attempts exhausted"
	reasonBudget        = "retry budget exhausted"
	reasonNoInstance    = "no instance available"
	reasonCallerGaveUp  = "caller's context ended"
	reasonClosed        = "client closed"
)

var errClosed = &rpcbench.Error{Code: rpcbench.CodeUnavailable, Message: "cluster: client is closed"}

// errEndpointGone: the instance left between pick and send; nothing was
// sent.
var errEndpointGone = &rpcbench.Error{Code: rpcbench.CodeUnavailable, Message: "cluster: instance left the registry"}

// neverSent reports whether err shows that the request reached no server,
// which makes any call safe to send elsewhere. It knows the root package's
// messages for a failed dial and for a server that is shutting down (which
// answers before running the handler).
func neverSent(err error) bool {
	if errors.Is(err, errEndpointGone) {
		return true
	}
	var e *rpcbench.Error
	if !errors.As(err, &e) || e.Code != rpcbench.CodeUnavailable {
		return false
	}
	return strings.HasPrefix(e.Message, "dial ") || e.Message == "server is shutting down"
}

// healthOf classifies an attempt's result for the breaker.
func healthOf(err error) outcome {
	if err == nil {
		return success
	}
	if errors.Is(err, errEndpointGone) {
		return neutral
	}
	switch rpcbench.CodeOf(err) {
	case rpcbench.CodeUnavailable, rpcbench.CodeResourceExhausted:
		return failure
	}
	return neutral
}
