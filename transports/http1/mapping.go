package http1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/valyala/fasthttp"

	"rpcbench"
	"rpcbench/codecs"
)

// Header names of the protocol (see the package doc).
const (
	hdrTimeout = "Rpcbench-Timeout"
	hdrCall    = "Rpcbench-Call"
)

// StatusCanceled is the status of a call its caller cancelled; it is not a
// registered HTTP status (nginx and grpc-gateway use it the same way).
const StatusCanceled = 499

// Content types of the codecs with a registered or customary media type.
var codecTypes = map[string]string{
	"json":    "application/json",
	"proto":   "application/x-protobuf",
	"msgpack": "application/msgpack",
	"cbor":    "application/cbor",
	"xml":     "application/xml",
	"raw":     "application/octet-stream",
	// Registered with IANA by the Thrift project.
	"thrift-binary":  "application/vnd.apache.thrift.binary",
	"thrift-compact": "application/vnd.apache.thrift.compact",
}

// customTypePrefix names the media type of every other codec.
const customTypePrefix = "application/x-rpcbench-"

// codecByType maps a lower-case media type to a codec name: codecTypes
// reversed, plus aliases other clients send.
var codecByType = func() map[string]string {
	m := map[string]string{
		"application/protobuf":    "proto",
		"application/x-msgpack":   "msgpack",
		"application/vnd.msgpack": "msgpack",
		"text/xml":                "xml",
		"application/x-thrift":    "thrift-binary", // Thrift's own HTTP clients
	}
	for name, ct := range codecTypes {
		m[ct] = name
	}
	return m
}()

// ContentType returns the media type that carries codecName's bytes.
func ContentType(codecName string) string {
	if ct, ok := codecTypes[codecName]; ok {
		return ct
	}
	return customTypePrefix + codecName
}

// typeByID caches ContentType by codec wire ID for the hot path.
var typeByID [256]atomic.Pointer[[]byte]

func contentTypeOf(id uint8) []byte {
	if p := typeByID[id].Load(); p != nil {
		return *p
	}
	c := codecs.ByID(id)
	if c == nil {
		return []byte("application/octet-stream")
	}
	ct := []byte(ContentType(c.Name()))
	typeByID[id].Store(&ct)
	return ct
}

// codecOf returns the codec a request's Content-Type names. Parameters
// ("; charset=utf-8") and case are ignored.
func codecOf(ct []byte) (codecs.Codec, bool) {
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = bytes.TrimSpace(ct)
	var lower [96]byte
	if len(ct) == 0 || len(ct) > len(lower) {
		return nil, false
	}
	for i, b := range ct {
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		lower[i] = b
	}
	mt := lower[:len(ct)]
	name, ok := codecByType[string(mt)]
	if !ok {
		rest, custom := bytes.CutPrefix(mt, []byte(customTypePrefix))
		if !custom || len(rest) == 0 {
			return nil, false
		}
		name = string(rest)
	}
	c, err := codecs.ByName(name)
	if err != nil {
		return nil, false
	}
	return c, true
}

// supportedTypes lists the accepted content types for error messages.
func supportedTypes() string {
	var ts []string
	for _, name := range codecs.Names() {
		ts = append(ts, ContentType(name))
	}
	return strings.Join(ts, ", ")
}

// compressionOf returns the compression ID a Content-Encoding names
// (0 for none or identity).
func compressionOf(ce []byte) (uint8, bool) {
	ce = bytes.TrimSpace(ce)
	if len(ce) == 0 || string(ce) == "identity" {
		return 0, true
	}
	c, err := codecs.CompressorByName(strings.ToLower(string(ce)))
	if err != nil || c == nil {
		return 0, false
	}
	return c.ID(), true
}

// encodingOf is the Content-Encoding of a compression ID.
func encodingOf(id uint8) string {
	if c := codecs.CompressorByID(id); c != nil {
		return c.Name()
	}
	return ""
}

// StatusOf is the HTTP status that carries an error code (see the table in
// the package doc). Bodies over MaxPayload get 413, which is not derived
// from a code.
func StatusOf(code rpcbench.Code) int {
	switch code {
	case rpcbench.CodeUnknownMethod:
		return http.StatusNotFound
	case rpcbench.CodeBadRequest:
		return http.StatusBadRequest
	case rpcbench.CodeDeadlineExceeded:
		return http.StatusGatewayTimeout
	case rpcbench.CodeCanceled:
		return StatusCanceled
	case rpcbench.CodeUnavailable:
		return http.StatusServiceUnavailable
	case rpcbench.CodeResourceExhausted:
		return http.StatusTooManyRequests
	case rpcbench.CodeApplication:
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError // internal, unknown, and codes added later
}

// CodeOfStatus is the error code a status stands for when a reply carries
// no rpcbench JSON body (a proxy's error page, fasthttp's own replies).
func CodeOfStatus(status int) rpcbench.Code {
	switch status {
	case http.StatusNotFound:
		return rpcbench.CodeUnknownMethod
	case http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusUnsupportedMediaType,
		http.StatusRequestHeaderFieldsTooLarge, http.StatusRequestURITooLong:
		return rpcbench.CodeBadRequest
	case http.StatusGatewayTimeout, http.StatusRequestTimeout:
		return rpcbench.CodeDeadlineExceeded
	case StatusCanceled:
		return rpcbench.CodeCanceled
	case http.StatusServiceUnavailable, http.StatusBadGateway:
		return rpcbench.CodeUnavailable
	case http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return rpcbench.CodeResourceExhausted
	case http.StatusUnprocessableEntity:
		return rpcbench.CodeApplication
	case http.StatusInternalServerError:
		return rpcbench.CodeInternal
	}
	return rpcbench.CodeUnknown
}

// codeBySlug reverses rpcbench.Code.Slug for every named code.
var codeBySlug = func() map[string]rpcbench.Code {
	m := map[string]rpcbench.Code{}
	for c := rpcbench.Code(0); c < 256; c++ {
		if !strings.HasPrefix(c.String(), "code(") {
			m[c.Slug()] = c
		}
	}
	return m
}()

// errorBody is the JSON of a failed call.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError makes resp a JSON error reply.
func writeError(resp *fasthttp.Response, status int, code rpcbench.Code, msg string) {
	b, err := json.Marshal(errorBody{Code: code.Slug(), Message: msg})
	if err != nil { // cannot happen for two strings; keep the reply valid anyway
		b = []byte(`{"code":"internal","message":"http1: encoding an error reply failed"}`)
	}
	resp.Reset()
	resp.SetStatusCode(status)
	resp.Header.SetContentType("application/json")
	resp.SetBody(append(b, '\n'))
	if code == rpcbench.CodeUnavailable {
		// The server is going away: do not let the client reuse this
		// connection.
		resp.SetConnectionClose()
	}
}

// parseError turns a non-200 reply into a code and message.
func parseError(status int, contentType, body []byte) (rpcbench.Code, string) {
	if bytes.HasPrefix(contentType, []byte("application/json")) {
		var e errorBody
		if json.Unmarshal(body, &e) == nil && e.Code != "" {
			code, ok := codeBySlug[e.Code]
			if !ok {
				code = CodeOfStatus(status)
			}
			return code, e.Message
		}
	}
	const max = 200
	if len(body) > max {
		body = body[:max]
	}
	msg := fmt.Sprintf("http1: HTTP %d %s", status, http.StatusText(status))
	if t := strings.TrimSpace(string(body)); t != "" {
		msg += ": " + t
	}
	return CodeOfStatus(status), msg
}
