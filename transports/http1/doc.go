// Package http1 is rpcbench's HTTP/1.1 keep-alive transport, built on
// github.com/valyala/fasthttp. Each call is one HTTP exchange, so any HTTP
// client can call an rpcbench server:
//
//	curl -s -H 'Content-Type: application/json' -d '{"a":1,"b":2}' \
//	    http://127.0.0.1:8080/rpc/Arith.Add
//	{"sum":3}
//
// # Requests
//
//	POST /rpc/{Service.Method}     a call; the body is the codec's bytes
//	POST /rpc/_cancel              cancels the call named by Rpcbench-Call (204)
//	GET  /rpc/_ping                heartbeat, answered by the server core (204)
//
// Headers of a call:
//
//	Content-Type       the codec (table below); required, anything else is 415
//	Content-Encoding   optional compression: the compressor's name (gzip, zstd, lz4, s2)
//	Rpcbench-Timeout   optional: the caller's remaining budget in microseconds
//	                   (decimal, 1..4294967295); the handler's context ends then
//	Rpcbench-Call      optional: "<client>.<request>", two hex numbers that name
//	                   the call for POST /rpc/_cancel; rpcbench clients send it
//
// Content types by codec:
//
//	json       application/json
//	proto      application/x-protobuf (also accepted: application/protobuf)
//	msgpack    application/msgpack (also: application/x-msgpack, application/vnd.msgpack)
//	cbor       application/cbor
//	xml        application/xml (also: text/xml)
//	raw        application/octet-stream
//	any other  application/x-rpcbench-{codec name}, e.g. application/x-rpcbench-vtproto
//
// # Replies
//
// A successful call answers 200 with the reply in the request's content type
// (and Content-Encoding when the reply is compressed). A failed call answers
// with a JSON body carrying the same code and message the other transports
// deliver, {"code":"unknown_method","message":"..."}, and this status:
//
//	code                 status
//	unknown_method       404
//	bad_request          400 (415 for an unknown Content-Type or Content-Encoding,
//	                          405 for a method other than POST, 404 outside /rpc/)
//	deadline_exceeded    504 (408 when the request itself arrived too slowly)
//	canceled             499 (the caller cancelled through /rpc/_cancel)
//	internal             500 (a handler panic, for instance)
//	unavailable          503 (the server is shutting down; the connection closes)
//	resource_exhausted   413 for a request body over MaxPayload, 429 otherwise
//	application_error    422 (the handler returned an error)
//	unknown              500
//
// The client maps status and body back to an error frame, so callers see the
// same *rpcbench.Error as over TCP. A reply that is not rpcbench JSON (a
// proxy's 502 page, say) is mapped by status alone.
//
// # Connections
//
// The server serves each accepted connection with fasthttp's ServeConn on a
// goroutine of its own; a connection is one server-core session. HTTP/1.1
// carries one exchange at a time per connection, so the client keeps a pool
// of keep-alive connections (Options.MaxConns) and queues calls for a free
// one when all are busy, for at most Options.MaxConnWait or the call's
// deadline, whichever comes first. Pings and cancels travel on one extra
// connection of their own, so they are not stuck behind busy calls.
//
// The client uses fasthttp's HTTP/1.1 codec (Request.Write,
// Response.ReadLimitBody) over its own pool rather than fasthttp.HostClient:
// HostClient's idle-connection cleaner sleeps MaxIdleConnDuration between
// checks and cannot be stopped, so every closed client would leave a
// goroutine behind for that long. The pool here closes everything at Close.
//
// Cancellation: an rpcbench client cancels a call with POST /rpc/_cancel,
// which ends the handler's context; the call then answers 499. A plain HTTP
// client that hangs up does not cancel its call (the server reads nothing
// while a call runs): give it a budget with Rpcbench-Timeout. A cancel that
// overtakes its own call on the way to the server is lost; the budget still
// applies.
//
// Fast paths: the core's Send/Recv contract costs a call two goroutine
// hand-offs on each side, which HTTP/1.1, one call per connection at a time,
// does not need. The client connection implements rpcbench.Exchanger (the
// call on the caller's goroutine; requests go only this way, since the path
// needs the method name, which frames do not carry), and the server uses
// rpcbench.InlineSession (the handler on the connection's goroutine) when
// the session implements it, and Frame otherwise.
package http1
