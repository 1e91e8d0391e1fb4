package targets

import "fmt"

// StatusError is a call that failed with the target's own status — a
// gRPC code, an HTTP status — counted in the reports under ErrorCode
// ("grpc_unavailable", "http_503").
type StatusError struct {
	Code string
	Msg  string
}

func (e *StatusError) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Msg) }

// ErrorCode is the code the load engine counts the error under.
func (e *StatusError) ErrorCode() string { return e.Code }
