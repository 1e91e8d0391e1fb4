package rpcbench

import (
	"context"
	"errors"
	"fmt"
)

// Code classifies an RPC failure. Codes travel on the wire as 16 bits.
type Code uint16

// Error codes. Values are part of the wire format and never change.
const (
	CodeUnknown           Code = 0
	CodeUnknownMethod     Code = 1
	CodeBadRequest        Code = 2
	CodeDeadlineExceeded  Code = 3
	CodeCanceled          Code = 4
	CodeInternal          Code = 5
	CodeUnavailable       Code = 6
	CodeResourceExhausted Code = 7
	// CodeApplication is an error returned by a handler.
	CodeApplication Code = 8
)

var codeNames = map[Code]string{
	CodeUnknown:           "unknown",
	CodeUnknownMethod:     "unknown method",
	CodeBadRequest:        "bad request",
	CodeDeadlineExceeded:  "deadline exceeded",
	CodeCanceled:          "canceled",
	CodeInternal:          "internal",
	CodeUnavailable:       "unavailable",
	CodeResourceExhausted: "resource exhausted",
	CodeApplication:       "application error",
}

func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("code(%d)", uint16(c))
}

// Slug is the code's short name for reports and JSON ("deadline_exceeded").
func (c Code) Slug() string {
	b := []byte(c.String())
	for i, ch := range b {
		if ch == ' ' || ch == '(' || ch == ')' {
			b[i] = '_'
		}
	}
	return string(b)
}

// Error is an RPC failure with a code. Remote errors arrive with the
// server's message intact.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "rpcbench: " + e.Code.String()
	}
	return "rpcbench: " + e.Code.String() + ": " + e.Message
}

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, rpcbench.ErrUnavailable) works. Deadline and cancellation
// codes also match their context package counterparts.
func (e *Error) Is(target error) bool {
	switch target {
	case context.DeadlineExceeded:
		return e.Code == CodeDeadlineExceeded
	case context.Canceled:
		return e.Code == CodeCanceled
	}
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// Sentinels for errors.Is; they match any *Error with their code.
var (
	ErrUnknownMethod     = &Error{Code: CodeUnknownMethod}
	ErrBadRequest        = &Error{Code: CodeBadRequest}
	ErrDeadlineExceeded  = &Error{Code: CodeDeadlineExceeded}
	ErrCanceled          = &Error{Code: CodeCanceled}
	ErrInternal          = &Error{Code: CodeInternal}
	ErrUnavailable       = &Error{Code: CodeUnavailable}
	ErrResourceExhausted = &Error{Code: CodeResourceExhausted}
	ErrApplication       = &Error{Code: CodeApplication}
)

// Errorf builds an *Error; handlers may return one to choose the code the
// caller sees.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of err: its *Error code, the context codes, or
// CodeUnknown.
func CodeOf(err error) Code {
	if err == nil {
		return CodeUnknown
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return CodeDeadlineExceeded
	case errors.Is(err, context.Canceled):
		return CodeCanceled
	}
	return CodeUnknown
}

// toError converts any handler or local error to an *Error.
func toError(err error, fallback Code) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: CodeDeadlineExceeded, Message: err.Error()}
	case errors.Is(err, context.Canceled):
		return &Error{Code: CodeCanceled, Message: err.Error()}
	}
	return &Error{Code: fallback, Message: err.Error()}
}
