// Package discovery is rpcbench's service addressing: the contract between
// providers, which announce the address and services of a running server,
// consumers, which look the providers of a service up and follow them as
// they come and go, and the registry between the two.
//
// A provider takes a lease with a TTL, registers its instances under it and
// renews it with heartbeats (Announce does all three, renewing at a third
// of the TTL). A registry drops every instance of a lease that was not
// renewed in time, so a provider that was killed disappears by itself; one
// that stops cleanly deregisters at once.
//
// Backends: memreg (embedded, in-process, the default), regserver (a
// memreg served over rpcbench's own RPC: `rpcbench registry`) and etcdreg
// (etcd leases and prefix watches). Open picks one by URL scheme.
package discovery
