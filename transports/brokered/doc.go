// Package brokered carries rpcbench's frames through a message broker: the
// part that RPC over NATS (package nats) and over RabbitMQ (package amqp)
// share. A broker has no connections between callers and services, only
// messages, so this package builds the transport's connections out of
// them.
//
//   - A client connection (Conn) is one connection to the broker with a
//     reply address of its own (a NATS inbox, an exclusive AMQP queue). Each
//     request is one message to the service's address carrying one frame
//     (package wire, unchanged), its request ID as the correlation ID, the
//     reply address, and an expiry taken from the call's deadline. Replies
//     come back as messages to the reply address. The core's pending-call
//     table matches replies to calls by request ID, as over TCP: the
//     broker's correlation ID is that same number, for the broker's tools
//     and for the one case the broker answers itself (no service consumes
//     the request: the call fails with unavailable at once).
//   - A server (Listener) consumes the service's request address. Each
//     distinct reply address it hears from is a session (what a TCP
//     connection is to the core): created by its first message, ended when
//     the server closes it, when the broker connection is lost, or after an
//     idle time (clients' heartbeats keep live ones busy).
//
// What differs between brokers is a Link (client side) or a ServerLink
// (server side): a few methods that publish and deliver messages.
//
// Bytes on the wire (package wirestats) are the messages' bodies, the
// frames, handed to and taken from the broker: the broker protocol's own
// headers and the broker's hop between publisher and consumer are not in
// them.
//
// Addresses are URLs, SCHEME://[USER[:PASSWORD]@]HOST:PORT[/SERVICE]: the
// broker and the service's request address on it (default "rpcbench").
package brokered
