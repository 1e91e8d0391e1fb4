// Package regserver is the standalone registry: a memreg served over
// rpcbench's own RPC (`rpcbench registry --addr ...`), and the client that
// implements the discovery contract against it, for several processes on
// one host.
//
// Methods (JSON codec); every request also carries "token" (the registry's
// shared token, if it was started with one) and "owner" (a secret each
// client draws at random, which makes the leases it grants its own):
//
//	Registry.Grant       {ttl_ms}                          -> {lease}
//	Registry.Register    {lease, instance}                 -> {lease_not_found}
//	Registry.KeepAlive   {lease}                           -> {lease_not_found}
//	Registry.Deregister  {lease}                           -> {lease_not_found}
//	Registry.Resolve     {service}                         -> {instances, epoch, revision}
//	Registry.Watch       {service, epoch, revision, wait_ms} -> {instances, epoch, revision}
//	Registry.Services    {}                                -> {services}
//
// Watch is a long poll: it answers as soon as the service's state differs
// from the (epoch, revision) the caller last saw, or after wait_ms with the
// same state. The epoch is drawn at random when the registry starts, so a
// restarted registry is never mistaken for the one before.
//
// Lease IDs are drawn from crypto/rand; only a lease's owner can renew,
// end or register with it, an instance held by another owner's live lease
// cannot be taken over, TTLs are bounded, and leases are capped per owner
// and in all (see Options).
//
// URLs for discovery.Open: "rpcbench://host:port" (TCP) and
// "rpcbench+TRANSPORT://address", e.g. "rpcbench+unix:///run/reg.sock".
// TRANSPORT is looked up in package transports when the URL is opened, so
// its package must be linked: tcp and unix always are (this package
// imports transports/tcp); transports/all links every one.
package regserver

import "rpcbench/discovery"

// Method names.
const (
	MethodGrant      = "Registry.Grant"
	MethodRegister   = "Registry.Register"
	MethodKeepAlive  = "Registry.KeepAlive"
	MethodDeregister = "Registry.Deregister"
	MethodResolve    = "Registry.Resolve"
	MethodWatch      = "Registry.Watch"
	MethodServices   = "Registry.Services"
)

// codec is the codec of every registry call.
const codec = "json"

// auth is what every request carries.
type auth struct {
	Token string `json:"token,omitempty"`
	Owner string `json:"owner,omitempty"`
}

func (a *auth) creds() *auth { return a }

type grantArgs struct {
	auth
	TTLMillis int64 `json:"ttl_ms"`
}

type grantReply struct {
	Lease discovery.LeaseID `json:"lease"`
}

type registerArgs struct {
	auth
	Lease    discovery.LeaseID  `json:"lease"`
	Instance discovery.Instance `json:"instance"`
}

type leaseArgs struct {
	auth
	Lease discovery.LeaseID `json:"lease"`
}

// leaseReply says whether the lease existed; a missing lease is an answer,
// not a failure of the call.
type leaseReply struct {
	LeaseNotFound bool `json:"lease_not_found,omitempty"`
}

type resolveArgs struct {
	auth
	Service string `json:"service"`
}

type watchArgs struct {
	auth
	Service    string `json:"service"`
	Epoch      uint64 `json:"epoch"`
	Revision   uint64 `json:"revision"`
	WaitMillis int64  `json:"wait_ms"`
}

type servicesArgs struct {
	auth
}

type servicesReply struct {
	Services []string `json:"services"`
}

type snapshotReply struct {
	Instances []discovery.Instance `json:"instances"`
	Epoch     uint64               `json:"epoch"`
	Revision  uint64               `json:"revision"`
}
