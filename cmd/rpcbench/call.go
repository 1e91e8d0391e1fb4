package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"rpcbench"
	"rpcbench/codecs"
	"rpcbench/discovery/memreg"
	"rpcbench/discovery/regserver"
	"rpcbench/services"
	"rpcbench/services/admin"
)

func callCmd(args []string) error {
	fs := newFlagSet("call", "[flags] Service.Method [JSON request]\n\n"+
		"The request is JSON whatever the codec: call converts it to the method's\n"+
		"request type (rpcbench call Admin.Describe lists them), encodes it with\n"+
		"--codec, and prints the reply as JSON.")
	var tf transportFlags
	tf.register(fs, false, tlsClient)
	addr := fs.String("addr", "127.0.0.1:7000", "server address")
	timeout := fs.Duration("timeout", 5*time.Second, "call deadline")
	codec := fs.String("codec", "json", "codec for the request and reply: "+strings.Join(codecs.Names(), ", "))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return usageError("call: want Service.Method and an optional JSON request, got %d arguments", fs.NArg())
	}
	method, body := fs.Arg(0), "{}"
	if fs.NArg() == 2 {
		body = fs.Arg(1)
	}
	c, err := codecs.ByName(*codec)
	if err != nil {
		return usageError("call: %v", err)
	}
	req, resp, err := callMessages(method, body, c)
	var unknown errUnknownTypes
	if err != nil && !errors.As(err, &unknown) {
		return err
	}
	t, err := tf.build(tf.name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if unknown.method != "" {
		// A method of another program: its types from the server's
		// description of its methods.
		if req, resp, err = describedMessages(ctx, t, *addr, method, body); err != nil {
			return err
		}
	}
	// Encode once here so that a request this client cannot encode is
	// reported as the client's failure, not as the server's refusal.
	if _, err := c.Marshal(nil, req); err != nil {
		return clientSide("encoding the request in %s: %v (codecs that can carry %s: %s)", c.Name(), err, method, strings.Join(carriers(req), ", "))
	}
	cl, err := rpcbench.Dial(ctx, t, *addr, rpcbench.ClientOptions{Codec: c.Name(), HeartbeatInterval: -1})
	if err != nil {
		return callError(err, c.Name())
	}
	defer cl.Close()
	if err := cl.Call(ctx, method, req, resp); err != nil {
		return callError(err, c.Name())
	}
	out, err := replyJSON(resp)
	if err != nil {
		return clientSide("printing the reply as JSON: %v", err)
	}
	fmt.Println(string(out))
	return nil
}

// callMessages builds the request from its JSON text and a value for the
// reply. A method this binary registers gets its own request and reply
// types, so any codec can carry them; another method can be called with
// json only, its request and reply passed through as JSON text.
func callMessages(method, body string, c codecs.Codec) (req, resp any, err error) {
	if !json.Valid([]byte(body)) {
		var v any
		err := json.Unmarshal([]byte(body), &v)
		return nil, nil, usageError("call: the request is not valid JSON: %v", err)
	}
	m, known := knownMethods()[method]
	switch {
	case known && m.Request == nil: // a raw method: the request's bytes as they are
		var s string
		if json.Unmarshal([]byte(body), &s) == nil && c.Name() != "json" {
			return []byte(s), new([]byte), nil
		}
		if c.Name() == "json" || c.Name() == "raw" {
			return []byte(body), new([]byte), nil
		}
		return nil, nil, usageError("call: %s takes bytes: give them as a JSON string, or use --codec raw or json", method)
	case known:
		req := reflect.New(m.Request).Interface()
		dec := json.NewDecoder(strings.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(req); err != nil {
			return nil, nil, usageError("call: the request does not fit %s's request type %v: %v (see: rpcbench call Admin.Describe)", method, m.Request, err)
		}
		return req, reflect.New(m.Reply).Interface(), nil
	case c.Name() == "json":
		// Passed through as text, so large integers keep every digit.
		return json.RawMessage(body), new(json.RawMessage), nil
	}
	return nil, nil, errUnknownTypes{method}
}

// errUnknownTypes says that this binary does not have a method's types.
type errUnknownTypes struct{ method string }

func (e errUnknownTypes) Error() string {
	return fmt.Sprintf("call: this client does not know %s's request type", e.method)
}

// carriers lists the codecs that can encode req.
func carriers(req any) []string {
	var ok []string
	for _, name := range codecs.Names() {
		if c, _ := codecs.ByName(name); c != nil {
			if _, err := c.Marshal(nil, req); err == nil {
				ok = append(ok, name)
			}
		}
	}
	return ok
}

// knownMethods is the method table of the services this binary serves
// ('rpcbench serve' and 'rpcbench registry'), with their message types.
func knownMethods() map[string]rpcbench.MethodInfo {
	srv := rpcbench.NewServer(rpcbench.ServerOptions{})
	defer srv.Close()
	if err := services.Register(srv); err != nil {
		panic(err) // the built-in services register without fail
	}
	// The admin methods' types, though a server has them only with --admin
	// (the token here is never asked for: this server serves nothing).
	if err := admin.Register(srv, nil, "types only"); err != nil {
		panic(err)
	}
	if err := regserver.NewService(memreg.New(), regserver.Options{}).Register(srv); err != nil {
		panic(err)
	}
	out := map[string]rpcbench.MethodInfo{}
	for _, m := range srv.MethodInfo() {
		out[m.Name] = m
	}
	return out
}

// replyJSON renders a reply: JSON text as it came, bytes as a JSON string
// unless they are JSON themselves, and typed values through encoding/json.
func replyJSON(resp any) ([]byte, error) {
	switch r := resp.(type) {
	case *json.RawMessage:
		return *r, nil
	case *[]byte:
		if json.Valid(*r) {
			return bytes.TrimSpace(*r), nil
		}
		return json.Marshal(string(*r))
	}
	return json.Marshal(resp)
}

// clientSide is a failure of this client, before or after the server's
// part.
func clientSide(format string, args ...any) error {
	return exitError{1, fmt.Errorf("call: client-side: "+format, args...)}
}

// callError prints an RPC error as its code and message, labelling the
// client's own failures (a reply it cannot decode) as client-side.
func callError(err error, codec string) error {
	var e *rpcbench.Error
	if errors.As(err, &e) {
		if e.Code == rpcbench.CodeBadRequest && strings.Contains(e.Message, ": decoding "+codec+" reply: ") {
			return clientSide("%s", e.Message)
		}
		return exitError{1, fmt.Errorf("%s: %s", e.Code.Slug(), e.Message)}
	}
	return err
}
