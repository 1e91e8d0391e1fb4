package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"rpcbench"
)

func callCmd(args []string) error {
	fs := newFlagSet("call", "[flags] Service.Method [JSON request]")
	var tf transportFlags
	tf.register(fs, false, clientSide)
	addr := fs.String("addr", "127.0.0.1:7000", "server address")
	timeout := fs.Duration("timeout", 5*time.Second, "call deadline")
	codec := fs.String("codec", "json", "codec for the request and reply (JSON given on the command line is sent as is with json)")
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
	var req any
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		return usageError("call: request is not valid JSON: %v", err)
	}
	t, err := tf.build(tf.name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	c, err := rpcbench.Dial(ctx, t, *addr, rpcbench.ClientOptions{Codec: *codec, HeartbeatInterval: -1})
	if err != nil {
		return callError(err)
	}
	defer c.Close()
	var resp any
	if err := c.Call(ctx, method, req, &resp); err != nil {
		return callError(err)
	}
	out, err := json.Marshal(resp)
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}

// callError prints an RPC error as its code and message.
func callError(err error) error {
	var e *rpcbench.Error
	if errors.As(err, &e) {
		return exitError{1, fmt.Errorf("%s: %s", e.Code.Slug(), e.Message)}
	}
	return err
}
