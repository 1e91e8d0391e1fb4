package fleet

import (
	"fmt"
	"net/url"
	"strings"
)

// DefaultPrefix is where a fleet's keys live when the URL names none.
const DefaultPrefix = "/rpcbench/fleet/"

// Endpoint is where a fleet meets: etcd's endpoints and a key prefix.
type Endpoint struct {
	Endpoints []string
	Prefix    string // ends in "/"
}

// ParseURL reads "etcd://HOST:PORT[,HOST:PORT...][/PREFIX]".
func ParseURL(s string) (Endpoint, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "etcd" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return Endpoint{}, fmt.Errorf("fleet: %q: want etcd://HOST:PORT[,HOST:PORT...][/PREFIX]", s)
	}
	e := Endpoint{Prefix: u.Path}
	for _, h := range strings.Split(u.Host, ",") {
		if h == "" || strings.ContainsAny(h, " /") {
			return Endpoint{}, fmt.Errorf("fleet: %q: empty or malformed endpoint %q", s, h)
		}
		e.Endpoints = append(e.Endpoints, "http://"+h)
	}
	if e.Prefix == "" || e.Prefix == "/" {
		e.Prefix = DefaultPrefix
	}
	if !strings.HasSuffix(e.Prefix, "/") {
		e.Prefix += "/"
	}
	return e, nil
}

// String is the URL again.
func (e Endpoint) String() string {
	hosts := make([]string, len(e.Endpoints))
	for i, h := range e.Endpoints {
		hosts[i] = strings.TrimPrefix(h, "http://")
	}
	return "etcd://" + strings.Join(hosts, ",") + strings.TrimSuffix(e.Prefix, "/")
}
