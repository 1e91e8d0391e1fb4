package main

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"

	"rpcbench"
	"rpcbench/services/admin"
)

// describedMessages builds the request and a reply value of a method this
// binary does not know from the server's description of its methods
// (Admin.Describe; see admin.MethodDesc.Types).
func describedMessages(ctx context.Context, t rpcbench.Transport, addr, method, body string) (req, resp any, err error) {
	d, err := admin.FetchDescription(ctx, t, addr)
	if err != nil {
		return nil, nil, clientSide("this client does not know %s's request type and the server does not describe its methods (%v): call it with --codec json", method, callError(err, "json"))
	}
	md, err := d.Method(method)
	if err != nil {
		return nil, nil, usageError("call: %v", err)
	}
	if md.Request == "" { // a raw method: bytes as they are
		var s string
		if json.Unmarshal([]byte(body), &s) != nil {
			return nil, nil, usageError("call: %s takes bytes: give them as a JSON string", method)
		}
		return []byte(s), new([]byte), nil
	}
	reqT, respT, err := md.Types()
	if err != nil {
		return nil, nil, clientSide("%s: %v: call it with --codec json", method, err)
	}
	req = reflect.New(reqT).Interface()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(req); err != nil {
		return nil, nil, usageError("call: the request does not fit %s's request type %s: %v (see: rpcbench call Admin.Describe)", method, md.Request, err)
	}
	return req, reflect.New(respT).Interface(), nil
}
